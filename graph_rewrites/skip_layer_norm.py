"""LayerNorm after a residual Add, as BERT/GPT-style exports contain it:

    LayerNorm(Add(Add(h, bias), skip), gamma, beta) -> SkipLayerNormalization(h, skip, gamma, beta, bias)
    LayerNorm(Add(x, skip), gamma, beta)            -> SkipLayerNormalization(x, skip, gamma, beta)

with SkipLayerNormalization the com.microsoft op, and LayerNorm in either form of
layer_norm_forms (LayerNormalization, or the decomposed ReduceMean/Sub/Pow/Sqrt/Div chain).
Conditions: normalization over the last axis; both Add operands of the same known shape (no
broadcasting: the op adds elementwise); gamma (and beta, bias) 1-D of the hidden size; bias a
constant. When the residual sum is read elsewhere (pre-LN transformers), it is wired to the
op's fourth output, input_skip_bias_sum.
"""

from __future__ import annotations

from .gelu_forms import BIASED_X, PLAIN_X
from .layer_norm_forms import check_fused_norm, epsilon, layer_norms
from .pattern import Match, op, var
from .rule import ROOT, Form, Rule


def _outputs(m: Match) -> list[str]:
    return [ROOT, "", "", "sum"] if m.read_outside(m["sum"]) else [ROOT]


def _check(m: Match) -> str | None:
    if reason := check_fused_norm(m):
        return reason
    a, b = (m.view.shape(i.name) for i in m.node("sum").inputs)
    if a is None or a != b or not all(isinstance(d, (int, str)) for d in a):
        return f"the residual Add's operands have different or unknown shapes {a} and {b}"
    data = m.get("h") or m["x"]
    if not m.view.shape(data):
        return f"the shape of {data!r} is unknown"
    hidden = m.view.shape(data)[-1]
    for name in filter(None, (m["gamma"], m.get("beta"), m.get("bias"))):
        shape = m.view.shape(name)
        if shape is None or len(shape) != 1 or (isinstance(hidden, int) and shape[0] != hidden):
            return f"{name!r} has shape {shape}, expected ({hidden},)"
    return None


def _form(x, inputs) -> list[Form]:
    residual = op("Add", x, var("skip"), name="sum")
    attrs = lambda m: {"epsilon": epsilon(m)}  # noqa: E731
    return [Form(norm, "SkipLayerNormalization", inputs, _outputs, attrs) for norm in layer_norms(residual)]


RULE = Rule(
    name="skip_layer_norm",
    anchors=("LayerNormalization", "Sqrt"),
    forms=(
        *_form(BIASED_X, ("h", "skip", "gamma", "beta", "bias")),
        *_form(PLAIN_X, ("x", "skip", "gamma", "beta")),
    ),
    check=_check,
)
