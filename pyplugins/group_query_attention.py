"""GroupQueryAttention prototype (com.microsoft, as ONNX Runtime's CPU kernel computes it).

query [B, S, N * H] with key/value [B, S, Nk * H], or packed QKV [B, S, (N + 2 Nk) * H] (key and
value absent); past_key/past_value [B, Nk, P, H] (BNSH). Batch entry b holds T_b = seqlens_k[b] + 1
tokens after this step; on the first prompt (S == total_sequence_length) the past is empty and all
S new rows enter the cache (right padding included), else the past holds T_b - S of them. The new
rows go to present[:, :, past_b:past_b + S]; present has max(P, total_sequence_length) rows, zeros
past the written ones. Query row s sits at position past_b + s: causal, and local_window_size
keys back when >= 0. do_rotary rotates q and the new k first (cos/sin caches [maxPos, R / 2],
positions from position_ids or past_b + s). head_sink / smooth_softmax add a sink logit per head.
sliding_window_cache = 1: past_key is ONNX Runtime's windowed buffer of capacity P, present keeps
P rows (trtplug/protolib/windowed_cache.py: the step, its attention operands and present).
kv_cache_bit_width = 8: past/present are int8 codes (trtplug/protolib/kv_quant.py): the new rows
are quantized with k_scale/v_scale, attention reads the dequantized present rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib import kv_quant
from trtplug.protolib.attention import attention
from trtplug.protolib.rotary import rotate
from trtplug.protolib.windowed_cache import kept_rows, windowed_step

INPUTS = (
    "query",
    "key",
    "value",
    "past_key",
    "past_value",
    "seqlens_k",
    "total_sequence_length",
    "cos_cache",
    "sin_cache",
    "position_ids",
    "attention_bias",
    "head_sink",
    "k_scale",
    "v_scale",
)


def _named(inputs: Sequence[Any]) -> dict[str, Any]:
    """Inputs by name; absent ones (None, or the 1-D empty stand-in a plugin receives) as None."""
    padded = [*inputs, *[None] * len(INPUTS)][: len(INPUTS)]
    kept = ("query", "seqlens_k")
    return {
        n: None if a is None or (n not in kept and a.shape == (0,)) else a for n, a in zip(INPUTS, padded, strict=True)
    }


def geometry(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> dict[str, int]:
    """B, S, N, Nk, H, P (past rows), total and present rows of a call."""
    x = _named(inputs)
    batch, seq, width = x["query"].shape
    heads, kv_heads = int(attrs["num_heads"]), int(attrs["kv_num_heads"])
    packed = x["key"] is None
    head = width // (heads + 2 * kv_heads) if packed else width // heads
    past = 0 if x["past_key"] is None else int(x["past_key"].shape[2])
    total = int(x["total_sequence_length"].reshape(-1)[0])
    g = {"B": batch, "S": seq, "N": heads, "Nk": kv_heads, "H": head, "P": past, "total": total}
    present = past if windowed(attrs) else max(past, total)  # a windowed buffer keeps its capacity
    return {**g, "present": present, "packed": int(packed)}


def windowed(attrs: Mapping[str, Any]) -> bool:
    return bool(int(attrs.get("sliding_window_cache", 0)))


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    g = geometry(inputs, attrs)
    cache = (g["B"], g["Nk"], g["present"], g["H"])
    return [(g["B"], g["S"], g["N"] * g["H"]), cache, cache]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimensions; total_sequence_length is a shape input: its value (as in the
    native plugin, a 0-D one without a value expression gives past + S)."""
    x = dict(zip(INPUTS, [*inputs, *[None] * len(INPUTS)][: len(INPUTS)], strict=True))
    batch, seq, width = x["query"]
    heads, kv_heads = int(attrs["num_heads"]), int(attrs["kv_num_heads"])
    head = width // (heads + 2 * kv_heads) if x["key"] is None else width // heads
    past = x["past_key"][2] if x["past_key"] is not None else 0
    total = x["total_sequence_length"][0] if x["total_sequence_length"] else seq + past
    rows = past if windowed(attrs) else total.maximum(past)
    cache = (batch, kv_heads, rows, head)
    return [(batch, seq, head * heads), cache, cache]


def _split_qkv(xp: ModuleType, x: dict[str, Any], g: dict[str, int]) -> tuple[Any, Any, Any]:
    """q [B, N, S, H], new k and v [B, Nk, S, H] in float32."""
    b, s, n, nk, h = g["B"], g["S"], g["N"], g["Nk"], g["H"]
    query = x["query"].astype(xp.float32)
    if g["packed"]:
        q, k, v = query[..., : n * h], query[..., n * h : (n + nk) * h], query[..., (n + nk) * h :]
    else:
        q, k, v = query, x["key"].astype(xp.float32), x["value"].astype(xp.float32)

    def heads_first(a: Any, count: int) -> Any:
        return xp.ascontiguousarray(a.reshape(b, s, count, h).transpose(0, 2, 1, 3))

    return heads_first(q, n), heads_first(k, nk), heads_first(v, nk)


