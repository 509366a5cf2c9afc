"""TrtplugMultiHeadAttention on a GPU: the CUDA binding and the IPluginV3 plugin (plugin host,
build and runtime phase) against the float32 prototype (tied to ONNX Runtime CPU by the parity
suite and tests/test_multi_head_attention.py) in every layout: packed QKV with bias, packed KV,
a BNSH cache with attention_bias, past/present with key lengths and unidirectional, 0/1 masks,
the qk output, fully padded rows with a small mask_filter_value (ONNX Runtime's additive
filter: such rows attend to every key), and a key padding mask on heads of 64 (the
register-resident prefills' mask-tensor instance). Outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import multi_head_attention as mha

pytestmark = pytest.mark.gpu
TOL = {"float32": 2e-4, "float16": 5e-3}
FORMS = [
    "packed_qkv_bias",
    "packed_kv",
    "bnsh_cache_attention_bias",
    "past_lengths_causal",
    "mask_3d_qk",
    "fully_padded_lengths_causal",
    "fully_padded_mask_2d_bias",
    "padding_mask_head64",
]


def case_inputs(rng: np.random.Generator, form: str, dtype: str) -> tuple[list, dict]:
    """Inputs in spec order (None: absent), the attributes and the number of outputs of one form."""

    def f(*shape):
        return rng.standard_normal(shape).astype(dtype)

    if form == "packed_qkv_bias":
        return [f(2, 33, 4, 3, 16), None, None, f(192)], {"num_heads": 4}, 1
    if form == "packed_kv":
        return [f(2, 5, 64), f(2, 70, 4, 2, 16)], {"num_heads": 4}, 1
    if form == "bnsh_cache_attention_bias":
        return [f(2, 3, 64), f(2, 4, 130, 16), f(2, 4, 130, 8), None, None, f(1, 4, 3, 130)], {"num_heads": 4}, 4
    if form == "past_lengths_causal":
        lengths = np.array([12, 9, 3], dtype=np.int32)
        ins = [f(3, 4, 32), f(3, 4, 32), f(3, 4, 32), f(96), lengths, None, f(3, 2, 8, 16), f(3, 2, 8, 16)]
        return ins, {"num_heads": 2, "unidirectional": 1}, 3
    if form == "mask_3d_qk":
        mask = (rng.random((2, 6, 9)) < 0.6).astype(np.int32)
        mask[..., 0] = 1
        return [f(2, 6, 32), f(2, 9, 32), f(2, 9, 32), None, mask], {"num_heads": 4, "scale": 0.4}, 4
    if form == "fully_padded_lengths_causal":
        lengths = np.array([12, 0, 3], dtype=np.int32)
        ins = [f(3, 4, 32), f(3, 4, 32), f(3, 4, 32), None, lengths, None, f(3, 2, 8, 16), f(3, 2, 8, 16)]
        return ins, {"num_heads": 2, "unidirectional": 1, "mask_filter_value": -1.5}, 3
    if form == "fully_padded_mask_2d_bias":
        mask = (rng.random((2, 70)) < 0.6).astype(np.int32)
        mask[1] = 0
        ins = [f(2, 65, 64), f(2, 70, 64), f(2, 70, 64), None, mask, f(2, 4, 65, 70)]
        return ins, {"num_heads": 4, "mask_filter_value": -0.75}, 4
    if form == "padding_mask_head64":  # the register-resident prefills with the mask's bias tensor
        mask = (rng.random((2, 70)) < 0.7).astype(np.int32)
        mask[:, 0] = 1
        return [f(2, 65, 256), f(2, 70, 256), f(2, 70, 256), None, mask], {"num_heads": 4}, 1
    raise AssertionError(form)


def expected(ins: list, attrs: dict, outputs: int) -> list[np.ndarray]:
    as32 = [None if x is None else (x.astype(np.float32) if x.dtype.kind == "f" else x) for x in ins]
    full = {"scale": 0.0, "unidirectional": 0, "mask_filter_value": -10000.0, **attrs}
    return [np.asarray(o, dtype=np.float32) for o in mha.compute(np, as32, full)[:outputs]]


def check(cp, got: list, want: list, dtype: str) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(
            cp.asnumpy(g).astype(np.float32), w, atol=TOL[dtype], rtol=TOL[dtype], err_msg=f"{i}"
        )


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("form", FORMS)
def test_binding_matches_prototype(cp, ext, seed, dtype, form):
    ins, attrs, outputs = case_inputs(np.random.default_rng([seed, FORMS.index(form)]), form, dtype)
    want = expected(ins, attrs, outputs)
    outs = [cp.full(w.shape, cp.nan, dtype=dtype) for w in want]
    ext.multi_head_attention([None if x is None else cp.asarray(x) for x in ins], outs, attrs)
    check(cp, outs, want, dtype)


@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("form", ["packed_qkv_bias", "past_lengths_causal", "mask_3d_qk", "fully_padded_mask_2d_bias"])
def test_plugin_matches_prototype(cp, library, seed, phase, form):
    ins, attrs, outputs = case_inputs(np.random.default_rng([seed, len(form)]), form, "float16")
    plugin = library.create("TrtplugMultiHeadAttention", "1", "trtplug", {**attrs, "num_outputs": outputs})
    assert plugin is not None
    plugin = plugin if phase == "build" else plugin.round_trip()
    # absent inputs before a present one are empty tensors, as the rewrite passes them
    empty = {4: cp.int32}
    device = [cp.empty((0,), dtype=empty.get(i, cp.float16)) if x is None else cp.asarray(x) for i, x in enumerate(ins)]
    want = expected(ins, attrs, outputs)
    outs = [cp.full(w.shape, cp.nan, dtype="float16") for w in want]
    plugin.run(device, outs, cp.cuda.get_current_stream())
    check(cp, outs, want, "float16")


def test_binding_rejects_a_bad_bias_length(cp, ext):
    q = cp.ones((1, 2, 16), dtype=cp.float32)
    y = cp.full((1, 2, 16), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="bias must be"):
        ext.multi_head_attention([q, q, q, cp.ones(47, dtype=cp.float32)], [y], {"num_heads": 2})
    assert bool(cp.isnan(y).all())
