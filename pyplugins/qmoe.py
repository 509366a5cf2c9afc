"""QMoE prototype (com.microsoft QMoE): MoE (pyplugins/moe.py: routing, activations, combine) on
weight-only quantized experts, each expert's projections dequantized to float32 when a route
first needs them. NumPy on the CPU, CuPy on the GPU.

fc*_experts_weights [E, N, K * bits / 8] uint8 hold each row's K codes low bits first; bits per
projection: fc*_expert_weight_bits, else expert_weight_bits. dequant[e, n, k] = (q - zp) * scale,
scale fc*_scales[e, n, k // block_size] ([E, N, K / block_size]) or, with block_size 0, per
column fc*_scales[e, n] ([E, N]); zp from fc*_zero_points packed the same way along the block axis
([E, N, ceil(blocks * bits / 8)]) or, column-wise, along N ([E, ceil(N * bits / 8)]); absent:
2^(bits - 1). router_weights, when given, weighs the routes router_probs chooses (its values at
the chosen experts, no softmax; see moe.routes); a route of weight <= 0 adds nothing.

quant_type "fp4" (MXFP4): fc*_experts_weights [E, K, N / 2] hold FP4 E2M1 codes, two output
columns a byte (even column in the low nibble); fc*_scales [E, N, K / 32] E8M0 bytes (uint8; 255 is
NaN); fc1/fc2_global_scale [E] float32 (absent: 1). dequant[e, n, k] = e2m1(code) *
2^(scale[e, n, k // 32] - 127) * global[e].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.pyplugins import moe

from trtplug.protolib.packed_codes import unpack_last_axis
from trtplug.registry import builtin_plugins_dir
from trtplug.spec import load_spec

BENCH_BITS, BENCH_BLOCK = 4, 32  # GenAI's int4 default: block 32
PROJECTIONS = ("fc1", "fc2", "fc3")
# The node's inputs in order, as the spec lists them (ONNX Runtime's QMoE schema order).
INPUTS = tuple(t.name for t in load_spec(builtin_plugins_dir() / "qmoe" / "spec.toml").inputs)


def _given(array: Any) -> bool:
    return array is not None and array.size > 0


def bits_of(attrs: Mapping[str, Any], projection: str) -> int:
    """The projection's bit width: fc*_expert_weight_bits when set (0: not set), else expert_weight_bits."""
    return int(attrs.get(f"{projection}_expert_weight_bits", 0) or attrs.get("expert_weight_bits", 4))


def _zero_points(xp: ModuleType, packed: Any, bits: int, shape: tuple[int, ...]) -> Any:
    """float32 zero points of `shape`: the leading codes of each packed row (the padding codes of
    the row's last byte dropped), or 2^(bits - 1) everywhere when absent."""
    if not _given(packed):
        return xp.full(shape, 2 ** (bits - 1), dtype=xp.float32)
    return unpack_last_axis(xp, packed, bits)[..., : shape[-1]].astype(xp.float32)


def dequantize(xp: ModuleType, packed: Any, scales: Any, zero_points: Any, bits: int, block: int) -> Any:
    """One expert's weights [N, K] in float32 from its packed codes [N, K * bits / 8], scales
    ([N, K / block] or, block 0, [N]) and packed zero points ([N, ceil(blocks * bits / 8)] or, block
    0, [ceil(N * bits / 8)]; None: 2^(bits - 1))."""
    codes = unpack_last_axis(xp, packed, bits).astype(xp.float32)
    rows, k = codes.shape
    scale = scales.astype(xp.float32)
    if block > 0:
        blocks = k // block
        zero = _zero_points(xp, zero_points, bits, (rows, blocks))
        grouped = (codes.reshape(rows, blocks, block) - zero[..., None]) * scale.reshape(rows, blocks, 1)
        return grouped.reshape(rows, k)
    zero = _zero_points(xp, zero_points, bits, (rows,))
    return (codes - zero[:, None]) * scale.reshape(rows, 1)


E2M1 = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)
MX_BLOCK = 32


def is_mxfp4(attrs: Mapping[str, Any]) -> bool:
    quant = attrs.get("quant_type", "int")
    return (quant.decode() if isinstance(quant, bytes) else str(quant)) == "fp4"