def _rotary(xp: ModuleType, x: dict[str, Any], q: Any, k: Any, past: Any, attrs: Mapping[str, Any]) -> tuple[Any, Any]:
    """q and k rotated at their positions (position_ids, else past_b + s)."""
    seq = q.shape[2]
    if x["position_ids"] is not None:
        positions = x["position_ids"].astype(xp.int64).reshape(q.shape[0], seq)
    else:
        positions = past.reshape(-1, 1) + xp.arange(seq).reshape(1, seq)
    cos, sin = x["cos_cache"][positions][:, None], x["sin_cache"][positions][:, None]  # [B, 1, S, R/2]
    rotary_dim, interleaved = 2 * x["cos_cache"].shape[1], bool(attrs["rotary_interleaved"])
    return rotate(xp, q, cos, sin, rotary_dim, interleaved), rotate(xp, k, cos, sin, rotary_dim, interleaved)


def _caches(xp: ModuleType, x: dict[str, Any], k: Any, v: Any, past: Any, g: dict[str, int]) -> tuple[Any, Any]:
    """present_key/value [B, Nk, present, H]: past_b cached rows, then the S new ones, zeros after."""
    shape = (g["B"], g["Nk"], g["present"], g["H"])
    present_k, present_v = xp.zeros(shape, k.dtype), xp.zeros(shape, v.dtype)  # float32, or int8 codes
    for b in range(g["B"]):
        kept = int(past[b])
        if kept > g["P"] or kept + g["S"] > g["present"] or kept < 0:
            raise ValueError(f"batch {b}: {kept} past rows and {g['S']} new ones do not fit the cache")
        if kept:
            present_k[b, :, :kept] = x["past_key"][b, :, :kept]
            present_v[b, :, :kept] = x["past_value"][b, :, :kept]
        present_k[b, :, kept : kept + g["S"]] = k[b]
        present_v[b, :, kept : kept + g["S"]] = v[b]
    return present_k, present_v


def past_lengths(xp: ModuleType, seqlens_k: Any, g: dict[str, int]) -> Any:
    """Cached rows before this step per batch entry: 0 on the first prompt, else T_b - S."""
    totals = seqlens_k.astype(xp.int64).reshape(-1) + 1
    return xp.zeros_like(totals) if g["S"] == g["total"] else totals - g["S"]


def _padded_bias(xp: ModuleType, bias: Any, keys: int) -> Any:
    """attention_bias [B|1, N|1, S, total] widened with zeros to the present rows (masked keys)."""
    if bias is None or bias.shape[-1] == keys:
        return bias
    widened = xp.zeros((*bias.shape[:-1], keys), xp.float32)
    widened[..., : bias.shape[-1]] = bias
    return widened


def window_left(attrs: Mapping[str, Any]) -> int:
    """Keys before the query's own a row may also see: local_window_size counts the query's key."""
    size = int(attrs["local_window_size"])
    if size == 0 or size < -1:
        raise ValueError(f"local_window_size must be -1 or positive, got {size}")
    return size - 1 if size > 0 else -1


