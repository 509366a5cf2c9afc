"""GroupQueryAttention's int8 KV cache on a GPU: the CUDA launcher (quantize-and-append, the
dequantized scratch, the attention core over it) against the float32 prototype, which the parity
suite ties to ONNX Runtime's CPU kernel. fp32/fp16/bf16, per-tensor and per-channel scales, a
prefill onto a shared buffer and decode steps onto a few thousand rows; outputs poisoned first."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from tests.device_arrays import as_float64, host_values, poisoned, to_device
from tests.test_group_query_attention_gpu import ATTRS, expected, gqa_inputs

pytestmark = pytest.mark.gpu
TOL = {"float32": 2e-4, "float16": 4e-3, "bfloat16": 3e-2}


def _int8_feeds(rng, batch, seq, heads, kv_heads, head, past, per_channel, dtype, totals=None):
    feeds, shapes = gqa_inputs(rng, batch, seq, heads, kv_heads, head, past, totals=totals)
    for name in ("past_key", "past_value"):
        feeds[name] = rng.integers(-128, 128, feeds[name].shape).astype(np.int8)
    scale_shape = (1, kv_heads, 1, head) if per_channel else (1,)
    for name in ("k_scale", "v_scale"):
        feeds[name] = rng.uniform(0.01, 0.04, scale_shape).astype(np.float32)
    rounded = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    for name in ("query", "key", "value"):
        feeds[name] = feeds[name].astype(rounded).astype(np.float32)  # what the run dtype holds
    kind = "PER_CHANNEL" if per_channel else "PER_TENSOR"
    attrs = {**ATTRS, "num_heads": heads, "kv_num_heads": kv_heads, "kv_cache_bit_width": 8}
    return feeds, shapes, {**attrs, "k_quant_type": kind, "v_quant_type": kind, "sliding_window_cache": 0}


def _run(cp, ext, feeds, shapes, attrs, dtype):
    from pyplugins import group_query_attention as proto

    scales = {"k_scale", "v_scale"}
    floats = {n for n, a in feeds.items() if a.dtype == np.float32 and n not in scales}
    ins = [
        None
        if feeds.get(n) is None
        else to_device(cp, host_values(feeds[n], dtype), dtype)
        if n in floats
        else cp.asarray(feeds[n])
        for n in proto.INPUTS
    ]
    out = poisoned(cp, shapes[0], dtype)
    caches = [cp.full(s, -121, dtype=cp.int8) for s in shapes[1:]]  # poisoned codes
    ext.group_query_attention(ins, [out, *caches], attrs)
    cp.cuda.get_current_stream().synchronize()
    return [as_float64(out), *[c.get() for c in caches]]


def _check(got, want, dtype):
    np.testing.assert_allclose(got[0], want[0], atol=TOL[dtype], rtol=TOL[dtype], err_msg="output")
    for i in (1, 2):  # fp16/bf16 may land one code away on the rounded new rows
        diff = np.abs(got[i].astype(np.int32) - want[i].astype(np.int32))
        assert diff.max() <= (0 if dtype == "float32" else 1), f"present {i}: codes differ by {diff.max()}"


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize(("seq", "past", "head"), [(1, 3000, 128), (1, 2047, 64), (7, 16, 64), (33, 0, 128)])
def test_int8_cache_matches_the_prototype(cp, ext, seed, dtype, per_channel, seq, past, head):
    rng = np.random.default_rng([seed, seq, past, head])
    totals = [past + seq] * 2 if past else None
    feeds, shapes, attrs = _int8_feeds(rng, 2, seq, 8, 2, head, past, per_channel, dtype, totals=totals)
    if seq > 1 and past:  # a chunk onto a shared buffer: one entry, as ONNX Runtime takes it
        feeds, shapes, attrs = _int8_feeds(rng, 1, seq, 8, 2, head, past, per_channel, dtype, totals=[past - 3])
    want = expected(feeds, shapes, attrs)
    _check(_run(cp, ext, feeds, shapes, attrs, dtype), want, dtype)


def test_int8_cache_refuses_missing_scales_and_float_caches(cp, ext, seed):
    rng = np.random.default_rng(seed)
    feeds, shapes, attrs = _int8_feeds(rng, 1, 1, 4, 2, 64, 8, False, "float32", totals=[9])
    del feeds["v_scale"]
    with pytest.raises(Exception, match=r"k_scale|v_scale"):
        _run(cp, ext, feeds, shapes, attrs, "float32")
    feeds, shapes, attrs = _int8_feeds(rng, 1, 1, 4, 2, 64, 8, False, "float32", totals=[9])
    feeds["past_key"] = feeds["past_key"].astype(np.float32)
    with pytest.raises(Exception, match="int8"):
        _run(cp, ext, feeds, shapes, attrs, "float32")