def dequantize_mxfp4(xp: ModuleType, packed: Any, scales: Any, global_scale: Any) -> Any:
    """One expert's MXFP4 weights [N, K] in float32 from its codes [K, N / 2] (even column in the
    low nibble), E8M0 scale bytes [N, K / 32] (255: NaN) and global scale (None: 1)."""
    lut = xp.asarray(E2M1, dtype=xp.float32)
    codes = xp.stack([packed & 15, packed >> 4], axis=-1).reshape(packed.shape[0], -1)  # [K, N]
    values = lut[codes.astype(xp.int32)].T  # [N, K]
    nan = scales == 255
    scale = xp.exp2(xp.where(nan, 127, scales).astype(xp.float32) - 127.0).astype(xp.float32)
    scale = xp.where(nan, xp.float32(xp.nan), scale)
    if global_scale is not None:
        scale = scale * global_scale  # a float32 scalar (0-d array)
    rows, k = values.shape
    return (values.reshape(rows, k // MX_BLOCK, MX_BLOCK) * scale[..., None]).reshape(rows, k)


def _projection(xp: ModuleType, tensors: dict[str, Any], attrs: Mapping[str, Any], p: str, k: int) -> Any:
    """moe.Projection of fc1/fc2/fc3 over the packed weights (None when absent): expert e's
    weights dequantized on demand, its bias in float32."""
    packed, scales = tensors[f"{p}_experts_weights"], tensors[f"{p}_scales"]
    if not _given(packed):
        return None
    if is_mxfp4(attrs):
        if packed.shape[-2] != k:
            raise ValueError(f"QMoE fp4: {p}_experts_weights has {packed.shape[-2]} rows (K), expected {k}")
        glob, bias = tensors.get(f"{p}_global_scale"), tensors[f"{p}_experts_bias"]
        glob = glob.astype(xp.float32) if _given(glob) else None
        bias = bias.astype(xp.float32) if _given(bias) else None
        return lambda e: (
            dequantize_mxfp4(xp, packed[e], scales[e], None if glob is None else glob[e]),
            None if bias is None else bias[e],
        )
    bits, block = bits_of(attrs, p), int(attrs.get("block_size", 0))
    if packed.shape[-1] * 8 != k * bits:
        raise ValueError(
            f"QMoE: {p}_experts_weights has {packed.shape[-1]} bytes a row, expected {k} codes of {bits} bits"
        )
    zero, bias = tensors[f"{p}_zero_points"], tensors[f"{p}_experts_bias"]
    bias = bias.astype(xp.float32) if _given(bias) else None
    return lambda e: (
        dequantize(xp, packed[e], scales[e], zero[e] if _given(zero) else None, bits, block),
        None if bias is None else bias[e],
    )


def node_problem(
    shapes: Mapping[str, Any], attrs: Mapping[str, Any], dtypes: Mapping[str, str | None] | None = None
) -> str | None:
    """Rewrite time: weights whose static shapes are not the raw [E, N, K * bits / 8] layout the
    plugin reads. ONNX Runtime GenAI's CUDA builds leave weights_prepacked out (ONNX Runtime: "the
    execution provider's prepacked layout") and ship CUTLASS-prepacked codes, [E, K, N / 2]: fused
    gate/up weights can never pass for raw ones (fc2 gives hidden and inter; fc1 needs 2 * inter
    rows of hidden codes), so such a node is refused here rather than by the engine build."""
    problem = moe.node_problem(shapes, attrs) or _mxfp4_scale_type_problem(dtypes or {}, attrs)
    if problem:
        return problem
    if not is_mxfp4(attrs) and any(n in shapes for n in ("fc1_global_scale", "fc2_global_scale")):
        return "fc1_global_scale / fc2_global_scale are taken only with quant_type fp4 (MXFP4)"
    fc1, fc2, x = (shapes.get(n) for n in ("fc1_experts_weights", "fc2_experts_weights", "input"))
    dims = [*(fc1 or ()), *(fc2 or ())]
    if fc1 is None or fc2 is None or len(fc1) != 3 or len(fc2) != 3 or not all(isinstance(d, int) for d in dims):
        return None
    if is_mxfp4(attrs):
        return _mxfp4_problem(fc1, fc2, x, attrs)
    hidden, inter = fc2[1], fc2[2] * 8 // bits_of(attrs, "fc2")
    fused = attrs.get("activation_type") in ("swiglu", "geglu") and int(attrs.get("swiglu_fusion", 0)) != 0
    want = (fc1[0], (2 if fused else 1) * inter, hidden * bits_of(attrs, "fc1") // 8)
    hidden_given = x[-1] if x and isinstance(x[-1], int) else hidden
    if tuple(fc1) == want and hidden_given == hidden:
        return None
    return (
        f"fc1_experts_weights {list(fc1)} is not QMoE's raw layout [E, N, K * bits / 8] (expected {list(want)} "
        f"from fc2_experts_weights {list(fc2)}: hidden {hidden}, inter {inter}); ONNX Runtime GenAI's CUDA builds "
        "ship CUTLASS-prepacked weights ([E, K, N / 2]) with weights_prepacked left out, which only ONNX Runtime's "
        "CUDA kernel reads: build with --extra_options qmoe_weights_prepacked=0, or for another execution provider"
    )


def _mxfp4_scale_type_problem(dtypes: Mapping[str, str | None], attrs: Mapping[str, Any]) -> str | None:
    """MXFP4 block scales are E8M0 bytes (FLOAT8E8M0, read as uint8): float scales belong to
    quant_type int, and the plugin would refuse them only at engine build."""
    if not is_mxfp4(attrs):
        return None
    for name in ("fc1_scales", "fc2_scales", "fc3_scales"):
        dtype = dtypes.get(name)
        if dtype not in (None, "uint8", "float8e8m0"):
            return f"quant_type fp4 (MXFP4) takes E8M0 block scales (float8e8m0 or uint8); {name} is {dtype}"
    return None


def _mxfp4_problem(fc1: Sequence[int], fc2: Sequence[int], x: Any, attrs: Mapping[str, Any]) -> str | None:
    """MXFP4's codes are [E, K, N / 2]: fc2 [E, inter, hidden / 2] gives fc1's expected shape."""
    hidden, inter = fc2[2] * 2, fc2[1]
    fused = attrs.get("activation_type") in ("swiglu", "geglu") and int(attrs.get("swiglu_fusion", 0)) != 0
    want = (fc2[0], hidden, (2 if fused else 1) * inter // 2)
    hidden_given = x[-1] if x and isinstance(x[-1], int) else hidden
    if tuple(fc1) != want or hidden_given != hidden:
        return (
            f"fc1_experts_weights {list(fc1)} is not QMoE's MXFP4 layout [E, K, N / 2] (expected {list(want)} from "
            f"fc2_experts_weights {list(fc2)}: hidden {hidden}, inter {inter})"
        )
    if hidden % MX_BLOCK or inter % MX_BLOCK:
        return f"quant_type fp4 needs hidden ({hidden}) and inter ({inter}) sizes that are multiples of 32"
    return None


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    tensors = dict(zip(INPUTS, list(inputs) + [None] * (len(INPUTS) - len(inputs)), strict=True))
    hidden = tensors["input"].shape[-1]
    x = tensors["input"].astype(xp.float32).reshape(-1, hidden)
    router = tensors["router_probs"]
    router = router.astype(xp.float32).reshape(x.shape[0], router.shape[-1])
    mixing = tensors["router_weights"]
    mixing = mixing.astype(xp.float32).reshape(router.shape) if _given(mixing) else None
    fc2 = tensors["fc2_experts_weights"]
    inter = fc2.shape[-2] if is_mxfp4(attrs) else fc2.shape[-1] * 8 // bits_of(attrs, "fc2")
    widths = {"fc1": hidden, "fc2": inter, "fc3": hidden}
    projections = tuple(_projection(xp, tensors, attrs, p, widths[p]) for p in PROJECTIONS)
    y = moe.mixture(xp, x, router, projections, attrs, mixing)
    outputs[0][...] = y.reshape(outputs[0].shape).astype(outputs[0].dtype)


def _bench_size(nbytes: int, itemsize: int) -> int:
    """hidden = inter sized so the experts' int4 codes (1.5 d^2 bytes each) and block-32 scales
    (3 d^2 / 32 items) fill the request, at most gpt-oss's 2880."""
    per_d2 = moe.BENCH_EXPERTS * (3 * BENCH_BITS / 8 + 3 * itemsize / BENCH_BLOCK)
    d = int((nbytes / per_d2) ** 0.5) // BENCH_BLOCK * BENCH_BLOCK
    return max(BENCH_BLOCK, min(moe.BENCH_HIDDEN, d))


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """gpt-oss's layout (fused swiglu, biases) in int4 blocks of 32, 32 experts, 16 tokens."""
    d, e, tokens = _bench_size(nbytes, itemsize), moe.BENCH_EXPERTS, 16
    packed, blocks = d * BENCH_BITS // 8, d // BENCH_BLOCK
    return {
        "input": (tokens, d),
        "router_probs": (tokens, e),
        "fc1_experts_weights": (e, 2 * d, packed),
        "fc1_scales": (e, 2 * d, blocks),
        "fc1_experts_bias": (e, 2 * d),
        "fc2_experts_weights": (e, d, packed),
        "fc2_scales": (e, d, blocks),
        "fc2_experts_bias": (e, d),
    }


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """MoE's gpt-oss attributes, with the weights' bits and block size."""
    return {**moe.bench_attrs(shapes), "expert_weight_bits": BENCH_BITS, "block_size": BENCH_BLOCK}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor: the codes (bytes), scales and biases of the experts the routes can touch,
    each read once; the input and router rows read, the output written."""
    tokens, hidden = shapes["input"]
    experts = shapes["fc1_experts_weights"][0]
    touched = min(experts, tokens * moe.BENCH_K)
    codes = sum(math.prod(shapes[f"{p}_experts_weights"][1:]) for p in ("fc1", "fc2"))
    floats = sum(
        math.prod(shapes[name][1:])
        for name in ("fc1_scales", "fc1_experts_bias", "fc2_scales", "fc2_experts_bias")
        if name in shapes
    )
    return touched * (codes + floats * itemsize) + tokens * (2 * hidden + experts) * itemsize


def _torch_dequantize(torch: ModuleType, packed: Any, scales: Any, zero_points: Any, bits: int, block: int) -> Any:
    shifts = torch.arange(0, 8, bits, device=packed.device, dtype=torch.int32)
    mask = (1 << bits) - 1
    codes = ((packed.to(torch.int32)[..., None] >> shifts) & mask).flatten(-2).float()
    experts, rows, k = codes.shape
    if zero_points is None:
        zero = torch.full((experts, rows, k // block if block else 1), float(2 ** (bits - 1)), device=packed.device)
    else:
        zero = ((zero_points.to(torch.int32)[..., None] >> shifts) & mask).flatten(-2).float()
        zero = zero[..., : k // block] if block else zero[:, :rows, None]
    groups = k // block if block else 1
    codes = codes.reshape(experts, rows, groups, -1)
    weights = (codes - zero[..., None]) * scales.float().reshape(experts, rows, groups, 1)
    return weights.reshape(experts, rows, k)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Every expert dequantized in torch (float32, then the input's type), then MoE's torch
    equivalent (softmax + topk, a loop over the experts with F.linear): what a user without the
    plugin would write for the bench's form (fused swiglu, no fc3, no router_weights)."""
    named = dict(zip(INPUTS, list(inputs) + [None] * (len(INPUTS) - len(inputs)), strict=True))
    block = int(attrs.get("block_size", 0))
    weights = [
        _torch_dequantize(
            torch,
            named[f"{p}_experts_weights"],
            named[f"{p}_scales"],
            named[f"{p}_zero_points"],
            bits_of(attrs, p),
            block,
        ).to(named["input"].dtype)
        for p in ("fc1", "fc2")
    ]
    moe_inputs = [named["input"], named["router_probs"], weights[0], named["fc1_experts_bias"], weights[1]]
    return moe.torch_equivalent(torch, [*moe_inputs, named["fc2_experts_bias"]], attrs)
