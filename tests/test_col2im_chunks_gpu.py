"""Col2Im's chunk kernel on a GPU, bit for bit: the plugin (through the plugin host) against a
float32 loop that sums in the kernel's stated order (plugins/col2im/col2im_chunks.cuh), for fp32,
fp16 and bf16, aligned input (16-byte vector loads, predicated, shifted and masked on the device)
and input one element off (element loads). tests/col2im_emulation.cu checks the same logic on the
host; this checks the device-only parts (inline PTX loads, byte permutes, funnel shifts, the
16-bit conversions) and the benchmark's geometry."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view
from tests.test_col2im import counts, create

# (image, block, dilations, pads, strides): the benchmark's rows, odd widths with row tails,
# dilations, wide end pads, blocks wider than four (two groups), 1-D and 3-D, a stride-2 last axis.
GEOMETRIES = [
    ([6, 128], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1]),
    ([9, 37], [3, 4], [2, 3], [2, 1, 0, 3], [2, 1]),
    ([53], [5], [2], [3, 6], [1]),
    ([6, 30], [2, 7], [1, 1], [0, 0, 3, 3], [1, 1]),
    ([4, 5, 19], [2, 3, 3], [1, 1, 2], [0, 1, 1, 1, 0, 2], [1, 2, 1]),
    ([13, 10], [3, 3], [2, 1], [2, 1, 1, 0], [3, 2]),
]


def last_axis_sum(value, terms, k_step: int, zeros: np.ndarray) -> np.ndarray:
    """((v0 + v1) + (v2 + v3)) over groups of four consecutive indices k // k_step, in float32."""
    groups: dict[int, list] = {}
    for k, b in terms:  # k ascending: the groups in order
        groups.setdefault(k // k_step // 4, [zeros] * 4)[k // k_step % 4] = value(k, b)
    total = zeros
    for v in groups.values():
        total = total + ((v[0] + v[1]) + (v[2] + v[3]))
    return total


def ordered_fold(x32: np.ndarray, image, block, dilations, pads, strides) -> np.ndarray:
    """Col2Im in float32, each output summed in the kernel's order: axes outer to inner, kernel
    offsets ascending, the last axis by last_axis_sum. Vectorized over (N, C)."""
    n = len(image)
    batch, kc, length = x32.shape
    kernel = math.prod(block)
    cols = x32.reshape(batch, kc // kernel, kernel, length)
    count = counts(image, block, dilations, pads, strides)
    y = np.zeros((batch, kc // kernel, *image), np.float32)

    def terms(d: int, p: int) -> list[tuple[int, int]]:
        at = [(k, p + pads[d] - k * dilations[d]) for k in range(block[d])]
        return [(k, a // strides[d]) for k, a in at if a >= 0 and a % strides[d] == 0 and a // strides[d] < count[d]]

    zeros = np.zeros(y.shape[:2], np.float32)

    def axis_sum(pos, d: int, k_off: int, l_off: int) -> np.ndarray:
        here = terms(d, pos[d])
        if d == n - 1:
            k_step = strides[d] // math.gcd(strides[d], dilations[d])
            return last_axis_sum(
                lambda k, b: cols[:, :, k_off * block[d] + k, l_off * count[d] + b], here, k_step, zeros
            )
        total = zeros
        for k, b in here:
            total = total + axis_sum(pos, d + 1, k_off * block[d] + k, l_off * count[d] + b)
        return total

    for pos in itertools.product(*map(range, image)):
        y[(slice(None), slice(None), *pos)] = axis_sum(pos, 0, 0, 0)
    return y


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "offset"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{g[0]}-{g[1]}-s{g[4][-1]}")
def test_plugin_sums_in_the_stated_order(library, cp, geometry, dtype, offset) -> None:
    image, block, dilations, pads, strides = geometry
    rng = np.random.default_rng(len(image) * 100 + image[-1])
    shape = (2, 8 * math.prod(block), math.prod(counts(image, block, dilations, pads, strides)))
    magnitudes = np.ldexp(1.0, rng.integers(-6, 7, size=shape))  # sums whose rounding depends on the order
    x = host_values(rng.standard_normal(shape) * magnitudes, dtype)
    expected = host_values(ordered_fold(x.astype(np.float32), *geometry), dtype).astype(np.float64)
    plugin = create(library, dilations=dilations, pads=pads, strides=strides)
    _, y = poisoned_view(cp, expected.shape, dtype, offset)
    plugin.run([offset_view(cp, x, offset), cp.asarray(block, dtype=cp.int64)], [y], shape_inputs=[image, block])
    got = as_float64(y)
    assert np.array_equal(got, expected), f"{np.count_nonzero(got != expected)} of {got.size} outputs differ"
