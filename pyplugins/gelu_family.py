"""GELU-family prototypes (plugins/gelu_family/spec.toml), one per member, keyed by op key:

- gelu:       Y = 0.5 X (1 + erf(X / sqrt 2))
- fast_gelu:  Y = 0.5 V (1 + tanh(sqrt(2/pi) (V + 0.044715 V^3))), V = X + bias (bias optional)
- bias_gelu:  C = 0.5 V (1 + erf(V / sqrt 2)), V = A + B (B along the last axis)
- quick_gelu: Y = X * sigmoid(alpha X)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib.activations import Activation, bias_activation, gelu_erf, gelu_tanh, quick_gelu

Attrs = Mapping[str, Any]


def _member(activation_of: Callable[[Attrs], Activation], torch_equivalent: Callable[..., Any]) -> SimpleNamespace:
    """The prototype Y = act(X [+ bias]) with act = activation_of(the node's attributes)."""

    def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
        bias_activation(xp, inputs, outputs, activation_of(attrs))

    return SimpleNamespace(forward=forward, torch_equivalent=torch_equivalent, takes_bf16=True)


def _torch_gelu(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    return torch.nn.functional.gelu(inputs[0])


def _torch_fast_gelu(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """What a torch user writes for FastGelu: F.gelu(x + bias, approximate="tanh")."""
    x = inputs[0] if len(inputs) < 2 or inputs[1] is None else inputs[0] + inputs[1]
    return torch.nn.functional.gelu(x, approximate="tanh")


def _torch_bias_gelu(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    return torch.nn.functional.gelu(inputs[0] + inputs[1])


def _torch_quick_gelu(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    return inputs[0] * torch.sigmoid(float(attrs["alpha"]) * inputs[0])


members = {
    "gelu": _member(lambda attrs: gelu_erf, _torch_gelu),
    "fast_gelu": _member(lambda attrs: gelu_tanh, _torch_fast_gelu),
    "bias_gelu": _member(lambda attrs: gelu_erf, _torch_bias_gelu),
    "quick_gelu": _member(lambda attrs: quick_gelu(float(attrs["alpha"])), _torch_quick_gelu),
}
