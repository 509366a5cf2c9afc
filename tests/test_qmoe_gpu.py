"""QMoE on a GPU beyond the parity cases: the cuda binding (each GEMM path forced in turn: the
decode GEMV, tensor-core tiles, CUDA-core tiles, each dequantizing as it loads) and the IPluginV3
plugin (plugin host, build and runtime phase, a side stream) against the float32 prototype on the
upcast 16-bit inputs (itself held to ONNX Runtime by test_qmoe.py and the parity suite): 2/4/8
bits, block sizes 16-256 and column-wise, zero points or not, per-projection bits, fc3 gating,
router_weights (negative ones dropped), sizes that are not multiples of 8 (element loads), empty
and one-token inputs, a gpt-oss-20B-sized case. Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import qmoe
from tests.moe_models import GPTOSS_ATTRS
from tests.test_moe_gpu import check_with, device_inputs, poisoned, run_plugin
from trtplug.parity.generators import qmoe_inputs
from trtplug.protolib.dtypes import numpy_dtype

pytestmark = pytest.mark.gpu

INPUTS = list(qmoe.INPUTS)


def make_case(seed, tokens, hidden, inter, experts, attrs, fc3=False, zero_points=False, router_weights=False):
    """Inputs in QMoE's order (None for absent ones, trailing ones dropped), float ones float32."""
    rng = np.random.default_rng(seed)
    fused = attrs.get("activation_type") in ("swiglu", "geglu") and attrs.get("swiglu_fusion", 0) != 0
    block = attrs.get("block_size", 0)
    rows = {"fc1": (2 * inter if fused else inter, hidden), "fc2": (hidden, inter), "fc3": (inter, hidden)}
    shapes = {"router_weights": (tokens, experts)} if router_weights else {}
    for p, (n, k) in rows.items():
        if p == "fc3" and not fc3:
            continue
        bits = qmoe.bits_of(attrs, p)
        blocks = k // block if block else 1
        shapes[f"{p}_experts_weights"] = (experts, n, k * bits // 8)
        shapes[f"{p}_scales"] = (experts, n, blocks) if block else (experts, n)
        if zero_points:
            shapes[f"{p}_zero_points"] = (
                (experts, n, (blocks * bits + 7) // 8) if block else (experts, (n * bits + 7) // 8)
            )
    drawn = qmoe_inputs(shapes, attrs, rng)
    for p, (n, _) in rows.items():
        if f"{p}_experts_weights" in drawn:
            drawn[f"{p}_experts_bias"] = (rng.standard_normal((experts, n)) * 0.5).astype(np.float32)
    drawn["input"] = rng.standard_normal((tokens, hidden)).astype(np.float32)
    drawn["router_probs"] = rng.standard_normal((tokens, experts)).astype(np.float32)
    inputs = [drawn.get(n) for n in INPUTS]
    while inputs[-1] is None:
        inputs.pop()
    return inputs


def rounded_and_upcast(inputs, dtype):
    """Float inputs rounded to `dtype` (codes and zero points stay uint8), and their float32 upcast."""
    rounded = [a if a is None or a.dtype == np.uint8 else a.astype(numpy_dtype(dtype)) for a in inputs]
    up = [a if a is None or a.dtype == np.uint8 else a.astype(np.float32) for a in rounded]
    return rounded, up


def qmoe_device_inputs(cp, rounded, dtype, packed=("_experts_weights", "_zero_points")):
    """Device arrays; absent inputs before present ones empty, uint8 where the inputs named with a
    `packed` suffix go (codes and zero points; MXFP4's E8M0 scales too), as the rewrite's stand-ins
    are typed."""
    uint8 = {i for i, name in enumerate(INPUTS) if name.endswith(packed)}
    arrays = device_inputs(cp, rounded, dtype)
    return [
        cp.empty((0,), dtype=cp.uint8) if a is None and i in uint8 else d
        for i, (a, d) in enumerate(zip(rounded, arrays, strict=True))
    ]


def expected_output(inputs, attrs):
    out = np.empty_like(inputs[0])
    qmoe.forward(np, inputs, [out], attrs)
    return out


SWIGLU4 = {**GPTOSS_ATTRS, "expert_weight_bits": 4, "block_size": 32}
MIXED = {**SWIGLU4, "fc2_expert_weight_bits": 8, "block_size": 128}
SILU4 = {"activation_type": "silu", "k": 2, "expert_weight_bits": 4, "block_size": 16}
# (name, tokens, hidden, inter, experts, attrs, fc3, zero points, router_weights)
CASES = [
    ("int4_b32_decode", 1, 64, 64, 8, SWIGLU4, False, False, False),
    ("int4_b32_prompt_zp", 9, 64, 64, 8, SWIGLU4, False, True, False),
    ("int8_b64", 20, 128, 64, 6, {**SWIGLU4, "expert_weight_bits": 8, "block_size": 64}, False, True, False),
    ("int8_columnwise", 12, 40, 24, 5, {**SWIGLU4, "expert_weight_bits": 8, "block_size": 0}, False, True, False),
    ("int4_columnwise_odd_cols", 7, 48, 36, 4, {**SWIGLU4, "block_size": 0}, False, True, False),
    ("int2_b16", 10, 64, 32, 4, {**SWIGLU4, "expert_weight_bits": 2, "block_size": 16}, False, True, False),
    ("mixed_bits_b128", 5, 256, 128, 4, MIXED, False, False, False),
    ("silu_fc3_b16", 11, 32, 48, 5, SILU4, True, True, False),
    ("swiglu_fusion2_b256", 6, 256, 256, 4, {**SWIGLU4, "swiglu_fusion": 2, "block_size": 256}, False, False, False),
    ("router_weights_k3", 15, 64, 32, 8, {**SWIGLU4, "k": 3, "normalize_routing_weights": 0}, False, False, True),
    ("element_loads", 4, 12, 6, 3, {"activation_type": "relu", "k": 2, "expert_weight_bits": 4}, False, True, False),
    ("gemma4_geglu_b32", 6, 64, 32, 4, {**SWIGLU4, "activation_type": "geglu"}, False, False, False),
    ("prefill_tiles_64", 600, 96, 64, 8, {**SWIGLU4, "k": 4}, False, True, False),
    ("one_element", 1, 2, 2, 1, {"activation_type": "identity", "k": 1, "expert_weight_bits": 8}, False, False, False),
    ("empty", 0, 64, 32, 4, SWIGLU4, False, False, False),
]


def run_binding(cp, ext, case, dtype, seed):
    _, tokens, hidden, inter, experts, attrs, fc3, zp, rw = case
    rounded, up = rounded_and_upcast(make_case(seed, tokens, hidden, inter, experts, attrs, fc3, zp, rw), dtype)
    expected = expected_output(up, attrs)
    y = poisoned(cp, expected.shape, dtype)
    ext.qmoe(qmoe_device_inputs(cp, rounded, dtype), [y], dict(attrs))
    cp.cuda.get_current_stream().synchronize()
    check_with("qmoe", cp, dtype, y, expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_binding(cp, ext, case, dtype, seed) -> None:
    run_binding(cp, ext, case, dtype, seed)


@pytest.mark.parametrize(
    "case", [CASES[1], CASES[3], CASES[5], CASES[7], CASES[10], CASES[11], CASES[12]], ids=lambda c: c[0]
)
@pytest.mark.parametrize("path", ["gemv", "tc", "simt"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_every_gemm_path(cp, ext, monkeypatch, case, path, dtype, seed) -> None:
    monkeypatch.setenv("TRTPLUG_MOE_GEMM", path)
    run_binding(cp, ext, case, dtype, seed)


def test_large_gptoss_int4(cp, ext, seed) -> None:
    """gpt-oss-20B's hidden 2880 with 32 experts, k 4, int4 blocks of 32, 64 tokens, fp16."""
    case = ("large", 64, 2880, 2880, 32, {**SWIGLU4, "k": 4}, False, False, False)
    run_binding(cp, ext, case, "float16", seed)


def test_binding_names_a_wrong_shape(cp, ext) -> None:
    inputs = [cp.asarray(a) for a in make_case(0, 3, 64, 32, 4, SWIGLU4)]
    inputs[3] = cp.ones((4, 64, 3), dtype=cp.float32)  # fc1 scales: 2 blocks of 32, not 3
    y = cp.full((3, 64), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="qmoe: fc1_scales has shape"):
        ext.qmoe(inputs, [y], SWIGLU4)
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[7], CASES[9]], ids=lambda c: c[0])
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_plugin(cp, library, case, phase, dtype, seed) -> None:
    _, tokens, hidden, inter, experts, attrs, fc3, zp, rw = case
    rounded, up = rounded_and_upcast(make_case(seed, tokens, hidden, inter, experts, attrs, fc3, zp, rw), dtype)
    expected = expected_output(up, attrs)
    inputs = qmoe_device_inputs(cp, rounded, dtype)
    y = run_plugin(cp, library, "TrtplugQMoE", inputs, attrs, phase, expected.shape, dtype)
    check_with("qmoe", cp, dtype, y, expected)
