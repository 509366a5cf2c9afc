"""MoE prototype (com.microsoft MoE): a mixture-of-experts FFN, all in float32.

Per token (rows of input flattened to [tokens, hidden]): the k experts with the largest router
logits (ties: the higher expert index, as ONNX Runtime's partial_sort of (prob, index) pairs
descending picks), weighted by their softmax probability over all experts (divided by the sum of
the k when normalize_routing_weights). Each selected expert e computes
    h = x @ fc1[e]^T + b1[e]                       fc1: [E, fusion * inter, hidden] ([out, in])
    a = act(h)                                     relu, gelu (tanh form), silu, identity
        * (x @ fc3[e]^T + b3[e])                   only when fc3 is given (the gated form)
    a = swiglu(g, l)                               swiglu: g, l from h interleaved (fusion 1),
                                                   halves (fusion 2), or h and the fc3 output (0)
    y_e = a @ fc2[e]^T + b2[e]                     fc2: [E, hidden, inter]
and the token's output is the weighted sum of its y_e (a zero weight adds nothing).
swiglu(g, l) = G * sigmoid(alpha * G) * (L + beta), G = min(g, limit), L = clamp(l, -limit, limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

BENCH_HIDDEN = BENCH_INTER = 2880  # gpt-oss-20B's hidden and expert sizes
BENCH_EXPERTS = 32
BENCH_K = 4


def _given(array: Any) -> bool:
    return array is not None and array.size > 0


def routes(xp: ModuleType, logits: Any, k: int, normalize: bool) -> tuple[Any, Any]:
    """(experts [tokens, k] int64, weights [tokens, k] float32) from router logits [tokens, E]."""
    num_experts = logits.shape[1]
    # A stable sort of the reversed columns puts the higher index first among equal logits.
    order = xp.argsort(-logits[:, ::-1], axis=1, kind="stable")[:, :k]
    experts = num_experts - 1 - order
    shifted = xp.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    weights = xp.take_along_axis(probs, experts, axis=1)
    if normalize:
        weights = weights / weights.sum(axis=1, keepdims=True)
    return experts, weights.astype(xp.float32)


def activate(xp: ModuleType, h: Any, gate3: Any, attrs: Mapping[str, Any]) -> Any:
    """The expert's activation on fc1's output h (and fc3's output gate3, or None)."""
    kind = str(attrs.get("activation_type", "relu"))
    if kind == "swiglu":
        fusion = int(attrs.get("swiglu_fusion", 0))
        if fusion == 1:
            g, lin = h[:, 0::2], h[:, 1::2]
        elif fusion == 2:
            g, lin = xp.split(h, 2, axis=1)
        else:
            g, lin = h, gate3
        limit = float(attrs.get("swiglu_limit", float("inf")))
        alpha, beta = float(attrs.get("activation_alpha", 1.0)), float(attrs.get("activation_beta", 0.0))
        g = xp.minimum(g, limit)
        lin = xp.clip(lin, -limit, limit)
        return g / (1.0 + xp.exp(-alpha * g)) * (lin + beta)
    if kind == "relu":
        a = xp.maximum(h, 0.0)
    elif kind == "gelu":
        a = 0.5 * h * (1.0 + xp.tanh(0.7978845608 * (h + 0.044715 * h * h * h)))
    elif kind == "silu":
        a = h / (1.0 + xp.exp(-h))
    else:
        a = h
    return a if gate3 is None else a * gate3


def _linear(x: Any, weights: Any, bias: Any, e: int) -> Any:
    y = x @ weights[e].T
    return y + bias[e] if _given(bias) else y


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, router, w1, b1, w2, b2, w3, b3 = (list(inputs) + [None] * 8)[:8]
    hidden = x.shape[-1]
    f32 = [None if a is None else a.astype(xp.float32) for a in (x, router, w1, b1, w2, b2, w3, b3)]
    x, router, w1, b1, w2, b2, w3, b3 = f32
    x = x.reshape(-1, hidden)
    experts, weights = routes(
        xp, router.reshape(x.shape[0], -1), int(attrs.get("k", 1)), bool(attrs.get("normalize_routing_weights", 0))
    )
    y = xp.zeros_like(x)
    for e in range(w1.shape[0]):
        token, slot = xp.nonzero(experts == e)
        if token.size == 0:
            continue
        rows = x[token]
        gate3 = _linear(rows, w3, b3, e) if _given(w3) else None
        a = activate(xp, _linear(rows, w1, b1, e), gate3, attrs)
        w = weights[token, slot][:, None]
        # A token meets each expert at most once, so the rows of `token` are distinct.
        y[token] += xp.where(w != 0, w * _linear(a, w2, b2, e), 0.0)
    outputs[0][...] = y.reshape(outputs[0].shape).astype(outputs[0].dtype)
