"""LinearAttention on the GPU: the CUDA binding and the IPluginV3 plugin (through the plugin host, built
and deserialized) against the float32 prototype (which tests/test_linear_attention.py and the parity
suite hold to ONNX Runtime), on inputs rounded to each dtype, outputs poisoned with NaN first. Covers
every update rule and head mapping, a state dtype other than q/k/v's (ONNX Runtime's S), no past, an
empty sequence and batch, d_k past the small-row kernel (RPT 4 -> 16) and at its limit (512, with 24
queries a state: 52 KB a token, the launch past 48 KB of shared memory that needs the opt-in), and
Qwen3.5-sized decode and prefill."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import linear_attention as proto
from tests.device_arrays import FLOAT_DTYPES, plugin_executor, poisoned, to_device, to_host32
from trtplug import native
from trtplug.parity.linear_attention_inputs import linear_attention_inputs
from trtplug.protolib.dtypes import BF16, numpy_dtype, to_bfloat16
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

NAMES = proto.INPUTS
SPEC = load_registry().get("linear_attention")
# (B, T, Hq, Hk, Hkv, dk, dv, decay width (0: per head, 1: per key row), beta width (0: per head, 1: one))
GEOMETRIES = {
    "qwen35_prefill": (2, 5, 2, 2, 4, 32, 32, 0, 0),
    "qwen35_decode": (3, 1, 2, 2, 4, 32, 32, 0, 0),
    "gqa_per_key_shared_beta": (2, 37, 8, 2, 2, 16, 24, 1, 1),
    "odd_heads": (1, 9, 3, 3, 3, 20, 13, 0, 0),
    "dk_80_dv_200": (2, 33, 1, 1, 2, 80, 200, 1, 0),
    "d1": (2, 3, 1, 1, 4, 1, 1, 0, 0),
    "dk_512_queries_24": (1, 3, 24, 1, 1, 512, 40, 1, 0),
}
RULES = ("linear", "gated", "delta", "gated_delta")
TOLERANCE = {"float32": (2e-4, 2e-4), "float16": (1e-2, 4e-3), "bfloat16": (6e-2, 2e-2)}


def shapes_of(b, t, hq, hk, hkv, dk, dv, per_key, one_beta, past=True):
    shapes = {
        "query": (b, t, hq * dk),
        "key": (b, t, hk * dk),
        "value": (b, t, hkv * dv),
        "decay": (b, t, hkv * dk if per_key else hkv),
        "beta": (b, t, 1 if one_beta else hkv),
    }
    return {**shapes, "past_state": (b, hkv, dk, dv)} if past else shapes


def in_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    return to_bfloat16(x) if dtype == "bfloat16" else x.astype(numpy_dtype(dtype))


def binding(cp, ext):
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()

    return execute


def run_case(cp, execute, shapes, attrs, dtype, state_dtype, seed, rows_checked=None) -> None:
    host = linear_attention_inputs(shapes, attrs, np.random.default_rng(seed))
    low = {n: in_dtype(a, state_dtype if n == "past_state" else dtype) for n, a in host.items()}
    inputs = [low.get(n) for n in NAMES]
    while inputs[-1] is None:
        inputs.pop()
    upcast = [None if a is None else a.astype(np.float32) for a in inputs]
    want = [np.zeros(s, np.float32) for s in proto.output_shapes(upcast, attrs)]
    proto.forward(np, upcast, want, attrs)
    has_past = "past_state" in shapes
    out_types = [dtype, state_dtype if has_past else dtype]
    device = [None if a is None else to_device(cp, a, "bfloat16" if a.dtype == BF16 else str(a.dtype)) for a in inputs]
    if not has_past and len(device) > 3:
        device[3] = None
    outs = [poisoned(cp, w.shape, t) for w, t in zip(want, out_types, strict=True)]
    execute(SPEC, device, outs, attrs)
    for out, expect, t in zip(outs, want, out_types, strict=True):
        atol, rtol = TOLERANCE[t]
        got = to_host32(out, t)
        assert np.isfinite(got).all(), "unwritten (NaN) elements"
        np.testing.assert_allclose(got, expect, atol=atol * max(1.0, np.abs(expect).max(initial=0)), rtol=rtol)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", list(GEOMETRIES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binding(cp, ext, name, rule, dtype, seed) -> None:
    attrs = {"q_num_heads": GEOMETRIES[name][2], "kv_num_heads": GEOMETRIES[name][4], "update_rule": rule}
    run_case(cp, binding(cp, ext), shapes_of(*GEOMETRIES[name]), attrs, dtype, dtype, seed)


@pytest.mark.parametrize(
    ("dtype", "state_dtype"),
    [("float16", "float32"), ("bfloat16", "float32"), ("float32", "float16"), ("float16", "bfloat16")],
)
def test_state_dtype_other_than_the_inputs(cp, ext, dtype, state_dtype, seed) -> None:
    attrs = {"q_num_heads": 2, "kv_num_heads": 4, "scale": 1.0}
    run_case(cp, binding(cp, ext), shapes_of(*GEOMETRIES["qwen35_prefill"]), attrs, dtype, state_dtype, seed)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "geometry",
    [(2, 6, 2, 2, 4, 32, 32, 0, 0), (2, 0, 2, 2, 4, 8, 8, 0, 0), (0, 3, 2, 2, 4, 8, 8, 0, 0)],
    ids=["no_past", "empty_sequence", "empty_batch"],
)
def test_edges(cp, ext, geometry, dtype, seed) -> None:
    attrs = {"q_num_heads": 2, "kv_num_heads": 4}
    shapes = shapes_of(*geometry, past=geometry[1] != 6)
    run_case(cp, binding(cp, ext), shapes, attrs, dtype, dtype, seed)


@pytest.mark.pluginlib
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", ["qwen35_prefill", "gqa_per_key_shared_beta"])
def test_plugin(cp, library, name, dtype, phase, seed) -> None:
    attrs = {"q_num_heads": GEOMETRIES[name][2], "kv_num_heads": GEOMETRIES[name][4], "update_rule": "gated_delta"}
    run_case(cp, plugin_executor(cp, library, phase), shapes_of(*GEOMETRIES[name]), attrs, dtype, dtype, seed)


@pytest.mark.pluginlib
def test_plugin_without_a_past_reads_the_empty_stand_in(cp, library, seed) -> None:
    """The rewrite's 1-D empty past_state before a present decay: zeros, as without the input."""
    attrs = {"q_num_heads": 2, "kv_num_heads": 4}
    shapes = shapes_of(*GEOMETRIES["qwen35_prefill"], past=False)
    host = linear_attention_inputs(shapes, attrs, np.random.default_rng(seed))
    inputs = [host["query"], host["key"], host["value"], None, host["decay"], host["beta"]]
    want = [np.zeros(s, np.float32) for s in proto.output_shapes(inputs, attrs)]
    proto.forward(np, inputs, want, attrs)
    device = [cp.asarray(a if a is not None else np.zeros(0, np.float32)) for a in inputs]
    outs = [cp.full(w.shape, cp.nan, cp.float32) for w in want]
    plugin_executor(cp, library, "build")(SPEC, device, outs, attrs)
    for out, expect in zip(outs, want, strict=True):
        np.testing.assert_allclose(out.get(), expect, atol=2e-4, rtol=2e-4)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "geometry",
    [(4, 1, 16, 16, 32, 128, 128, 0, 0), (1, 1024, 16, 16, 32, 128, 128, 0, 0)],
    ids=["qwen35_decode_b4", "qwen35_prefill_1024"],
)
def test_qwen35_sizes(cp, ext, geometry, dtype, seed) -> None:
    attrs = {"q_num_heads": 16, "kv_num_heads": 32, "scale": 1.0}
    run_case(cp, binding(cp, ext), shapes_of(*geometry), attrs, dtype, dtype, seed)


def test_binding_refuses_bad_shapes(cp, ext) -> None:
    attrs = {"q_num_heads": 2, "kv_num_heads": 4}
    shapes = {**shapes_of(1, 2, 2, 2, 4, 8, 8, 0, 0), "decay": (1, 2, 3)}
    ins = [cp.zeros(shapes[n], cp.float32) for n in NAMES]
    outs = [cp.zeros((1, 2, 32), cp.float32), cp.zeros((1, 4, 8, 8), cp.float32)]
    with pytest.raises(ValueError, match="decay must be"):
        binding(cp, ext)(SPEC, ins, outs, attrs)
