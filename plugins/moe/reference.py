"""MoE reference for what ONNX Runtime's CPU kernels do not compute (geglu, a CUDA-only activation
there; the gated act(fc1) * fc3 form): token by token, expert by expert, in float64, written from
the com.microsoft MoE/QMoE schema text. Cases pin it with `reference = "numpy"`; the others use
ONNX Runtime. QMoE's reference (plugins/qmoe/reference.py) runs the same loop on the weights it
dequantizes. Written apart from the prototype (pyplugins/moe.py).

Routing as ONNX Runtime's CPU kernels (measured, tests/test_moe.py and tests/test_qmoe.py): the k
largest router_probs (ties: the higher expert), mixing weights softmax(router_probs) or, given,
router_weights at those experts (no softmax), divided by their sum when normalize_routing_weights;
a route whose weight is not positive adds nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _gelu_tanh(v: np.ndarray) -> np.ndarray:
    return 0.5 * v * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (v + 0.044715 * v**3)))


def _halves(h: np.ndarray, h3: np.ndarray | None, fusion: int) -> tuple[np.ndarray, np.ndarray]:
    """(gate, linear): interleaved in fc1's rows (fusion 1), its halves (2), or fc1 and fc3 (0)."""
    if fusion == 1:
        return h[0::2], h[1::2]
    if fusion == 2:
        return h[: len(h) // 2], h[len(h) // 2 :]
    assert h3 is not None, "swiglu_fusion 0 takes its linear half from fc3"
    return h, h3


def activation(h: np.ndarray, h3: np.ndarray | None, attrs: dict[str, Any]) -> np.ndarray:
    """The expert's activation of fc1's output h (and fc3's, h3): swiglu (clamped at
    swiglu_limit), geglu = gelu_tanh(gate) * linear, else act(h) (times h3 when fc3 is given)."""
    kind = str(attrs.get("activation_type", "relu"))
    fusion = int(attrs.get("swiglu_fusion", 0))
    if kind == "swiglu":
        gate, linear = _halves(h, h3, fusion)
        limit = float(attrs.get("swiglu_limit", np.inf))
        alpha, beta = float(attrs.get("activation_alpha", 1.0)), float(attrs.get("activation_beta", 0.0))
        gate, linear = np.minimum(gate, limit), np.clip(linear, -limit, limit)
        return gate / (1.0 + np.exp(-alpha * gate)) * (linear + beta)
    if kind == "geglu":
        gate, linear = _halves(h, h3, fusion)
        return _gelu_tanh(gate) * linear
    functions = {
        "relu": lambda v: np.maximum(v, 0.0),
        "gelu": _gelu_tanh,
        "silu": lambda v: v / (1.0 + np.exp(-v)),
        "identity": lambda v: v,
    }
    a = functions[kind](h)
    return a if h3 is None else a * h3


def mixture(tensors: dict[str, np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """float64 outputs [tokens, hidden] from input, router_probs, float weights [E, out, in] and
    biases by MoE's input names (absent ones left out), and router_weights when given."""
    w = {k: v.astype(np.float64) for k, v in tensors.items() if k.startswith("fc") and v.size > 0}
    hidden = tensors["input"].shape[-1]
    x = tensors["input"].astype(np.float64).reshape(-1, hidden)
    experts = tensors["router_probs"].shape[-1]
    logits = tensors["router_probs"].astype(np.float64).reshape(x.shape[0], experts)
    mixing = tensors.get("router_weights")
    if mixing is None or mixing.size == 0:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        mixing = shifted / shifted.sum(axis=1, keepdims=True)
    mixing = mixing.astype(np.float64).reshape(x.shape[0], experts)
    k = int(attrs.get("k", 1))

    def linear(p: str, e: int, v: np.ndarray) -> np.ndarray | None:
        if f"{p}_experts_weights" not in w:
            return None
        bias = w.get(f"{p}_experts_bias")
        return w[f"{p}_experts_weights"][e] @ v + (0.0 if bias is None else bias[e])

    out = np.zeros(x.shape, dtype=np.float64)
    for t in range(x.shape[0]):
        chosen = sorted(range(experts), key=lambda e: (-logits[t, e], -e))[:k]
        weights = mixing[t, chosen]
        if int(attrs.get("normalize_routing_weights", 0)):
            weights = weights / weights.sum()
        for e, weight in zip(chosen, weights, strict=True):
            if weight > 0:
                a = activation(linear("fc1", e, x[t]), linear("fc3", e, x[t]), attrs)
                out[t] += weight * linear("fc2", e, a)
    return out


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs["input"]
    return [mixture(inputs, attrs).reshape(x.shape).astype(np.float32)]
