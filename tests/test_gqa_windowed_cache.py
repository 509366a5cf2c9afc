"""ONNX Runtime's windowed GroupQueryAttention cache (sliding_window_cache=1) against the reference
in trtplug/protolib/windowed_cache.py: decode steps, chunks and first prompts, before and after the
buffer first fills and wraps, GQA heads, batch entries at different lengths. The output must be
the windowed attention over the past's kept rows and the new ones, and present must hold the last
L(T) rows (compared only there: ONNX Runtime leaves the rest unwritten); do_rotary rotates at the
absolute position; ONNX Runtime's refusals (right padding, batched chunks). ONNX Runtime 1.30 and
1.32 both implement the attribute; an older one that refuses the node skips the test."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from trtplug.protolib.attention import attention
from trtplug.protolib.rotary import rotate
from trtplug.protolib.windowed_cache import kept_rows, windowed_step

ort = pytest.importorskip("onnxruntime")
HEADS, KV_HEADS, HEAD = 4, 2, 16  # ONNX Runtime's CPU rotary needs a head size that is a multiple of 16
MAX_POSITION = 64


def gqa_session(steps: int, capacity: int, window: int, batch: int, rotary: bool = False):
    names = ["query", "key", "value", "past_key", "past_value", "seqlens_k", "total_sequence_length"]
    names += ["cos_cache", "sin_cache"] if rotary else []
    node = helper.make_node(
        "GroupQueryAttention",
        names,
        ["output", "present_key", "present_value"],
        domain="com.microsoft",
        num_heads=HEADS,
        kv_num_heads=KV_HEADS,
        local_window_size=window,
        sliding_window_cache=1,
        do_rotary=int(rotary),
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
        *[(f32, [MAX_POSITION, HEAD // 2])] * (2 if rotary else 0),
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


CASES = [
    (1, 8, 4, [5, 9]),  # decode before and right after the first wrap
    (1, 8, 4, [12, 14]),  # decode in the second period
    (1, 8, 4, [3, 9, 20]),  # a ragged batch: before the wrap, at it, in the third period
    (1, 16, 16, [17, 30]),  # window = capacity: keeps W - 1 and appends
    (1, 8, 1, [9, 11]),  # window 1: only the token itself
    # chunks onto a past: ONNX Runtime takes them one batch entry at a time
    (3, 8, 4, [9]),  # crossing the wrap: the first query sees fewer kept rows than its window
    (3, 8, 4, [11]),  # onto a full buffer
    (5, 16, 6, [12]),  # before any wrap
    (5, 16, 6, [40]),  # after several
    (10, 8, 4, [10, 10]),  # a first prompt longer than the buffer: only the last L(T) stay
    (4, 8, 4, [4, 4]),  # a first prompt that fits
]


def rotary_caches() -> tuple[np.ndarray, np.ndarray]:
    angles = np.arange(MAX_POSITION)[:, None] * 10000.0 ** (-np.arange(HEAD // 2) / (HEAD // 2))[None]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def rotated(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """x [B, heads, S, H] rotated (half split) at positions [B, S]."""
    cos, sin = rotary_caches()
    return rotate(np, x, cos[positions][:, None], sin[positions][:, None], HEAD, interleaved=False)


def windowed_reference(q, k, v, past_key, past_value, totals, window, positions=None):
    """The output [B, S, N * H] and the step, with q and the new k rotated at `positions` if given."""
    q, k, v = heads_first(q, HEADS), heads_first(k, KV_HEADS), heads_first(v, KV_HEADS)
    if positions is not None:
        q, k = rotated(q, positions), rotated(k, positions)
    step = windowed_step(np, past_key, past_value, k, v, totals, window)
    out = attention(
        np, q, step.keys, step.values, causal=True, q_start=step.q_start, kv_valid=step.kv_valid, window_left=window - 1
    )
    return out.transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[2], -1), step


def run_onnx_runtime(steps, capacity, window, totals, seed, rotary=False):
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
    if rotary:
        feeds["cos_cache"], feeds["sin_cache"] = rotary_caches()
    got = gqa_session(steps, capacity, window, batch, rotary).run(None, feeds)
    return feeds, got


def assert_kept_rows_equal(got, want, totals, capacity, window):
    """present rows [0, L(T)) equal; ONNX Runtime leaves the rest unwritten."""
    assert got.shape == want.shape
    for b, kept in enumerate(kept_rows(np, totals, capacity, window).tolist()):
        np.testing.assert_allclose(got[b, :, :kept], want[b, :, :kept], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("steps", "capacity", "window", "totals"), CASES)
def test_matches_onnx_runtime(steps, capacity, window, totals, seed):
    feeds, (output, present_key, present_value) = run_onnx_runtime(steps, capacity, window, totals, seed)
    args = [feeds[n] for n in ("query", "key", "value", "past_key", "past_value")]
    want, step = windowed_reference(*args, totals, window)
    np.testing.assert_allclose(output, want, rtol=1e-5, atol=1e-5)
    assert_kept_rows_equal(present_key, step.present_key, totals, capacity, window)
    assert_kept_rows_equal(present_value, step.present_value, totals, capacity, window)


@pytest.mark.parametrize(
    ("steps", "capacity", "window", "totals"),
    [(1, 8, 4, [3, 9, 20]), (3, 8, 4, [14]), (10, 8, 4, [10, 10]), (5, 16, 6, [40])],
)
def test_rotary_positions_are_absolute(steps, capacity, window, totals, seed):
    """do_rotary rotates q and the new k at the absolute position T_b - S + s, not at the row the
    token takes in the buffer (the two differ once the past has wrapped; a first prompt has no past)."""
    feeds, (output, present_key, _) = run_onnx_runtime(steps, capacity, window, totals, seed, rotary=True)
    args = [feeds[n] for n in ("query", "key", "value", "past_key", "past_value")]
    absolute = np.asarray(totals)[:, None] - steps + np.arange(steps)[None]
    want, step = windowed_reference(*args, totals, window, positions=absolute)
    np.testing.assert_allclose(output, want, rtol=1e-5, atol=1e-5)
    assert_kept_rows_equal(present_key, step.present_key, totals, capacity, window)
    rows = kept_rows(np, np.asarray(totals) - steps, capacity, window)[:, None] + np.arange(steps)[None]
    if not np.array_equal(rows, absolute):
        by_row, _ = windowed_reference(*args, totals, window, positions=rows)
        assert not np.allclose(output, by_row, atol=1e-3)  # the row index would give another output


@pytest.mark.parametrize(
    ("steps", "totals", "refusal"), [(4, [4, 3], "too small"), (2, [11, 7], "batch_size must be 1")]
)
def test_onnx_runtime_refuses_padding_and_batched_chunks(steps, totals, refusal, seed):
    """ONNX Runtime takes no right padding (T_b < S) and no chunk onto a past in a batch of more than
    one: the prototype refuses the first as well; the plugin computes the second per batch entry."""
    with pytest.raises(Exception, match=refusal):
        run_onnx_runtime(steps, 8, 4, totals, seed)


def test_reference_refuses_right_padding():
    past = np.zeros((2, KV_HEADS, 8, HEAD), np.float32)
    new = np.zeros((2, KV_HEADS, 4, HEAD), np.float32)
    with pytest.raises(ValueError, match=r"3 tokens .* fewer than the 4 new ones"):
        windowed_step(np, past, past, new, new, [4, 3], 4)


def test_parity_zeros_only_the_rows_onnx_runtime_leaves_unwritten():
    """Op and model parity compare ONNX Runtime's present after L(T) as the zeros the plugins write
    (there ONNX Runtime leaves whatever the memory held: 3.7e19 in one parity run)."""
    from trtplug.parity.reference import zero_unwritten
    from trtplug.registry import load_registry

    spec = load_registry().get("group_query_attention")
    totals, capacity, window = [5, 9, 20], 8, 4
    past = np.zeros((3, KV_HEADS, capacity, HEAD), np.float32)
    inputs = [np.zeros((3, 1, HEADS * HEAD), np.float32), None, None, past, past, np.array(totals, np.int32) - 1]
    garbage = [np.full((3, 1, HEADS * HEAD), 7.0, np.float32), *[np.full(past.shape, 7.0, np.float32)] * 2]
    attrs = {"sliding_window_cache": 1, "local_window_size": window}
    output, present_key, present_value = zero_unwritten(spec, inputs, attrs, garbage)
    assert (output == 7.0).all()
    for b, kept in enumerate(kept_rows(np, totals, capacity, window).tolist()):
        for present in (present_key, present_value):
            assert (present[b, :, :kept] == 7.0).all() and not present[b, :, kept:].any()
    unchanged = zero_unwritten(spec, inputs, {**attrs, "sliding_window_cache": 0}, garbage)
    assert all((u == 7.0).all() for u in unchanged)
