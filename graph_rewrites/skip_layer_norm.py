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

import onnx

from .graph_view import GraphView
from .layer_norm_forms import LayerNorm, match_layer_norm
from .rule import Fusion, Rule, bias_operand, is_op

OP = ("com.microsoft", "SkipLayerNormalization")


def _fusion(view: GraphView, norm: LayerNorm, add: onnx.NodeProto, x: str, skip: str, bias_add) -> Fusion:
    nodes = [add, *norm.nodes]
    inputs = [x, skip, norm.gamma, norm.beta]
    if bias_add is not None:
        nodes.insert(0, view.producer(bias_add[0]))
        inputs = [bias_add[1], skip, norm.gamma, norm.beta, bias_add[2]]
    while not inputs[-1]:
        inputs.pop()
    outputs = [norm.output]
    if view.used_outside(add.output[0], nodes):
        outputs = [norm.output, "", "", add.output[0]]
    return Fusion(nodes, *OP, inputs, outputs, {"epsilon": norm.epsilon})


class SkipLayerNorm(Rule):
    name = "skip_layer_norm"
    anchors = ("LayerNormalization", "Sqrt")
    produces = (OP[1],)

    def match(self, view: GraphView, anchor: onnx.NodeProto) -> list[Fusion] | str | None:
        norm = match_layer_norm(view, anchor)
        if norm is None or isinstance(norm, str):
            return norm
        add = view.producer(norm.input)
        if not is_op(add, "Add") or len(add.input) != 2:
            return None  # a LayerNorm without a residual Add: TensorRT imports it natively
        a, b = add.input
        shapes = view.shape(a), view.shape(b)
        if shapes[0] is None or shapes[0] != shapes[1] or not all(isinstance(d, (int, str)) for d in shapes[0]):
            return f"the residual Add's operands have different or unknown shapes {shapes[0]} and {shapes[1]}"
        fusions = []
        for data, skip in ((a, b), (b, a)):
            biased = bias_operand(view, view.producer(data))
            if biased is not None:
                fusions.append(_fusion(view, norm, add, data, skip, (data, *biased)))
                break
        fusions.append(_fusion(view, norm, add, a, b, None))
        return fusions

    def check(self, view: GraphView, fusion: Fusion) -> str | None:
        data_shape = view.shape(fusion.inputs[0])
        if not data_shape:
            return f"the shape of {fusion.inputs[0]!r} is unknown"
        hidden = data_shape[-1]
        for name in fusion.inputs[2:]:
            shape = view.shape(name)
            if shape is None or len(shape) != 1 or (isinstance(hidden, int) and shape[0] != hidden):
                return f"{name!r} has shape {shape}, expected ({hidden},)"
        if len(fusion.inputs) > 4 and view.constant(fusion.inputs[4]) is None:
            return "the bias is not a constant"
        return super().check(view, fusion)


RULE = SkipLayerNorm()
