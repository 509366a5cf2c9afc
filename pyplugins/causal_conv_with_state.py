"""CausalConvWithState prototype (com.microsoft, as ONNX Runtime's CPU kernel computes it).

Per (batch, channel), S = (k - 1) * dilation and the virtual sequence v = [past_state | input]
(zeros for an absent past): output[t] = act(bias + sum_j weight[j] * v[t + j * dilation]) and
present_state = the last S positions of v. Channels-first (B, C, L) with state (B, C, S), or
channels_last = 1: (B, L, d1..dn) with state (B, S, d1..dn), C = d1 * ... * dn. act: none or
SiLU ("silu" and "swish" are the same function). Float32 arithmetic throughout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.dims import shape_only_hook

INPUTS = ("input", "weight", "bias", "past_state")


def _present(a: Any) -> Any:
    """None for an absent input: None itself, or the empty stand-in a plugin receives."""
    return None if a is None or a.size == 0 else a


def state_length(weight_shape: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """S = (k - 1) * dilation (ints or symbolic dims)."""
    return (weight_shape[2] - 1) * int(attrs.get("dilation", 1))


def channels_last(attrs: Mapping[str, Any]) -> bool:
    return bool(int(attrs.get("channels_last", 0)))


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """output: the input's shape; present_state: (B, C, S), or (B, S, d1..dn) channels-last."""
    x, weight = inputs[0].shape, inputs[1].shape
    s = state_length(weight, attrs)
    state = (x[0], s, *x[2:]) if channels_last(attrs) else (x[0], x[1], s)
    return [tuple(x), state]


output_dims = shape_only_hook(output_shapes)


def _channels_first(xp: ModuleType, a: Any, attrs: Mapping[str, Any]) -> Any:
    """A (B, T, d1..dn) channels-last tensor as (B, C, T) float32; a channels-first one as is."""
    a = a.astype(xp.float32)
    if not channels_last(attrs):
        return a
    channels = int(math.prod(a.shape[2:]))  # d1 * ... * dn, also when a has no positions
    return a.reshape(a.shape[0], a.shape[1], channels).transpose(0, 2, 1)


def _back(a: Any, shape: tuple[int, ...], attrs: Mapping[str, Any]) -> Any:
    """(B, C, T) back to the tensor's own layout and shape."""
    return (a.transpose(0, 2, 1) if channels_last(attrs) else a).reshape(shape)


def compute(xp: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> tuple[Any, Any]:
    """output and present_state in float32, in the tensors' own layouts."""
    x, weight = inputs[0], inputs[1]
    bias = _present(inputs[2]) if len(inputs) > 2 else None
    past = _present(inputs[3]) if len(inputs) > 3 else None
    y_shape, state_shape = output_shapes(inputs, attrs)
    xc = _channels_first(xp, x, attrs)  # (B, C, L)
    batch, channels, length = xc.shape
    s, dilation = state_length(weight.shape, attrs), int(attrs.get("dilation", 1))
    past_c = xp.zeros((batch, channels, s), xp.float32) if past is None else _channels_first(xp, past, attrs)
    virtual = xp.concatenate([past_c, xc], axis=2)  # (B, C, S + L)
    w = weight.astype(xp.float32).reshape(channels, -1)
    y = xp.zeros((batch, channels, length), xp.float32)
    if bias is not None:
        y += bias.astype(xp.float32).reshape(1, channels, 1)
    for j in range(w.shape[1]):  # tap order, as ONNX Runtime sums
        y += w[:, j].reshape(1, channels, 1) * virtual[:, :, j * dilation : j * dilation + length]
    if attrs.get("activation", "none") in ("silu", "swish"):
        y = y / (1 + xp.exp(-y))
    present = virtual[:, :, virtual.shape[2] - s :]
    return _back(y, y_shape, attrs), _back(present, state_shape, attrs)


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    y, present = compute(xp, inputs, attrs)
    outputs[0][...] = y.astype(outputs[0].dtype)
    outputs[1][...] = present.astype(outputs[1].dtype)


# `trtplug bench`: LFM2-1.2B's conv (hidden 2048, k 3) over a prompt; its traffic is the input
# read and the output written (the weight and the states are small beside them).
_BENCH = {"B": 4, "C": 2048, "K": 3}


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    b, c, k = _BENCH["B"], _BENCH["C"], _BENCH["K"]
    length = max(1, nbytes // (2 * b * c * itemsize))
    return {"input": (b, c, length), "weight": (c, 1, k), "bias": (c,), "past_state": (b, c, k - 1)}


def bench_bytes(shapes: Mapping[str, tuple[int, ...]], itemsize: int) -> int:
    """Input, weight, bias and past read once; output and present written once."""
    b, c, length = shapes["input"]
    k = shapes["weight"][2]
    return itemsize * (2 * b * c * length + c * k + c + 2 * b * c * (k - 1))


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """The past concatenated in front, a grouped conv1d (groups = channels), SiLU, the tail kept:
    what a model without the fused op runs (channels-first, bench_shapes' form)."""
    x, weight, bias, past = [*inputs, None, None][:4]
    s = state_length(weight.shape, attrs)
    dilation = int(attrs.get("dilation", 1))
    if past is None:
        past = x.new_zeros((x.shape[0], x.shape[1], s))
    virtual = torch.cat([past, x], dim=2)
    y = torch.nn.functional.conv1d(virtual, weight, bias, dilation=dilation, groups=x.shape[1])
    if attrs.get("activation", "none") in ("silu", "swish"):
        y = torch.nn.functional.silu(y)
    return y, virtual[:, :, virtual.shape[2] - s :]
