"""TrtplugBertAttention on a GPU: the CUDA binding and the IPluginV3 plugin (plugin host, build
and runtime phase) against the float32 prototype (tied to ONNX Runtime CPU by the parity suite
and tests/test_bert_attention.py) in every mask_index form, with past/present, unidirectional,
attention_bias and unequal qkv_hidden_sizes, and fully masked rows (mask_filter_value added to
every key, as ONNX Runtime does, not zeros; small filters that let masked keys count). Outputs
are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import bert_attention as bert

pytestmark = pytest.mark.gpu
TOL = {"float32": 2e-4, "float16": 5e-3}
FORMS = [
    "lengths_bias",
    "end_start_causal",
    "raw_2d_odd",
    "raw_3d_attention_bias",
    "megatron_past",
    "decode",
    "qkv_sizes",
    "fully_masked_lengths_causal",
    "filter_raw_3d_causal_past",
    "filter_end_start_batch_bias",
    "fully_masked_raw_2d_long",
]


def case_inputs(rng: np.random.Generator, form: str, dtype: str) -> tuple[list, dict, int]:
    """Inputs in spec order (None: absent), the attributes and the number of outputs of one form."""

    def f(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def layer(batch, seq, width, cols):
        return [f(batch, seq, width), f(width, cols, scale=width**-0.5), f(cols)]

    def raw(*shape):
        mask = (rng.random(shape) < 0.6).astype(np.int32)
        mask[..., 0] = 1
        return mask

    if form == "lengths_bias":
        return [*layer(3, 33, 64, 192), np.array([33, 20, 1], np.int32)], {"num_heads": 4}, 1
    if form == "end_start_causal":
        ins = [*layer(2, 9, 32, 96), np.array([9, 7, 0, 0], np.int32)]
        return ins, {"num_heads": 2, "unidirectional": 1}, 1
    if form == "raw_2d_odd":
        return [*layer(2, 13, 35, 105), raw(2, 13)], {"num_heads": 5}, 1
    if form == "raw_3d_attention_bias":
        return [*layer(2, 6, 32, 96), raw(2, 6, 6), None, f(1, 4, 6, 6)], {"num_heads": 4, "scale": 0.4}, 1
    if form == "megatron_past":
        return [*layer(2, 3, 32, 96), raw(2, 1, 12, 12), f(2, 2, 4, 5, 8)], {"num_heads": 4}, 2
    if form == "decode":
        ins = [*layer(3, 1, 128, 384), np.array([41, 30, 2], np.int32), f(2, 3, 2, 40, 64)]
        return ins, {"num_heads": 2, "unidirectional": 1}, 2
    if form == "fully_masked_lengths_causal":  # a zero length: the last entry attends with the filter
        return [*layer(3, 9, 32, 96), np.array([9, 4, 0], np.int32)], {"num_heads": 2, "unidirectional": 1}, 1
    if form == "filter_raw_3d_causal_past":
        mask = raw(3, 4, 7)
        mask[-1], mask[0, 1] = 0, 0  # a fully masked entry and one fully masked row
        ins = [*layer(3, 4, 32, 96), mask, f(2, 3, 4, 3, 8)]
        return ins, {"num_heads": 4, "unidirectional": 1, "mask_filter_value": -1.0}, 2
    if form == "filter_end_start_batch_bias":  # per-batch attention_bias folded into the mask bias
        ins = [*layer(3, 5, 32, 96), np.array([5, 3, 2, 0, 1, 2], np.int32), None, f(3, 1, 5, 5)]
        return ins, {"num_heads": 4, "mask_filter_value": -2.0}, 1
    if form == "fully_masked_raw_2d_long":  # 40 query rows of head size 16: the tensor-core path
        mask = raw(3, 40)
        mask[-1] = 0
        return [*layer(3, 40, 64, 192), mask], {"num_heads": 4}, 1
    if form == "qkv_sizes":
        return [*layer(2, 5, 24, 80)], {"num_heads": 4, "qkv_hidden_sizes": [32, 32, 16]}, 1
    raise AssertionError(form)


def expected(ins: list, attrs: dict, outputs: int) -> list[np.ndarray]:
    as32 = [None if x is None else (x.astype(np.float32) if x.dtype.kind == "f" else x) for x in ins]
    full = {"scale": 0.0, "unidirectional": 0, "qkv_hidden_sizes": [], **attrs}
    return [np.asarray(o, dtype=np.float32) for o in bert.compute(np, as32, full)[:outputs]]


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
    ext.bert_attention([None if x is None else cp.asarray(x) for x in ins], outs, attrs)
    check(cp, outs, want, dtype)


@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize(
    "form",
    [
        "lengths_bias",
        "raw_3d_attention_bias",
        "megatron_past",
        "qkv_sizes",
        "fully_masked_lengths_causal",
        "filter_raw_3d_causal_past",
    ],
)
def test_plugin_matches_prototype(cp, library, seed, phase, form):
    ins, attrs, outputs = case_inputs(np.random.default_rng([seed, len(form)]), form, "float16")
    plugin = library.create("TrtplugBertAttention", "1", "trtplug", {**attrs, "num_outputs": outputs})
    assert plugin is not None
    plugin = plugin if phase == "build" else plugin.round_trip()
    # absent inputs before a present one are empty tensors, as the rewrite passes them
    empty = {3: cp.int32}
    device = [cp.empty((0,), dtype=empty.get(i, cp.float16)) if x is None else cp.asarray(x) for i, x in enumerate(ins)]
    want = expected(ins, attrs, outputs)
    outs = [cp.full(w.shape, cp.nan, dtype="float16") for w in want]
    plugin.run(device, outs, cp.cuda.get_current_stream())
    check(cp, outs, want, "float16")


def test_binding_rejects_a_bad_mask_index(cp, ext):
    x, w = cp.ones((2, 3, 16), dtype=cp.float32), cp.ones((16, 48), dtype=cp.float32)
    y = cp.full((2, 3, 16), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="mask_index must be"):
        ext.bert_attention([x, w, None, cp.ones(3, dtype=cp.int32)], [y], {"num_heads": 2})
    assert bool(cp.isnan(y).all())


def test_binding_rejects_present_with_unequal_hidden_sizes(cp, ext):
    x, w = cp.ones((1, 2, 8), dtype=cp.float32), cp.ones((8, 40), dtype=cp.float32)
    y, present = cp.full((1, 2, 8), cp.nan, dtype=cp.float32), cp.full((2, 1, 2, 2, 8), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="present needs equal"):
        ext.bert_attention([x, w], [y, present], {"num_heads": 2, "qkv_hidden_sizes": [16, 16, 8]})
