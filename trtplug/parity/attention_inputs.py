"""Parity inputs of the attention ops that must agree with the case's shapes: sequence lengths of
a KV cache, rotary caches and positions (a spec names the generator in [parity] `generator`)."""

from __future__ import annotations

from typing import Any

import numpy as np

ROTARY_BASE = 10000.0
SMALL_FILTER_BOUND = -1000.0  # mask_filter_value above this: score + filter keeps float32's precision


def rotary_caches(max_position: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin caches [max_position, half] as exporters build them (angle pos * base^(-i / half))."""
    angles = np.arange(max_position)[:, None] * ROTARY_BASE ** (-np.arange(half) / max(half, 1))[None]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def cache_totals(batch: int, seq: int, past: int, pad: bool = True) -> np.ndarray:
    """Tokens per batch entry after the step, ragged: a first prompt (no past) right-pads entries
    1, 2 by a quarter of S each (unless not `pad`); with a past, entries hold P + S, P + S - 1,
    P + S - 2 tokens (never fewer than S)."""
    step = (max(1, seq // 4) if pad else 0) if past == 0 else 1
    totals = [past + seq - (b % 3) * step for b in range(batch)]
    return np.maximum(np.array(totals, dtype=np.int64), max(seq, 1) if past else 1)


def group_query_attention_inputs(
    shapes: dict[str, tuple[int, ...]],
    attrs: dict[str, Any],
    rng: np.random.Generator,
    values: dict[str, tuple[Any, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """seqlens_k (= T_b - 1), total_sequence_length (max T_b, a scalar), and, when the case has
    them, cos/sin caches and position_ids (past_b + s, as ONNX Runtime derives them). A case that
    fixes seqlens_k (a windowed cache, whose totals pass its capacity) keeps them."""
    batch, seq = shapes["query"][:2]
    past = shapes["past_key"][2] if "past_key" in shapes else 0
    # The outputs of padding rows are unspecified: ONNX Runtime's CPU kernel computes them
    # differently with softcap or a head sink (they see padding keys), so those cases do not pad.
    pad = not attrs.get("softcap") and "head_sink" not in shapes
    fixed = (values or {}).get("seqlens_k")
    totals = np.array(fixed, np.int64) + 1 if fixed is not None else cache_totals(batch, seq, past, pad=pad)
    total = int(totals.max()) if batch else seq
    out = {"seqlens_k": (totals - 1).astype(np.int32), "total_sequence_length": np.array(total, dtype=np.int32)}
    if "cos_cache" in shapes:
        out["cos_cache"], out["sin_cache"] = rotary_caches(*shapes["cos_cache"])
    if "position_ids" in shapes:
        first_prompt = seq == total and not attrs.get("sliding_window_cache")
        starts = np.zeros(batch, np.int64) if first_prompt else totals - seq
        out["position_ids"] = starts[:, None] + np.arange(seq, dtype=np.int64)[None]
    if int(attrs.get("kv_cache_bit_width", 0)) == 8:
        out.update(_int8_cache(shapes, rng))
    return out


def _int8_cache(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """An int8 KV cache: codes over the whole range and scales of 0.01-0.04 (N(0, 1) rows past
    +-1.3..5 saturate, so the clamp is exercised)."""
    out = {name: rng.integers(-128, 128, shapes[name]).astype(np.int8) for name in ("past_key", "past_value")}
    for name in ("k_scale", "v_scale"):
        if name in shapes:
            out[name] = rng.uniform(0.01, 0.04, shapes[name]).astype(np.float32)
    return out


def bert_attention_inputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """com.microsoft Attention's weights scaled by 1 / sqrt(D) (Q and K of unit size, a softmax
    that is not one-hot for every D), and mask_index in the form its shape names: lengths [B]
    in [1, T]; [2B] ends then starts, a start at most T - S; 0/1 masks with key 0 kept; with
    B >= 3 the last entry masks every key (length 0, end = start, all zeros), the fully masked
    rows ONNX Runtime gives mask_filter_value-shifted scores, not zeros. (B = 2 keeps them out:
    score - 10000 is rounded to 2**-10 steps in float32, so on long rows such as the 'large'
    case's the reference's own rounding moves outputs past the fp32 tolerance.)"""
    weights = rng.standard_normal(shapes["weights"]) / np.sqrt(max(shapes["weights"][0], 1))
    return {"weights": weights.astype(np.float32), **_mask_index(shapes, rng)}


def _mask_index(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    if "mask_index" not in shapes:
        return {}
    batch, seq = shapes["input"][:2]
    total = seq + (shapes["past"][3] if "past" in shapes else 0)
    form = shapes["mask_index"]
    if len(form) == 1 and form[0] == 2 * batch and batch > 0:
        starts = rng.integers(0, total - seq + 1, batch)
        ends = rng.integers(starts + 1, total + 1)
        if batch >= 3:
            ends[-1] = starts[-1]
        return {"mask_index": np.concatenate([ends, starts]).astype(np.int32)}
    return {"mask_index": key_mask(form, total, rng, fully_masked_last=batch >= 3)}


def key_mask(form: tuple[int, ...], total: int, rng: np.random.Generator, fully_masked_last: bool) -> np.ndarray:
    """int32 key lengths [B] in [1, T], or a 0/1 mask [B, T] / [B, S, T] with about 30% of the
    keys masked and key 0 kept; with `fully_masked_last` the last batch entry masks every key."""
    if len(form) == 1:
        mask = rng.integers(1, total + 1, form)
    else:
        mask = (rng.random(form) < 0.7).astype(np.int32)
        mask[..., 0] = 1
    if fully_masked_last and form[0] > 0:
        mask[-1] = 0
    return mask.astype(np.int32)


def multi_head_attention_inputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """MultiHeadAttention's key_padding_mask (key_mask above, T = past + new keys). The last batch
    entry is all padding only where the case sets a small mask_filter_value (above -1000):
    ONNX Runtime gives such rows filter-shifted scores, and with the default -10000 those are
    rounded to 2**-10 steps in float32, further from the exact result than the fp32 tolerance
    (see bert_attention_inputs)."""
    if "key_padding_mask" not in shapes:
        return {}
    query, key = shapes["query"], shapes.get("key")
    new = query[1] if key is None else key[2] if len(key) == 4 else key[1]
    total = new + (shapes["past_key"][2] if "past_key" in shapes else 0)
    filtered = attrs.get("mask_filter_value", -10000.0) > SMALL_FILTER_BOUND and query[0] >= 2
    return {"key_padding_mask": key_mask(shapes["key_padding_mask"], total, rng, fully_masked_last=filtered)}
