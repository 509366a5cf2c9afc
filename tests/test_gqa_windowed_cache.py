"""ONNX Runtime's windowed GroupQueryAttention cache (sliding_window_cache=1) against the reference
in trtplug/protolib/windowed_cache.py: decode steps, chunks and first prompts, before and after the
buffer first fills and wraps, GQA heads, batch entries at different lengths. The output must be
the windowed attention over the past's kept rows and the new ones, and present must hold the last
L(T) rows (compared only there: ONNX Runtime leaves the rest unwritten). ONNX Runtime 1.30 and 1.32
both implement the attribute; an older one that refuses the node skips the test."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from trtplug.protolib.attention import attention
from trtplug.protolib.windowed_cache import kept_rows, windowed_step

ort = pytest.importorskip("onnxruntime")
HEADS, KV_HEADS, HEAD = 4, 2, 8


def gqa_session(steps: int, capacity: int, window: int, batch: int):
    names = ["query", "key", "value", "past_key", "past_value", "seqlens_k", "total_sequence_length"]
    node = helper.make_node(
        "GroupQueryAttention",
        names,
        ["output", "present_key", "present_value"],
        domain="com.microsoft",
        num_heads=HEADS,
        kv_num_heads=KV_HEADS,
        local_window_size=window,
        sliding_window_cache=1,
    )
    f32 = TensorProto.FLOAT
    shapes = [
        (f32, [batch, steps, HEADS * HEAD]),
        (f32, [batch, steps, KV_HEADS * HEAD]),
        (f32, [batch, steps, KV_HEADS * HEAD]),
        (f32, [batch, KV_HEADS, capacity, HEAD]),
        (f32, [batch, KV_HEADS, capacity, HEAD]),
        (TensorProto.INT32, [batch]),
        (TensorProto.INT32, []),
    ]
    inputs = [helper.make_tensor_value_info(n, t, s) for n, (t, s) in zip(names, shapes, strict=True)]
    outputs = [helper.make_tensor_value_info(n, f32, None) for n in ("output", "present_key", "present_value")]
    graph = helper.make_graph([node], "windowed_gqa", inputs, outputs)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8)  # read by every ONNX Runtime here
    try:
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as err:  # an ONNX Runtime without the attribute refuses the node
        if "sliding_window_cache" not in str(err):
            raise
        pytest.skip(f"ONNX Runtime {ort.__version__} does not take sliding_window_cache: {str(err)[:120]}")


def heads_first(x: np.ndarray, heads: int) -> np.ndarray:
    batch, steps, _ = x.shape
    return x.reshape(batch, steps, heads, HEAD).transpose(0, 2, 1, 3)


def test_kept_rows_saw_tooth():
    """C = 8, W = 4: the buffer grows to 8 rows, then drops to 4 and grows again, a period of 5."""
    got = kept_rows(np, np.arange(0, 20), 8, 4).tolist()
    assert got == [0, 1, 2, 3, 4, 5, 6, 7, 8, 4, 5, 6, 7, 8, 4, 5, 6, 7, 8, 4]
    with pytest.raises(ValueError, match="local_window_size"):
        kept_rows(np, [3], 4, 5)


@pytest.mark.parametrize(
    ("steps", "capacity", "window", "totals"),
    [
        (1, 8, 4, [5, 9]),  # decode before and right after the first wrap
        (1, 8, 4, [12, 14]),  # decode in the second period
        (1, 16, 16, [17, 30]),  # window = capacity: keeps W - 1 and appends
        (1, 8, 1, [9, 11]),  # window 1: only the token itself
        # chunks onto a past: ONNX Runtime takes them one batch entry at a time
        (3, 8, 4, [9]),  # crossing the wrap: the first query sees fewer kept rows than its window
        (3, 8, 4, [11]),  # onto a full buffer
        (5, 16, 6, [12]),  # before any wrap
        (5, 16, 6, [40]),  # after several
        (10, 8, 4, [10, 10]),  # a first prompt longer than the buffer: only the last L(T) stay
        (4, 8, 4, [4, 4]),  # a first prompt that fits
    ],
)
def test_matches_onnx_runtime(steps, capacity, window, totals, seed):
    batch = len(totals)
    rng = np.random.default_rng([seed, steps, capacity, window, *totals])
    q = rng.standard_normal((batch, steps, HEADS * HEAD), dtype=np.float32)
    k, v = (rng.standard_normal((batch, steps, KV_HEADS * HEAD), dtype=np.float32) for _ in range(2))
    past_key, past_value = (rng.standard_normal((batch, KV_HEADS, capacity, HEAD), dtype=np.float32) for _ in range(2))
    feeds = {
        "query": q,
        "key": k,
        "value": v,
        "past_key": past_key,
        "past_value": past_value,
        "seqlens_k": np.asarray(totals, dtype=np.int32) - 1,
        "total_sequence_length": np.asarray(max(totals), dtype=np.int32),
    }
    output, present_key, present_value = gqa_session(steps, capacity, window, batch).run(None, feeds)

    step = windowed_step(np, past_key, past_value, heads_first(k, KV_HEADS), heads_first(v, KV_HEADS), totals, window)
    want = attention(
        np,
        heads_first(q, HEADS),
        step.keys,
        step.values,
        causal=True,
        q_start=step.q_start,
        kv_valid=step.kv_valid,
        window_left=window - 1,
    )
    np.testing.assert_allclose(output, want.transpose(0, 2, 1, 3).reshape(output.shape), rtol=1e-5, atol=1e-5)
    assert present_key.shape == past_key.shape
    for b, kept in enumerate(kept_rows(np, totals, capacity, window).tolist()):
        np.testing.assert_array_equal(present_key[b, :, :kept], step.present_key[b, :, :kept])
        np.testing.assert_array_equal(present_value[b, :, :kept], step.present_value[b, :, :kept])
