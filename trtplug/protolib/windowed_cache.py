"""ONNX Runtime's windowed KV cache for com.microsoft GroupQueryAttention (`sliding_window_cache=1`,
as ONNX Runtime GenAI writes Gemma 2/3's local layers), pinned down against ONNX Runtime 1.32's
CPU kernel (tests/test_gqa_windowed_cache.py).

With capacity C (past_key's dim 2) and window W (local_window_size, C >= W >= 1), a sequence of
T tokens keeps its last L(T) rows: T while T <= C, else W + (T - W) mod (C - W + 1) (a full
buffer drops its oldest rows, keeping W - 1, before the next token). A step of S new tokens onto
T - S attends over the past's L(T - S) valid rows followed by the S new rows, causal with window
W in absolute positions (do_rotary too rotates at T - S + s, not at the buffer row); present
[B, Nk, C, H] holds the last L(T) of those rows in rows [0, L(T)), and ONNX Runtime leaves the
rows after them unwritten (ONNX Runtime's CPU kernel gave zeros there in every run here; the
prototype and the plugin write zeros). ONNX Runtime needs the past inputs, W >= 1 and every
T_b >= S (no right padding, refused here too), and a chunk onto a past (S > 1, T > S) in a batch
of one; the prototype and the plugin take such chunks per batch entry.

The GroupQueryAttention prototype (pyplugins/group_query_attention.py) runs on windowed_step; the
CUDA launcher computes the same rows (plugins/group_query_attention)."""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple


def kept_rows(xp: ModuleType, totals: Any, capacity: int, window: int) -> Any:
    """L(T) for each total T (an int array): the rows of the windowed buffer that hold tokens."""
    if not 1 <= window <= capacity:
        raise ValueError(f"sliding_window_cache needs 1 <= local_window_size <= capacity, got {window} and {capacity}")
    totals = xp.asarray(totals, dtype=xp.int64)
    return xp.where(totals <= capacity, totals, window + (totals - window) % (capacity - window + 1))


class WindowedStep(NamedTuple):
    """One step's attention operands and the present caches (heads-first [B, Nk, rows, H])."""

    keys: Any  # the past's kept rows, then the S new rows, per batch; zeros after kv_valid
    values: Any
    kv_valid: Any  # [B] rows of keys/values per batch: L(T - S) + S
    q_start: Any  # [B] the first new row's index in keys: L(T - S)
    present_key: Any  # [B, Nk, C, H]: the last L(T) rows in rows [0, L(T)), zeros after
    present_value: Any


def windowed_step(
    xp: ModuleType, past_key: Any, past_value: Any, new_key: Any, new_value: Any, totals: Any, window: int
) -> WindowedStep:
    """The step of new_key/new_value [B, Nk, S, H] onto the windowed past [B, Nk, C, H], each batch
    entry holding totals[b] tokens after it (seqlens_k + 1)."""
    batch, kv_heads, capacity, head = past_key.shape
    steps = new_key.shape[2]
    totals = xp.asarray(totals, dtype=xp.int64).reshape(batch)
    if batch and int(totals.min()) < steps:
        raise ValueError(
            f"sliding_window_cache: a batch entry holds {int(totals.min())} tokens (seqlens_k + 1), fewer than "
            f"the {steps} new ones (a windowed cache takes no right padding)"
        )
    past_rows = kept_rows(xp, totals - steps, capacity, window)
    kept = kept_rows(xp, totals, capacity, window)
    rows = int(past_rows.max()) + steps if batch else steps
    keys = xp.zeros((batch, kv_heads, rows, head), dtype=new_key.dtype)
    values = xp.zeros_like(keys)
    present = [xp.zeros_like(past_key), xp.zeros_like(past_value)]
    pairs = ((keys, past_key, new_key, present[0]), (values, past_value, new_value, present[1]))
    for b in range(batch):
        first, last = int(past_rows[b]), int(past_rows[b]) + steps
        for joined, past, new, out in pairs:
            joined[b, :, :first] = past[b, :, :first]
            joined[b, :, first:last] = new[b]
            out[b, :, : int(kept[b])] = joined[b, :, last - int(kept[b]) : last]
    return WindowedStep(keys, values, past_rows + steps, past_rows, present[0], present[1])
