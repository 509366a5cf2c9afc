"""SkipLayerNormalization prototype: S = input + skip (+ bias); output = LayerNorm(S) * gamma (+ beta);
optional outputs mean, inv_std_var, input_skip_bias_sum (trtplug/protolib/norm.py, shared with
the RMS form)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.norm import skip_norm_forward


def _named(inputs: Sequence[Any]) -> tuple[Any, Any, Any, Any | None, Any | None]:
    padded = [*inputs, None, None][:5]
    return padded[0], padded[1], padded[2], padded[3], padded[4]  # input, skip, gamma, beta, bias


takes_bf16 = True  # bf16 arrives as Bf16Device on a GPU: the fast path reads and rounds it


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    skip_norm_forward(xp, _named(inputs), outputs, attrs["epsilon"], rms=False)


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    """What a torch user writes: layer_norm of the residual sum (torch's add, then its layer_norm)."""
    x, skip, gamma, beta, bias = _named(inputs)
    s = x + skip if bias is None else x + skip + bias
    return torch.nn.functional.layer_norm(s, gamma.shape, gamma, beta, float(attrs["epsilon"]))
