"""LinearAttention prototype (com.microsoft, as ONNX Runtime 1.32's CPU kernel computes it).

One state S [d_k, d_v] per (batch, kv head), walked token by token in float32 (the spec's header has
the four update rules and the head mapping). The NumPy path is also the CPU path; on CuPy the same
array code runs (one step per token: a prototype, not the chunked algorithm).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

INPUTS = ("query", "key", "value", "past_state", "decay", "beta")
GATED = ("gated", "gated_delta")
DELTA = ("delta", "gated_delta")


def _named(inputs: Sequence[Any]) -> dict[str, Any]:
    """Inputs by name; absent ones (None, or the 1-D empty stand-in a plugin receives) as None."""
    padded = [*inputs, *[None] * len(INPUTS)][: len(INPUTS)]
    absent = {n for n, a in zip(INPUTS, padded, strict=True) if a is None or (n not in INPUTS[:3] and a.shape == (0,))}
    return {n: None if n in absent else a for n, a in zip(INPUTS, padded, strict=True)}


def geometry(shapes: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """B, T, Hq, Hk, Hkv, d_k, d_v and output heads from the shapes (ints or dimension expressions)."""
    batch, seq, width = shapes["query"][:3]
    hq, hkv = int(attrs["q_num_heads"]), int(attrs["kv_num_heads"])
    dk = width // hq
    dv = shapes["value"][2] // hkv
    return {"B": batch, "T": seq, "Hq": hq, "Hkv": hkv, "dk": dk, "dv": dv, "Hout": max(hq, hkv)}


def problem(x: Mapping[str, Any], attrs: Mapping[str, Any]) -> str | None:
    """Why ONNX Runtime refuses these shapes and attributes, or None."""
    g = geometry({n: a.shape for n, a in x.items() if a is not None}, attrs)
    hq, hkv, dk, dv = g["Hq"], g["Hkv"], g["dk"], g["dv"]
    q, k, v = x["query"].shape, x["key"].shape, x["value"].shape
    if len(q) != 3 or len(k) != 3 or len(v) != 3 or k[:2] != q[:2] or v[:2] != q[:2]:
        return "query, key and value must be 3-D [B, T, heads * d] of one batch and length"
    if dk == 0 or q[2] != hq * dk or k[2] % dk or v[2] != hkv * dv:
        return "query, key and value widths must be whole heads"
    if hkv % (k[2] // dk) or (max(hq, hkv) % min(hq, hkv)):
        return "kv_num_heads must be a multiple of the key heads, and the larger of q/kv heads of the smaller"
    rule = attrs.get("update_rule", "gated_delta")
    for name, needed in (("decay", rule in GATED), ("beta", rule in DELTA)):
        if needed and x[name] is None:
            return f"update_rule {rule} needs {name}"
    if x["decay"] is not None and x["decay"].shape[2] not in (hkv, hkv * dk):
        return "decay's last dimension must be kv_num_heads or kv_num_heads * d_k"
    if x["beta"] is not None and x["beta"].shape[2] not in (hkv, 1):
        return "beta's last dimension must be kv_num_heads or 1"
    if x["past_state"] is not None and tuple(x["past_state"].shape) != (q[0], hkv, dk, dv):
        return "past_state must be [B, kv_num_heads, d_k, d_v]"
    return None


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    x = _named(inputs)
    g = geometry({n: x[n].shape for n in INPUTS[:3]}, attrs)
    return [(g["B"], g["T"], g["Hout"] * g["dv"]), (g["B"], g["Hkv"], g["dk"], g["dv"])]


def output_dims(inputs: Sequence[Any], attrs: Mapping[str, Any], builder: Any) -> list[tuple[Any, ...]]:
    """output_shapes on dimension expressions."""
    g = geometry(dict(zip(INPUTS[:3], inputs[:3], strict=True)), attrs)
    return [(g["B"], g["T"], g["dv"] * g["Hout"]), (g["B"], builder.constant(g["Hkv"]), g["dk"], g["dv"])]


def _per_state(xp: ModuleType, x: Mapping[str, Any], g: Mapping[str, int]) -> tuple[Any, Any, Any]:
    """q [B, T, Hkv, G, dk] (the query heads each state serves), k [B, T, Hkv, dk], v [B, T, Hkv, dv]."""
    b, t, hq, hkv, dk, dv = g["B"], g["T"], g["Hq"], g["Hkv"], g["dk"], g["dv"]
    q = x["query"].astype(xp.float32).reshape(b, t, hq, dk)
    q = q.reshape(b, t, hkv, hq // hkv, dk) if hq >= hkv else q[:, :, xp.arange(hkv) * hq // hkv, None]
    k = x["key"].astype(xp.float32).reshape(b, t, x["key"].shape[2] // dk, dk)
    k = k[:, :, xp.arange(hkv) // (hkv // k.shape[2])]
    return q, k, x["value"].astype(xp.float32).reshape(b, t, hkv, dv)


def _gates(xp: ModuleType, x: Mapping[str, Any], g: Mapping[str, int], rule: str) -> tuple[Any, Any]:
    """exp(decay) as [B, T, Hkv, dk or 1, 1] and beta as [B, T, Hkv or 1, 1] (None where the rule has none)."""
    b, t, hkv = g["B"], g["T"], g["Hkv"]
    decay = None
    if rule in GATED:
        d = x["decay"].astype(xp.float32)
        decay = xp.exp(d.reshape(b, t, hkv, -1, 1) if d.shape[2] != hkv else d.reshape(b, t, hkv, 1, 1))
    beta = x["beta"].astype(xp.float32)[..., None] if rule in DELTA else None
    return decay, beta


def recurrence(xp: ModuleType, x: Mapping[str, Any], attrs: Mapping[str, Any]) -> tuple[Any, Any]:
    """(output [B, T, Hout * dv], present_state [B, Hkv, dk, dv]) in float32."""
    g = geometry({n: x[n].shape for n in INPUTS[:3]}, attrs)
    rule = attrs.get("update_rule", "gated_delta")
    scale = float(attrs.get("scale", 0.0)) or 1.0 / float(g["dk"]) ** 0.5
    q, k, v = _per_state(xp, x, g)
    decay, beta = _gates(xp, x, g, rule)
    past = x["past_state"]
    shape = (g["B"], g["Hkv"], g["dk"], g["dv"])
    state = xp.zeros(shape, xp.float32) if past is None else past.astype(xp.float32).copy()
    out = xp.empty((*q.shape[:4], g["dv"]), xp.float32)
    for t in range(g["T"]):
        if decay is not None:
            state *= decay[:, t]
        kt = k[:, t]
        delta = v[:, t]
        if beta is not None:
            delta = beta[:, t] * (delta - xp.einsum("bhk,bhkv->bhv", kt, state))
        state += kt[..., :, None] * delta[..., None, :]
        out[:, t] = xp.einsum("bhgk,bhkv->bhgv", q[:, t], state) * xp.float32(scale)
    return out.reshape(g["B"], g["T"], g["Hout"] * g["dv"]), state


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x = _named(inputs)
    reason = problem(x, attrs)
    if reason is not None:
        raise ValueError(f"LinearAttention: {reason}")
    out, state = recurrence(xp, x, attrs)
    outputs[0][...] = out.astype(outputs[0].dtype)
    outputs[1][...] = state.astype(outputs[1].dtype)


# `trtplug bench`: Qwen3.5-like Gated DeltaNet layers (16 query/key heads over 32 states, d 128, q
# pre-scaled). Requests below PREFILL_FROM time a decode step (T = 1) of as many sequences as fit
# (the state is the traffic: read once, written once); larger ones a 4096-token prefill of 1-4
# sequences. Small requests (the CPU tests) shrink d until one sequence's state fits.
_HEADS = {"Hq": 16, "Hkv": 32, "d": 128}
PREFILL_TOKENS = 4096
PREFILL_FROM = 128 << 20


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"q_num_heads": _HEADS["Hq"], "kv_num_heads": _HEADS["Hkv"], "scale": 1.0, "update_rule": "gated_delta"}


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    hq, hkv, d = _HEADS["Hq"], _HEADS["Hkv"], _HEADS["d"]
    while d > 8 and 2 * hkv * d * d * itemsize > nbytes:
        d //= 2
    state = 2 * hkv * d * d * itemsize  # past read, present written
    token = (2 * hq * d + 2 * hkv * d + 2 * hkv) * itemsize  # q, k, v and output, decay, beta
    if nbytes >= PREFILL_FROM and d == _HEADS["d"]:
        batch, tokens = max(1, min(4, nbytes // (PREFILL_TOKENS * token + state))), PREFILL_TOKENS
    else:
        batch, tokens = max(1, nbytes // (state + token)), 1
    return {
        "query": (batch, tokens, hq * d),
        "key": (batch, tokens, hq * d),
        "value": (batch, tokens, hkv * d),
        "past_state": (batch, hkv, d, d),
        "decay": (batch, tokens, hkv),
        "beta": (batch, tokens, hkv),
    }


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """The floor: every input read once (the state included), output and present_state written once."""
    batch, tokens = shapes["query"][:2]
    hkv, dk, dv = shapes["past_state"][1:]
    hout = max(shapes["query"][2] // dk, hkv)
    written = batch * tokens * hout * dv + batch * hkv * dk * dv
    return (sum(math.prod(s) for s in shapes.values()) + written) * itemsize


def bench_inputs(shapes: dict[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    from trtplug.parity.linear_attention_inputs import linear_attention_inputs

    return linear_attention_inputs(shapes, bench_attrs(shapes), rng)


def torch_timed(shapes: Mapping[str, tuple[int, ...]]) -> bool:
    """The bench times torch on decode steps only: a prefill's loop launches about ten kernels a
    token (40k a call at 4096 tokens), minutes under the bench's profiler (a four-op group ran out
    its 240 s on the H100), and compares with no fused kernel."""
    return shapes["query"][1] == 1


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """The recurrence as a loop of torch ops per token (what a framework without a fused kernel runs)."""
    x = _named(inputs)
    g = geometry({n: x[n].shape for n in INPUTS[:3]}, attrs)
    b, t, hq, hkv, dk, dv = g["B"], g["T"], g["Hq"], g["Hkv"], g["dk"], g["dv"]
    rule = attrs.get("update_rule", "gated_delta")
    scale = float(attrs.get("scale", 0.0)) or dk**-0.5
    q = x["query"].float().view(b, t, hq, dk)
    q = q.view(b, t, hkv, hq // hkv, dk) if hq >= hkv else q.repeat_interleave(hkv // hq, dim=2).unsqueeze(3)
    k = x["key"].float().view(b, t, -1, dk)
    k = k.repeat_interleave(hkv // k.shape[2], dim=2)
    v = x["value"].float().view(b, t, hkv, dv)
    state = x["past_state"].float().clone() if x["past_state"] is not None else q.new_zeros(b, hkv, dk, dv)
    decay = x["decay"].float().exp().view(b, t, hkv, -1, 1) if rule in GATED else None
    beta = x["beta"].float().unsqueeze(-1) if rule in DELTA else None
    outs = []
    for i in range(t):
        if decay is not None:
            state = state * decay[:, i]
        delta = v[:, i]
        if beta is not None:
            delta = beta[:, i] * (delta - torch.einsum("bhk,bhkv->bhv", k[:, i], state))
        state = state + k[:, i].unsqueeze(-1) * delta.unsqueeze(-2)
        outs.append(torch.einsum("bhgk,bhkv->bhgv", q[:, i], state) * scale)
    out = torch.stack(outs, 1).reshape(b, t, -1)
    return out.to(x["query"].dtype), state.to(x["past_state"].dtype if x["past_state"] is not None else out.dtype)
