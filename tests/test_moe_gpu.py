"""MoE on a GPU beyond the parity cases: the cuda binding (each GEMM path forced in turn: the
decode GEMV, tensor-core tiles, CUDA-core tiles) and the IPluginV3 plugin (through the plugin host,
build and runtime phase, a side stream) against the float32 prototype on the upcast 16-bit inputs
(itself held to ONNX Runtime by test_moe.py and the parity suite), every activation, swiglu fusion
0/1/2, fc3 gating, absent biases, ties, both tile sizes, experts without routes, empty and
one-element inputs, a large gpt-oss-like case and a caller's workspace. Outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import moe
from tests.moe_models import GPTOSS_ATTRS, INPUT_NAMES, moe_weights
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, numpy_dtype, to_device, upcast
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu


def make_case(seed, tokens, hidden, inter, experts, attrs, fc3=False, biases=True, x_rank=2):
    rng = np.random.default_rng(seed)
    fused = attrs.get("activation_type") in ("swiglu", "geglu") and attrs.get("swiglu_fusion", 0) != 0
    w = moe_weights(rng, experts, hidden, inter, 2 * inter if fused else inter, fc3)
    if not biases:
        w = {k: v for k, v in w.items() if not k.endswith("bias")}
    x = rng.standard_normal((tokens, hidden)).astype(np.float32)
    if x_rank == 3:
        x = x.reshape(1, tokens, hidden)
    router = rng.standard_normal((tokens, experts)).astype(np.float32)
    inputs = [x, router, *(w.get(n) for n in INPUT_NAMES[2:])]
    while inputs[-1] is None:
        inputs.pop()
    return inputs


def rounded_and_expected(inputs, dtype):
    rounded = [None if a is None else a.astype(numpy_dtype(dtype)) for a in inputs]
    upcast_inputs = [None if a is None else a.astype(np.float32) for a in rounded]
    return rounded, upcast_inputs


def expected_output(inputs, attrs):
    out = np.empty_like(inputs[0])
    moe.forward(np, inputs, [out], attrs)
    return out


def device_inputs(cp, rounded, dtype):
    """Device arrays; an absent input before a present one is an empty array (the plugins' absent)
    of the run dtype."""
    empty = Bf16Device.poisoned(cp, (0,)) if dtype == BFLOAT16 else cp.empty((0,), dtype=dtype)
    return [empty if a is None else to_device(cp, a) for a in rounded]


def poisoned(cp, shape, dtype):
    return Bf16Device.poisoned(cp, shape) if dtype == BFLOAT16 else cp.full(shape, cp.nan, dtype=dtype)


def check_with(key, cp, dtype, actual, expected):
    """actual (device, poisoned before the run) against expected within op `key`'s tolerance."""
    tol = load_registry().get(key).tolerance(dtype)
    np.testing.assert_allclose(upcast(cp, actual).get(), expected, atol=tol.atol, rtol=tol.rtol)


def check(cp, dtype, actual, expected):
    check_with("moe", cp, dtype, actual, expected)


SWIGLU = dict(GPTOSS_ATTRS)
# (name, tokens, hidden, inter, experts, attrs, fc3, biases, rank of input)
CASES = [
    ("gptoss_decode", 1, 64, 48, 8, SWIGLU, False, True, 3),
    ("gptoss_prompt", 7, 64, 48, 8, SWIGLU, False, True, 3),
    ("swiglu_fusion2_k4", 33, 40, 24, 6, {**SWIGLU, "swiglu_fusion": 2, "k": 4}, False, True, 2),
    ("swiglu_fc3", 12, 32, 20, 5, {**SWIGLU, "swiglu_fusion": 0}, True, True, 2),
    (
        "swiglu_no_bias_no_limit",
        20,
        48,
        40,
        4,
        {"activation_type": "swiglu", "swiglu_fusion": 1, "k": 2},
        False,
        False,
        2,
    ),
    ("relu_k1", 50, 30, 70, 4, {"activation_type": "relu", "k": 1}, False, True, 2),
    ("gelu_fc3", 9, 17, 33, 3, {"activation_type": "gelu", "k": 2, "normalize_routing_weights": 1}, True, True, 2),
    ("silu_fc3_no_bias", 5, 16, 16, 7, {"activation_type": "silu", "k": 3}, True, False, 2),
    ("identity_all", 6, 8, 8, 3, {"activation_type": "identity", "k": 3}, False, True, 2),
    ("many_experts_k8", 40, 64, 32, 128, {**SWIGLU, "k": 8}, False, True, 2),
    ("prefill_tiles_64", 600, 96, 80, 8, {**SWIGLU, "k": 4}, False, True, 2),
    ("gemma4_geglu", 10, 64, 48, 8, {"activation_type": "geglu", "k": 2, "swiglu_fusion": 1}, False, False, 3),
    ("geglu_fusion2_k3", 17, 40, 24, 6, {"activation_type": "geglu", "k": 3, "swiglu_fusion": 2}, False, True, 2),
    ("one_element", 1, 1, 1, 1, {**SWIGLU, "k": 1}, False, True, 2),
    ("empty", 0, 16, 8, 4, SWIGLU, False, True, 2),
]


def run_binding(cp, ext, case, dtype, seed, workspace=False):
    _, tokens, hidden, inter, experts, attrs, fc3, biases, rank = case
    rounded, up = rounded_and_expected(make_case(seed, tokens, hidden, inter, experts, attrs, fc3, biases, rank), dtype)
    expected = expected_output(up, attrs)
    y = poisoned(cp, expected.shape, dtype)
    scratch = None
    if workspace:
        fc1_cols = rounded[2].shape[1]
        need = ext.moe_workspace_bytes(tokens, hidden, inter, experts, attrs["k"], fc1_cols, fc3)
        scratch = cp.full(need, 0xFF, dtype=cp.uint8)  # garbage: the launch must not rely on zeros
    ext.moe(device_inputs(cp, rounded, dtype), [y], dict(attrs), workspace=scratch)
    cp.cuda.get_current_stream().synchronize()
    check(cp, dtype, y, expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_binding(cp, ext, case, dtype, seed) -> None:
    run_binding(cp, ext, case, dtype, seed)


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[3], CASES[9], CASES[10]], ids=lambda c: c[0])
@pytest.mark.parametrize("path", ["gemv", "tc", "simt"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_every_gemm_path(cp, ext, monkeypatch, case, path, dtype, seed) -> None:
    """TRTPLUG_MOE_GEMM (read per launch) forces the GEMV, the tensor-core tiles (16-bit only: float32
    stays on CUDA cores) or the CUDA-core tiles on shapes the plan would give another path."""
    monkeypatch.setenv("TRTPLUG_MOE_GEMM", path)
    run_binding(cp, ext, case, dtype, seed)


@pytest.mark.parametrize("case", [CASES[1], CASES[10]], ids=lambda c: c[0])
def test_binding_with_a_callers_workspace(cp, ext, case, seed) -> None:
    run_binding(cp, ext, case, "float32", seed, workspace=True)
    run_binding(cp, ext, case, "float32", seed + 1, workspace=True)  # reused: counts are reset per call


def test_equal_logits_pick_the_higher_expert(cp, ext) -> None:
    inputs = make_case(0, 4, 16, 8, 6, {"activation_type": "identity"})
    inputs[1] = np.zeros((4, 6), dtype=np.float32)
    inputs[1][2] = [0, 1, 1, 0, 1, 0]
    attrs = {"activation_type": "identity", "k": 2}
    y = cp.full(inputs[0].shape, cp.nan, dtype=cp.float32)
    ext.moe([cp.asarray(a) for a in inputs], [y], attrs)
    np.testing.assert_allclose(y.get(), expected_output(inputs, attrs), atol=1e-5, rtol=1e-5)


def test_large_gptoss_like(cp, ext, seed) -> None:
    """gpt-oss-20B's hidden 2880 with 32 experts, k 4, 64 tokens, fp16."""
    run_binding(cp, ext, ("large", 64, 2880, 2880, 32, {**SWIGLU, "k": 4}, False, True, 2), "float16", seed)


def test_binding_names_a_wrong_shape(cp, ext) -> None:
    inputs = [cp.asarray(a) for a in make_case(0, 3, 16, 8, 4, SWIGLU)]
    inputs[4] = cp.zeros((4, 16, 9), dtype=cp.float32)  # fc2 inter 9, fc1 holds 2 * 8 rows
    y = cp.full((3, 16), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="moe: fc1_experts_weights has shape"):
        ext.moe(inputs, [y], SWIGLU)
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[10]], ids=lambda c: c[0])
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_plugin(cp, library, case, phase, dtype, seed) -> None:
    _, tokens, hidden, inter, experts, attrs, fc3, biases, rank = case
    rounded, up = rounded_and_expected(make_case(seed, tokens, hidden, inter, experts, attrs, fc3, biases, rank), dtype)
    expected = expected_output(up, attrs)
    y = run_plugin(cp, library, "TrtplugMoE", device_inputs(cp, rounded, dtype), attrs, phase, expected.shape, dtype)
    check(cp, dtype, y, expected)


def run_plugin(cp, library, name, inputs, attrs, phase, shape, dtype):
    """The plugin (build phase, or runtime after a round trip) on a side stream into a poisoned output."""
    plugin = library.create(name, "1", "trtplug", dict(attrs))
    assert plugin is not None
    plugin = plugin if phase == "build" else plugin.round_trip()
    y = poisoned(cp, shape, dtype)
    # The side stream does not wait for the legacy default stream: without this the plugin could
    # run before the inputs' copies and the poison fill land (run 16: an all-NaN output, once).
    cp.cuda.get_current_stream().synchronize()
    stream = cp.cuda.Stream(non_blocking=True)
    plugin.run(inputs, [y], stream, synchronize=False)
    stream.synchronize()
    return y
