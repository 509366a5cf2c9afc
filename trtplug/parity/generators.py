"""Named input generators for parity cases whose inputs must be consistent with each other, not
independent random draws (a spec names one in [parity] `generator`).

Each takes the case's input shapes, attributes and a seeded Generator and returns float32 (or
integer) arrays for the inputs it produces; inputs it leaves out are drawn as usual. One listed in
TAKES_CASE_VALUES also gets the case's fixed input values (`values` in [[parity.cases]]) and
derives the rest from them (GroupQueryAttention's windowed cases fix seqlens_k).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from trtplug.parity.attention_inputs import (
    bert_attention_inputs,
    group_query_attention_inputs,
    multi_head_attention_inputs,
)
from trtplug.parity.linear_attention_inputs import linear_attention_inputs
from trtplug.parity.roi_inputs import roi_align_regions
from trtplug.protolib.axes import AXIS_ABSENT

Generator = Callable[[dict[str, tuple[int, ...]], dict[str, Any], np.random.Generator], dict[str, np.ndarray]]


def max_pool_outputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """X and I as MaxPool (kernel_shape, strides, pads) produces them from a random tensor Z of
    MaxUnpool's inferred output shape: X the window maxima, I their flat indices into Z. Windows
    that overlap may pick the same element: such duplicates carry the same value, as in real models."""
    x_shape = shapes["X"]
    kernel = list(attrs["kernel_shape"])
    spatial = len(kernel)
    strides = list(attrs.get("strides") or [1] * spatial)
    pads = list(attrs.get("pads") or [0] * 2 * spatial)
    inferred = [(x_shape[2 + d] - 1) * strides[d] - pads[d] - pads[spatial + d] + kernel[d] for d in range(spatial)]
    z = rng.standard_normal((*x_shape[:2], *inferred)).astype(np.float32) * 2.0
    flat = np.arange(z.size, dtype=np.int64).reshape(z.shape)
    pad_width = [(0, 0), (0, 0)] + [(pads[d], pads[spatial + d]) for d in range(spatial)]
    z_padded = np.pad(z, pad_width, constant_values=-np.inf)
    flat_padded = np.pad(flat, pad_width, constant_values=-1)
    windows = np.lib.stride_tricks.sliding_window_view(z_padded, kernel, axis=tuple(range(2, 2 + spatial)))
    index_windows = np.lib.stride_tricks.sliding_window_view(flat_padded, kernel, axis=tuple(range(2, 2 + spatial)))
    step = (slice(None), slice(None), *(slice(None, None, s) for s in strides))
    windows, index_windows = windows[step], index_windows[step]
    windows = windows[tuple(slice(0, n) for n in x_shape)]
    index_windows = index_windows[tuple(slice(0, n) for n in x_shape)]
    cells = windows.reshape(*x_shape, -1)
    best = np.argmax(cells, axis=-1)[..., None]
    values = np.take_along_axis(cells, best, -1)[..., 0]
    indices = np.take_along_axis(index_windows.reshape(*x_shape, -1), best, -1)[..., 0]
    return {"X": values.astype(np.float32), "I": indices.astype(np.int64)}


def _signed(rng: np.random.Generator, index: np.ndarray, dim: int) -> np.ndarray:
    """Half of the indices written from the end (negative), as ONNX allows."""
    return np.where(rng.random(index.shape) < 0.5, index - dim, index).astype(np.int64)


def scatter_elements_indices(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """ScatterElements indices along `axis`: distinct within each line for reduction "none" (whose
    duplicates have no defined winner), drawn with repeats for the reductions."""
    data, shape = shapes["data"], shapes["indices"]
    axis = attrs.get("axis", 0) % len(data)
    dim = data[axis]
    if attrs.get("reduction", "none") != "none" or 0 in shape:
        return {"indices": _signed(rng, rng.integers(0, dim, shape), dim)}
    lines = np.moveaxis(np.empty(shape, dtype=np.int64), axis, -1)
    flat = lines.reshape(-1, shape[axis])
    for row in flat:
        row[:] = rng.permutation(dim)[: shape[axis]]
    return {"indices": _signed(rng, np.moveaxis(flat.reshape(lines.shape), -1, axis), dim)}


def scatter_nd_indices(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """ScatterND index tuples into data's leading axes: distinct for reduction "none", drawn with
    repeats for the reductions."""
    data, shape = shapes["data"], shapes["indices"]
    k, slices = shape[-1], int(np.prod(shape[:-1]))
    cells = int(np.prod(data[:k]))
    if attrs.get("reduction", "none") == "none":
        flat = rng.permutation(cells)[:slices]
    else:
        flat = rng.integers(0, cells, slices)
    tuples = np.stack(np.unravel_index(flat, data[:k]), axis=-1).reshape(shape)
    return {"indices": _signed(rng, tuples, np.asarray(data[:k]))}


FP16_EXACT_INTEGERS = 2048  # fp16 holds every integer in [-2048, 2048] exactly


def unique_repeats(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Unique's X with repeats (random normals would be almost all distinct). Flattened (axis
    INT32_MIN): integers in a range of a quarter of the element count (all equal below 8
    elements); past 2048 of them, 2048 integers times 2**0..2**4, so that every value stays
    exact in fp16 (a wider range rounded there, and overflowed to inf past 65504). Along an axis:
    each slice drawn from a pool of a third as many random slices of integers in [-8, 8) (all
    equal below 6 slices), so the lexicographic comparison sees ties."""
    shape = shapes["X"]
    axis = attrs.get("axis", AXIS_ABSENT)
    if axis == AXIS_ABSENT:
        wanted = max(1, int(np.prod(shape)) // 4)
        span = min(wanted, FP16_EXACT_INTEGERS)
        values = rng.integers(0, span, shape) - span // 2
        if wanted > span:
            values = values * 2 ** rng.integers(0, 5, shape)
        return {"X": values.astype(np.float32)}
    axis %= len(shape)
    rest = (*shape[:axis], *shape[axis + 1 :])
    pool = rng.integers(-8, 8, (max(1, shape[axis] // 3), *rest))
    slices = pool[rng.integers(0, len(pool), shape[axis])]
    return {"X": np.moveaxis(slices, 0, axis).astype(np.float32)}


def mostly_zeros(
    shapes: dict[str, tuple[int, ...]],
    attrs: dict[str, Any],
    rng: np.random.Generator,
    values: dict[str, tuple[Any, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """NonZero's X: three quarters zeros (half of them -0.0, which is zero too), the rest integers
    in [-3, 3], exact in every type X runs in (bool: non-zero is True). A case's fixed values stand."""
    shape = shapes["X"]
    if values and "X" in values:
        return {"X": np.array(values["X"], dtype=np.float32).reshape(shape)}
    zeros = np.where(rng.random(shape) < 0.5, np.float32(-0.0), np.float32(0.0))
    magnitudes = rng.integers(1, 4, shape) * rng.choice(np.array([-1, 1]), shape)
    return {"X": np.where(rng.random(shape) < 0.25, magnitudes.astype(np.float32), zeros)}


def signed_near_one(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """x = +-(1 + 0.02 z), random signs: running sums stay near sqrt(length) and running products
    near 1 in magnitude over 100000 elements (normal draws would overflow or vanish a product within
    a few hundred), so scans of every length compare finite values. Integer runs truncate these to
    -1, 0 and 1."""
    shape = shapes["x"]
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), shape)
    return {"x": (signs * (1 + 0.02 * rng.standard_normal(shape))).astype(np.float32)}


def matmul_nbits_weights(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """MatMulNBits' quantized weights: B random bytes, scales positive and scaled by 1 / sqrt(K) so
    that Y stays of unit size for every K, as in trained layers (an error relative to Y's typical
    size is then what the tolerances measure, for K = 16 as for K = 4096), zero points of
    rank 2 packed uint8 bytes (every code in range), of rank 1 floats in [0, 2^bits - 1] (then
    cast to A's type), and g_idx a permutation of the natural block of each k (act-order)."""
    bits, block = attrs.get("bits", 4), attrs["block_size"]
    out = {"B": rng.integers(0, 256, shapes["B"], dtype=np.uint8)}
    levels = 2**bits
    unit = 2.0 / levels / np.sqrt(attrs["K"])
    out["scales"] = (rng.uniform(0.5, 1.5, shapes["scales"]) * unit).astype(np.float32)
    if "zero_points" in shapes:
        zp_shape = shapes["zero_points"]
        if len(zp_shape) == 2:
            out["zero_points"] = rng.integers(0, 256, zp_shape, dtype=np.uint8)
        else:
            out["zero_points"] = rng.uniform(0, levels - 1, zp_shape).astype(np.float32)
    if "g_idx" in shapes:
        k = shapes["g_idx"][0]
        out["g_idx"] = rng.permutation(np.arange(k) // block).astype(np.int32)
    return out


def gather_block_quantized_inputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """GatherBlockQuantized's table: random bytes for data and zero points (every code in range),
    scales positive; indices over [-s, s) along gather_axis (s in codes: the packed last axis
    unpacked), one in eight out of range (the op writes zeros there); int32 when 1-D, else int64."""
    data, shape = shapes["data"], shapes["indices"]
    axis = attrs.get("gather_axis", 0) % len(data)
    dim = data[axis] * (8 // attrs.get("bits", 4) if axis == len(data) - 1 else 1)
    index = rng.integers(-dim, max(dim, 1), shape)
    index = np.where(rng.random(shape) < 0.125, index + np.where(index < 0, -dim, dim), index)
    out = {
        "data": rng.integers(0, 256, data, dtype=np.uint8),
        "indices": index.astype(np.int32 if len(shape) == 1 else np.int64),
        "scales": rng.uniform(0.5, 1.5, shapes["scales"]).astype(np.float32) / 8,
    }
    if "zero_points" in shapes:
        out["zero_points"] = rng.integers(0, 256, shapes["zero_points"], dtype=np.uint8)
    return out


QMOE_PROJECTIONS = ("fc1", "fc2", "fc3")


def qmoe_inputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """QMoE's quantized experts: codes and zero points random bytes (every code in range, the
    padding bits of a column-wise zero-point row too), scales positive and sized sqrt(6) / 2^bits /
    sqrt(K), so that a projection keeps its input's size at every bit width and K (a code minus a
    zero point spreads over about 2^bits / sqrt(6)): outputs stay of unit size for 2-bit as for
    8-bit cases. router_weights positive (as sigmoid scores), one in four negated when
    normalize_routing_weights is 0 (ONNX Runtime's CPU kernel drops a route of weight <= 0;
    normalized, a sum near zero would blow the weights up). MXFP4 (quant_type fp4): E2M1 codes
    random bytes, E8M0 scales within one of the unit size, global scales in [0.5, 2)."""
    out: dict[str, np.ndarray] = {}
    for p in QMOE_PROJECTIONS:
        weights = f"{p}_experts_weights"
        if weights not in shapes:
            continue
        if attrs.get("quant_type") == "fp4":  # MXFP4: codes [E, K, N / 2], E8M0 scale bytes [E, N, K / 32]
            out[weights] = rng.integers(0, 256, shapes[weights], dtype=np.uint8)
            # Random E2M1 values have rms ~2.9: 2^(e - 127) ~ 1 / (2.9 sqrt(K)) keeps unit outputs.
            centre = 127 - round(np.log2(2.9 * np.sqrt(shapes[weights][1])))
            if f"{p}_scales" in shapes:
                out[f"{p}_scales"] = rng.integers(centre - 1, centre + 2, shapes[f"{p}_scales"]).astype(np.uint8)
            if f"{p}_global_scale" in shapes:
                out[f"{p}_global_scale"] = rng.uniform(0.5, 2.0, shapes[f"{p}_global_scale"]).astype(np.float32)
            continue
        bits = int(attrs.get(f"{p}_expert_weight_bits", 0) or attrs.get("expert_weight_bits", 4))
        k = max(1, shapes[weights][-1] * 8 // bits)
        out[weights] = rng.integers(0, 256, shapes[weights], dtype=np.uint8)
        if f"{p}_scales" in shapes:
            unit = np.sqrt(6.0) / 2**bits / np.sqrt(k)
            out[f"{p}_scales"] = (rng.uniform(0.5, 1.5, shapes[f"{p}_scales"]) * unit).astype(np.float32)
        if f"{p}_zero_points" in shapes:
            out[f"{p}_zero_points"] = rng.integers(0, 256, shapes[f"{p}_zero_points"], dtype=np.uint8)
    if "router_weights" in shapes:
        shape = shapes["router_weights"]
        weights = rng.uniform(0.1, 1.0, shape)
        if not attrs.get("normalize_routing_weights", 0):
            weights = np.where(rng.random(shape) < 0.25, -weights, weights)
        out["router_weights"] = weights.astype(np.float32)
    return out


GENERATORS: dict[str, Generator] = {
    "bert_attention_inputs": bert_attention_inputs,
    "signed_near_one": signed_near_one,
    "gather_block_quantized_inputs": gather_block_quantized_inputs,
    "group_query_attention_inputs": group_query_attention_inputs,
    "linear_attention_inputs": linear_attention_inputs,
    "matmul_nbits_weights": matmul_nbits_weights,
    "max_pool_outputs": max_pool_outputs,
    "mostly_zeros": mostly_zeros,
    "multi_head_attention_inputs": multi_head_attention_inputs,
    "qmoe_inputs": qmoe_inputs,
    "roi_align_regions": roi_align_regions,
    "scatter_elements_indices": scatter_elements_indices,
    "scatter_nd_indices": scatter_nd_indices,
    "unique_repeats": unique_repeats,
}

TAKES_CASE_VALUES = {"group_query_attention_inputs", "mostly_zeros"}


def generate(
    name: str,
    shapes: dict[str, tuple[int, ...]],
    attrs: dict[str, Any],
    rng: np.random.Generator,
    values: dict[str, tuple[Any, ...]],
) -> dict[str, np.ndarray]:
    """Generator `name`'s inputs for a case, handing it the case's fixed values where it takes them."""
    if name in TAKES_CASE_VALUES:
        return GENERATORS[name](shapes, attrs, rng, values=values)
    return GENERATORS[name](shapes, attrs, rng)
