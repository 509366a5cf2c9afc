"""Parity inputs for com.microsoft LinearAttention whose values must agree with the recurrence they
feed: keys of unit norm per head (the delta rules assume them: with |k| = 1 and beta in (0, 1) each
step is a contraction toward v, so the state stays bounded over any length), log-space decays in
[log 0.8, 0] and beta in (0, 1) (what Gated DeltaNet's gates give), q, v and the past of unit size."""

from __future__ import annotations

from typing import Any

import numpy as np


def _unit_heads(x: np.ndarray, head: int) -> np.ndarray:
    rows = x.reshape(*x.shape[:-1], x.shape[-1] // head, head)
    norm = np.sqrt((rows * rows).sum(-1, keepdims=True)) + np.float32(1e-6)
    return (rows / norm).reshape(x.shape).astype(np.float32)


def linear_attention_inputs(
    shapes: dict[str, tuple[int, ...]], attrs: dict[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    q_shape = shapes["query"]
    head = max(1, q_shape[-1] // int(attrs["q_num_heads"]))

    def normal(name: str, scale: float = 1.0) -> np.ndarray:
        return (rng.standard_normal(shapes[name]) * scale).astype(np.float32)

    out = {"query": normal("query"), "key": _unit_heads(normal("key"), head), "value": normal("value")}
    if "past_state" in shapes:
        out["past_state"] = normal("past_state", 0.5)
    if "decay" in shapes:
        out["decay"] = np.log(rng.uniform(0.8, 1.0, shapes["decay"])).astype(np.float32)
    if "beta" in shapes:
        out["beta"] = rng.uniform(0.05, 0.95, shapes["beta"]).astype(np.float32)
    return out