def reference_unwritten(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[Any]:
    """Per output, a mask of the elements ONNX Runtime leaves unwritten (None: all written): with a
    windowed buffer, present's rows after L(T), which the prototype and the plugin write as zeros
    (parity zeros them in ONNX Runtime's outputs)."""
    import numpy as np

    x = _named(inputs)
    if not windowed(attrs) or x["past_key"] is None:
        return [None, None, None]
    totals = np.asarray(x["seqlens_k"], np.int64).reshape(-1) + 1
    capacity = x["past_key"].shape[2]
    kept = kept_rows(np, totals, capacity, int(attrs["local_window_size"]))
    after = np.arange(capacity)[None, :] >= kept[:, None]  # [B, C]
    mask = np.broadcast_to(after[:, None, :, None], x["past_key"].shape)
    return [None, mask, mask]


def _windowed_operands(xp: ModuleType, x: dict[str, Any], k: Any, v: Any, attrs: Mapping[str, Any]) -> Any:
    """The windowed step: keys/values to attend over, q_start, kv_valid and the present caches."""
    if x["past_key"] is None or x["past_value"] is None:
        raise ValueError("sliding_window_cache = 1 needs past_key and past_value (the windowed buffer)")
    if x["attention_bias"] is not None:
        raise ValueError("sliding_window_cache = 1 with attention_bias is not covered")
    totals = x["seqlens_k"].astype(xp.int64).reshape(-1) + 1
    past_k, past_v = x["past_key"].astype(xp.float32), x["past_value"].astype(xp.float32)
    return windowed_step(xp, past_k, past_v, k, v, totals, int(attrs["local_window_size"]))


def _rotary_starts(xp: ModuleType, x: dict[str, Any], g: dict[str, int], attrs: Mapping[str, Any]) -> Any:
    """Each batch entry's first new position: T_b - S in a windowed buffer (absolute, not the
    buffer row), else the cached rows before the step."""
    if windowed(attrs):
        return x["seqlens_k"].astype(xp.int64).reshape(-1) + 1 - g["S"]
    return past_lengths(xp, x["seqlens_k"], g)


def _cache_scales(xp: ModuleType, x: dict[str, Any], g: dict[str, int], attrs: Mapping[str, Any]) -> Any:
    """(k scale, v scale) broadcast to [1, Nk, 1, H] for an int8 cache, else None."""
    if not kv_quant.quantized(attrs):
        return None
    past = [x[n] for n in ("past_key", "past_value") if x[n] is not None]  # an empty past arrives absent
    if any(p.dtype != xp.int8 for p in past):
        raise ValueError("kv_cache_bit_width = 8 needs int8 past_key and past_value")
    return tuple(
        kv_quant.broadcast_scale(xp, x[f"{c}_scale"], str(attrs[f"{c}_quant_type"]), g["Nk"], g["H"]) for c in "kv"
    )


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = _named(inputs)
    g = geometry(inputs, attrs)
    q, k, v = _split_qkv(xp, x, g)
    if int(attrs["do_rotary"]):
        q, k = _rotary(xp, x, q, k, _rotary_starts(xp, x, g, attrs), attrs)
    scales = _cache_scales(xp, x, g, attrs)
    if windowed(attrs):
        if scales is not None:
            raise ValueError("sliding_window_cache = 1 with a quantized cache is not covered")
        step = _windowed_operands(xp, x, k, v, attrs)
        keys, values, q_start, kv_valid = step.keys, step.values, step.q_start, step.kv_valid
        present_k, present_v = step.present_key, step.present_value
    else:
        q_start = past_lengths(xp, x["seqlens_k"], g)
        if scales is not None:  # int8 codes in present; attention reads them dequantized
            k, v = kv_quant.quantize(xp, k, scales[0]), kv_quant.quantize(xp, v, scales[1])
        present_k, present_v = _caches(xp, x, k, v, q_start, g)
        keys, values = present_k, present_v
        if scales is not None:
            keys, values = kv_quant.dequantize(xp, keys, scales[0]), kv_quant.dequantize(xp, values, scales[1])
        kv_valid = x["seqlens_k"].astype(xp.int64).reshape(-1) + 1
    sink = x["head_sink"]
    out = attention(
        xp,
        q,
        keys,
        values,
        scale=float(attrs["scale"]),
        causal=True,
        q_start=q_start,
        kv_valid=kv_valid,
        window_left=window_left(attrs),
        softcap=float(attrs["softcap"]),
        bias=_padded_bias(xp, x["attention_bias"], keys.shape[2]),
        head_sink=None if sink is None else sink.astype(xp.float32),
        smooth_softmax=bool(attrs["smooth_softmax"]),
    )
    outputs[0][...] = out.transpose(0, 2, 1, 3).reshape(outputs[0].shape).astype(outputs[0].dtype)
    for target, cache in zip(outputs[1:3], (present_k, present_v), strict=False):  # present_* optional
        target[...] = cache.astype(target.dtype)


# `trtplug bench`: one decode step of a Llama-3-8B-like layer (GQA 32/8, head 128, batch 4) onto a
# cache sized to the request; the op reads the cache and writes the grown one.
def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    return {"num_heads": 32, "kv_num_heads": 8}


_BENCH = {"B": 4, "N": 32, "Nk": 8, "H": 128}


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    b, n, nk, h = _BENCH["B"], _BENCH["N"], _BENCH["Nk"], _BENCH["H"]
    past = max(1, nbytes // (4 * b * nk * h * itemsize))  # past read + present written, K and V
    cache = (b, nk, past, h)
    new = {"query": (b, 1, n * h), "key": (b, 1, nk * h), "value": (b, 1, nk * h)}
    return {**new, "past_key": cache, "past_value": cache, "seqlens_k": (b,), "total_sequence_length": ()}


def bench_inputs(shapes: dict[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Every batch entry holds its whole past plus the new tokens (what the torch equivalent computes)."""
    import numpy as np

    batch, seq = shapes["query"][:2]
    total = shapes["past_key"][2] + seq
    return {"seqlens_k": np.full(batch, total - 1, np.int32), "total_sequence_length": np.array(total, np.int32)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Separate q/k/v, past + new appended, causal SDPA with GQA (uniform lengths, no extras)."""
    x = _named(inputs)
    batch, seq, _ = x["query"].shape
    heads, kv_heads = int(attrs["num_heads"]), int(attrs["kv_num_heads"])
    head = x["query"].shape[2] // heads

    def heads_first(a: Any, count: int) -> Any:
        return a.view(batch, seq, count, head).transpose(1, 2)

    q = heads_first(x["query"], heads)
    k, v = heads_first(x["key"], kv_heads), heads_first(x["value"], kv_heads)
    if x["past_key"] is not None:
        k, v = torch.cat([x["past_key"], k], dim=2), torch.cat([x["past_value"], v], dim=2)
    causal = seq > 1  # one query row attends to the whole cache; a prompt (no past) is causal
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    return out.transpose(1, 2).reshape(batch, seq, heads * head), k, v
