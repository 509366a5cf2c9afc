"""TrtplugOnnxAttention on a GPU beyond the parity cases: the CUDA binding and the IPluginV3
plugin (through the plugin host, build and runtime phase) against the float32 prototype (which
the parity suite ties to onnx.reference) on bool masks shorter than the keys, a KV cache with
GQA, 3-D inputs with nonpad_kv_seqlen, every qk_matmul_output_mode and an empty attn_mask
placeholder before past_key. Outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import onnx_attention

pytestmark = pytest.mark.gpu
TOL = {"float32": 2e-4, "float16": 5e-3}
NAMES = ["Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"]
DEFAULTS = {"is_causal": 0, "q_num_heads": 0, "kv_num_heads": 0, "qk_matmul_output_mode": 0, "scale": 0.0}


def case_inputs(rng: np.random.Generator, form: str, dtype: str) -> tuple[list, dict]:
    """Inputs in spec order (None: absent) and the attributes of one form."""

    def floats(*shape):
        return rng.standard_normal(shape).astype(dtype)

    if form == "cache_short_bool_mask":
        mask = rng.random((2, 1, 3, 6)) < 0.7
        ins = [
            floats(2, 8, 3, 16),
            floats(2, 2, 3, 16),
            floats(2, 2, 3, 12),
            mask,
            floats(2, 2, 9, 16),
            floats(2, 2, 9, 12),
        ]
        return ins, {"is_causal": 1, "softcap": 3.0}
    if form == "bsh_nonpad":
        nonpad = np.array([9, 4, 1], dtype=np.int64)
        return [floats(3, 5, 64), floats(3, 9, 32), floats(3, 9, 32), None, None, None, nonpad], {
            "q_num_heads": 4,
            "kv_num_heads": 2,
            "is_causal": 1,
        }
    if form == "additive_mask_decode":
        return [floats(4, 8, 1, 128), floats(4, 8, 300, 128), floats(4, 8, 300, 128), floats(4, 1, 1, 300)], {}
    raise AssertionError(form)


def expected(ins: list, attrs: dict, outputs: int) -> list[np.ndarray]:
    as32 = [None if x is None else (x.astype(np.float32) if x.dtype.kind == "f" else x) for x in ins]
    shapes = onnx_attention.output_shapes(as32, attrs)
    outs = [np.zeros(s, dtype=np.float32) for s in shapes[:outputs]]
    onnx_attention.forward(np, as32, outs, attrs)
    return outs


def check(cp, got: list, want: list, dtype: str) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        tol = TOL[dtype]
        np.testing.assert_allclose(cp.asnumpy(g).astype(np.float32), w, atol=tol, rtol=tol, err_msg=f"output {i}")


FORMS = ["cache_short_bool_mask", "bsh_nonpad", "additive_mask_decode"]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_binding_matches_prototype(cp, ext, seed, dtype, form, mode):
    ins, attrs = case_inputs(np.random.default_rng([seed, mode, FORMS.index(form)]), form, dtype)
    attrs = {**DEFAULTS, **attrs, "qk_matmul_output_mode": mode}
    want = expected(ins, attrs, 4)
    outs = [cp.full(w.shape, cp.nan, dtype=dtype) for w in want]
    ext.onnx_attention([None if x is None else cp.asarray(x) for x in ins], outs, attrs)
    check(cp, outs, want, dtype)


@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("outputs", [1, 3, 4])
def test_plugin_matches_prototype(cp, library, seed, phase, outputs):
    ins, attrs = case_inputs(np.random.default_rng([seed, outputs]), "cache_short_bool_mask", "float16")
    ins[3] = None  # absent attn_mask before past_key: an empty placeholder, as the rewrite passes it
    attrs = {**DEFAULTS, **attrs, "qk_matmul_output_mode": 2, "num_outputs": outputs}
    plugin = library.create("TrtplugOnnxAttention", "1", "trtplug", attrs)
    assert plugin is not None
    plugin = plugin if phase == "build" else plugin.round_trip()
    device = [cp.empty((0,), dtype=cp.bool_) if x is None else cp.asarray(x) for x in ins]
    want = expected(ins, attrs, outputs)
    outs = [cp.full(w.shape, cp.nan, dtype="float16") for w in want]
    plugin.run(device, outs, cp.cuda.get_current_stream())
    check(cp, outs, want, "float16")


def test_binding_rejects_a_wrong_output_shape(cp, ext):
    q = cp.ones((1, 2, 3, 8), dtype=cp.float32)
    y = cp.full((1, 2, 3, 7), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="Y must have"):
        ext.onnx_attention([q, q, q], [y], dict(DEFAULTS))
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize(
    ("q_len", "kv_len", "head", "causal"), [(70, 130, 64, 0), (64, 64, 128, 0), (100, 100, 128, 1)]
)
def test_flash_prefill_without_a_mask(cp, ext, seed, monkeypatch, q_len, kv_len, head, causal):
    """fp16 prefill with head 64/128 and no attn_mask takes the register-resident tensor-core kernel
    (asked for: cuDNN would take it by default): bidirectional (every key of a 64-key tile, ragged
    tails) and causal, GQA 4/2."""
    monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", "kernel")
    rng = np.random.default_rng([seed, q_len, head])
    ins = [
        rng.standard_normal(s).astype("float16")
        for s in [(2, 4, q_len, head), (2, 2, kv_len, head), (2, 2, kv_len, head)]
    ]
    attrs = {**DEFAULTS, "is_causal": causal}
    want = expected(ins, attrs, 1)
    outs = [cp.full(w.shape, cp.nan, dtype="float16") for w in want]
    ext.onnx_attention([cp.asarray(x) for x in ins], outs, attrs)
    check(cp, outs, want, "float16")


@pytest.mark.parametrize("softcap", [0.0, 4.0])
@pytest.mark.parametrize("causal", [0, 1])
@pytest.mark.parametrize("head", [64, 128])
@pytest.mark.parametrize("mask", ["bool", "additive"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_flash_prefill_with_a_mask_tensor(cp, ext, seed, monkeypatch, dtype, mask, head, causal, softcap):
    """attn_mask as a bool mask (the core's mask tensor) or an additive one (its bias tensor), per
    batch and query row, on the register-resident prefills (fp16, and fp32 on 3xTF32): 70 query rows
    over 130 keys (ragged tiles), GQA 4/2, causal and softcap with the mask's rules."""
    monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", "kernel")
    rng = np.random.default_rng([seed, head, causal])
    ins = [rng.standard_normal(s).astype(dtype) for s in [(2, 4, 70, head), (2, 2, 130, head), (2, 2, 130, head)]]
    if mask == "bool":
        allowed = rng.random((2, 1, 70, 130)) < 0.7
        allowed[..., 0] = True  # every row keeps a key
        ins.append(allowed)
    else:
        ins.append(rng.standard_normal((1, 4, 70, 130)).astype(dtype))
    attrs = {**DEFAULTS, "is_causal": causal, "softcap": softcap}
    want = expected(ins, attrs, 1)
    outs = [cp.full(w.shape, cp.nan, dtype=dtype) for w in want]
    ext.onnx_attention([cp.asarray(x) for x in ins], outs, attrs)
    assert ext.last_prefill_backend() == ("fp32-tensor-cores" if dtype == "float32" else "kernel")
    check(cp, outs, want, dtype)
