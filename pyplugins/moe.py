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
and the token's output is the weighted sum of its y_e (a weight <= 0 adds nothing).
swiglu(g, l) = G * sigmoid(alpha * G) * (L + beta), G = min(g, limit), L = clamp(l, -limit, limit);
geglu(g, l) = gelu_tanh(g) * l (Gemma 4's experts; g, l from fc1 as swiglu's, fusion 1 or 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

BENCH_HIDDEN = BENCH_INTER = 2880  # gpt-oss-20B's hidden and expert sizes
BENCH_EXPERTS = 32
BENCH_K = 4


def _given(array: Any) -> bool:
    return array is not None and array.size > 0


def routes(xp: ModuleType, logits: Any, k: int, normalize: bool, mixing: Any = None) -> tuple[Any, Any]:
    """(experts [tokens, k] int64, weights [tokens, k] float32) from router logits [tokens, E]: the
    weights are the softmax of the logits at the chosen experts, or `mixing`'s values there when
    given (QMoE's router_weights [tokens, E], no softmax), divided by their sum when `normalize`."""
    num_experts = logits.shape[1]
    # A stable sort of the reversed columns puts the higher index first among equal logits.
    order = xp.argsort(-logits[:, ::-1], axis=1, kind="stable")[:, :k]
    experts = num_experts - 1 - order
    if mixing is None:
        shifted = xp.exp(logits - logits.max(axis=1, keepdims=True))
        mixing = shifted / shifted.sum(axis=1, keepdims=True)
    weights = xp.take_along_axis(mixing, experts, axis=1)
    if normalize:
        weights = weights / weights.sum(axis=1, keepdims=True)
    return experts, weights.astype(xp.float32)


def node_problem(
    shapes: Mapping[str, Any], attrs: Mapping[str, Any], dtypes: Mapping[str, str | None] | None = None
) -> str | None:
    """Rewrite time: what the plugin would refuse at engine build that attributes alone show."""
    if attrs.get("activation_type") == "geglu" and int(attrs.get("swiglu_fusion", 0)) == 0:
        return "geglu takes its gate and linear halves from fc1_experts_weights: swiglu_fusion must be 1 or 2"
    return None


def _gelu_tanh(xp: ModuleType, h: Any) -> Any:
    return 0.5 * h * (1.0 + xp.tanh(0.7978845608 * (h + 0.044715 * h * h * h)))


def activate(xp: ModuleType, h: Any, gate3: Any, attrs: Mapping[str, Any]) -> Any:
    """The expert's activation on fc1's output h (and fc3's output gate3, or None)."""
    kind = str(attrs.get("activation_type", "relu"))
    fusion = int(attrs.get("swiglu_fusion", 0))
    if kind in ("swiglu", "geglu"):
        if fusion == 1:
            g, lin = h[:, 0::2], h[:, 1::2]
        elif fusion == 2:
            g, lin = xp.split(h, 2, axis=1)
        else:
            g, lin = h, gate3
    if kind == "geglu":
        return _gelu_tanh(xp, g) * lin
    if kind == "swiglu":
        limit = float(attrs.get("swiglu_limit", float("inf")))
        alpha, beta = float(attrs.get("activation_alpha", 1.0)), float(attrs.get("activation_beta", 0.0))
        g = xp.minimum(g, limit)
        lin = xp.clip(lin, -limit, limit)
        return g / (1.0 + xp.exp(-alpha * g)) * (lin + beta)
    if kind == "relu":
        a = xp.maximum(h, 0.0)
    elif kind == "gelu":
        a = _gelu_tanh(xp, h)
    elif kind == "silu":
        a = h / (1.0 + xp.exp(-h))
    else:
        a = h
    return a if gate3 is None else a * gate3


# One projection of every expert: expert index -> (weights [out, in], bias [out] or None), float32.
Projection = Callable[[int], tuple[Any, Any]]


def stacked(weights: Any, bias: Any) -> Projection | None:
    """The projection of stacked float32 weights [E, out, in] and bias [E, out] (None when absent)."""
    if not _given(weights):
        return None
    return lambda e: (weights[e], bias[e] if _given(bias) else None)


def _linear(x: Any, projection: Projection, e: int) -> Any:
    weights, bias = projection(e)
    y = x @ weights.T
    return y if bias is None else y + bias


def mixture(
    xp: ModuleType,
    x: Any,
    router: Any,
    projections: tuple[Projection, Projection, Projection | None],
    attrs: Mapping[str, Any],
    mixing: Any = None,
) -> Any:
    """The experts' weighted sum for float32 token rows x [tokens, hidden] and router logits
    [tokens, E]: routes (with `mixing` weights if given, see routes), then each expert with routes
    runs fc1 (and fc3), the activation and fc2 on its rows. Projections are taken per expert, so
    an expert without routes is never read (QMoE dequantizes only those it meets)."""
    fc1, fc2, fc3 = projections
    experts, weights = routes(
        xp, router, int(attrs.get("k", 1)), bool(attrs.get("normalize_routing_weights", 0)), mixing
    )
    y = xp.zeros_like(x)
    for e in range(router.shape[1]):
        token, slot = xp.nonzero(experts == e)
        if token.size == 0:
            continue
        rows = x[token]
        gate3 = _linear(rows, fc3, e) if fc3 is not None else None
        a = activate(xp, _linear(rows, fc1, e), gate3, attrs)
        w = weights[token, slot][:, None]
        # A token meets each expert at most once, so the rows of `token` are distinct. A route whose
        # weight is not positive adds nothing (not even a non-finite expert output), as ONNX
        # Runtime's CPU QMoE skips it: softmax weights are positive or zero, router_weights may not be.
        y[token] += xp.where(w > 0, w * _linear(a, fc2, e), 0.0)
    return y


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    x, router, w1, b1, w2, b2, w3, b3 = (list(inputs) + [None] * 8)[:8]
    hidden = x.shape[-1]
    f32 = [None if a is None else a.astype(xp.float32) for a in (x, router, w1, b1, w2, b2, w3, b3)]
    x, router, w1, b1, w2, b2, w3, b3 = f32
    x = x.reshape(-1, hidden)
    router = router.reshape(x.shape[0], router.shape[-1])
    y = mixture(xp, x, router, (stacked(w1, b1), stacked(w2, b2), stacked(w3, b3)), attrs)
    outputs[0][...] = y.reshape(outputs[0].shape).astype(outputs[0].dtype)


def _bench_size(nbytes: int, itemsize: int) -> int:
    """hidden = inter: the weights (3 d^2 per expert) sized to the request, at most gpt-oss's 2880."""
    d = int((nbytes / (3 * BENCH_EXPERTS * itemsize)) ** 0.5) // 32 * 32
    return max(32, min(BENCH_HIDDEN, d))


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """gpt-oss's layout (fused swiglu, biases), 32 experts, 16 tokens (a decode batch)."""
    d, e, tokens = _bench_size(nbytes, itemsize), BENCH_EXPERTS, 16
    return {
        "input": (tokens, d),
        "router_probs": (tokens, e),
        "fc1_experts_weights": (e, 2 * d, d),
        "fc1_experts_bias": (e, 2 * d),
        "fc2_experts_weights": (e, d, d),
        "fc2_experts_bias": (e, d),
    }


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """The attributes GenAI writes for gpt-oss, with k = 4 (gpt-oss-20B's)."""
    return {
        "activation_type": "swiglu",
        "activation_alpha": 1.702,
        "activation_beta": 1.0,
        "k": BENCH_K,
        "normalize_routing_weights": 1,
        "swiglu_fusion": 1,
        "swiglu_limit": 7.0,
    }


def bench_inputs(shapes: Mapping[str, tuple[int, ...]], rng: Any) -> dict[str, Any]:
    """Unit-variance tokens and weights scaled as a trained layer's (std 1 / sqrt(fan_in), weights
    [E, out, in]): activations stay O(1) at every bench width. The parity cases' fixed weight scale
    (0.1, for their widths of tens) lets them grow with sqrt(hidden), and at 1152 wide (256 MB) the
    16-bit kernels' rounding of the fc1 activations, which ONNX Runtime's CUDA kernel rounds too,
    outgrew the 1e-2 tolerance on outputs near zero."""
    import numpy as np

    values = {"input": rng.standard_normal(shapes["input"], dtype=np.float32)}
    for name in ("fc1_experts_weights", "fc2_experts_weights", "fc3_experts_weights"):
        if name in shapes:
            fan_in = shapes[name][-1]
            values[name] = rng.standard_normal(shapes[name], dtype=np.float32) / np.float32(math.sqrt(fan_in))
    return values


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor: the weights and biases of the experts the routes can touch (each read once),
    the input and router rows read, the output written."""
    tokens, hidden = shapes["input"]
    experts = shapes["fc1_experts_weights"][0]
    touched = min(experts, tokens * BENCH_K)
    per_expert = sum(
        int(math.prod(shapes[name][1:]))
        for name in ("fc1_experts_weights", "fc1_experts_bias", "fc2_experts_weights", "fc2_experts_bias")
        if name in shapes
    )
    return (touched * per_expert + tokens * (2 * hidden + experts)) * itemsize


def _torch_activation(torch: ModuleType, h: Any, attrs: Mapping[str, Any]) -> Any:
    kind = str(attrs.get("activation_type", "relu"))
    if kind == "swiglu":  # fused forms only (fc3 is not part of the bench)
        fusion = int(attrs.get("swiglu_fusion", 0))
        g, lin = (h[:, 0::2], h[:, 1::2]) if fusion == 1 else h.chunk(2, dim=1)
        limit = float(attrs.get("swiglu_limit", float("inf")))
        g = g.clamp(max=limit)
        lin = lin.clamp(-limit, limit)
        alpha, beta = float(attrs.get("activation_alpha", 1.0)), float(attrs.get("activation_beta", 0.0))
        return g * torch.sigmoid(alpha * g) * (lin + beta)
    functions = {
        "relu": torch.relu,
        "gelu": lambda v: torch.nn.functional.gelu(v, approximate="tanh"),
        "silu": torch.nn.functional.silu,
    }
    return functions.get(kind, lambda v: v)(h)


def _top_k_higher_expert_first(torch: ModuleType, probs: Any, k: int) -> tuple[Any, Any]:
    """The k largest probabilities per token, a tie going to the higher expert (ONNX Runtime's rule,
    which the plugin keeps): bf16 router logits tie often enough that topk's unspecified order
    routed a bench token elsewhere (run 22: one token of 16 off by up to 1.35)."""
    count = probs.shape[-1]
    weights, flipped = torch.sort(probs.flip(-1), dim=-1, descending=True, stable=True)
    return weights[..., :k], count - 1 - flipped[..., :k]


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """Softmax + topk routing, then a loop over the experts with F.linear and index_add_: what a
    user without the plugin would write (the dense form of HF's gpt-oss experts)."""
    x, router, w1, b1, w2, b2 = (list(inputs) + [None] * 6)[:6]
    flat = x.reshape(-1, x.shape[-1])
    k = int(attrs.get("k", 1))
    probs = torch.softmax(router.reshape(flat.shape[0], router.shape[-1]).float(), dim=-1)
    weights, experts = _top_k_higher_expert_first(torch, probs, k)
    if int(attrs.get("normalize_routing_weights", 0)):
        weights = weights / weights.sum(dim=-1, keepdim=True)
    y = torch.zeros_like(flat, dtype=torch.float32)
    for e in range(w1.shape[0]):
        token, slot = torch.nonzero(experts == e, as_tuple=True)
        if token.numel() == 0:
            continue
        h = torch.nn.functional.linear(flat[token], w1[e], None if b1 is None else b1[e])
        a = _torch_activation(torch, h, attrs)
        out = torch.nn.functional.linear(a, w2[e], None if b2 is None else b2[e])
        y.index_add_(0, token, out.float() * weights[token, slot, None])
    return y.to(x.dtype).reshape(x.shape)
