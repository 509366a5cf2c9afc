"""Folding nodes no TensorRT imports whose outputs are constants in real exports: MelWeightMatrix
(torchaudio's MelSpectrogram: every input a 0-D constant). With every input a constant, the node
is evaluated once with onnx.reference and its output becomes an initializer of that name; with a
runtime input it stays for the node pass: a plugin that covers it (TrtplugMelWeightMatrix)
replaces it there, else the report says why it was neither folded nor replaced.

Also folded: layout-only standard ops (Reshape and kin) on uint8 constants. ONNX Runtime GenAI's
int4 builds with a tied embedding reshape the quantized table for the lm_head's MatMulNBits, and
TensorRT's parser takes the uint8 initializer as int32 and rejects the node ("the parsed type is
int32 which does not match ... uint8"). Folded, the reshaped table is an initializer of its own (a
second copy of the table's bytes: the GatherBlockQuantized embedding still reads the first)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .changes import LEFT, Change, op_label
from .graph_view import GraphView

FOLDED = "folded"
FOLDABLE = {("", "MelWeightMatrix")}  # (domain, op_type)
UINT8_LAYOUT_OPS = {"Reshape", "Squeeze", "Unsqueeze", "Flatten", "Transpose"}


def _uint8_layout(node: onnx.NodeProto, view: GraphView) -> bool:
    """A layout-only standard node whose data is a uint8 constant and whose other inputs are constants."""
    if node.domain not in ("", "ai.onnx") or node.op_type not in UINT8_LAYOUT_OPS or not node.input:
        return False
    data = view.constant(node.input[0])
    return (
        data is not None and data.dtype == np.uint8 and all(view.constant(n) is not None for n in node.input[1:] if n)
    )


def _evaluate(node: onnx.NodeProto, values: list, opset: int) -> list:
    from onnx.reference import ReferenceEvaluator

    names = [f"in{i}" for i in range(len(values))]
    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for n, v in zip(names, values, strict=True)
    ]
    clone = helper.make_node(node.op_type, names, list(node.output), domain=node.domain)
    clone.attribute.extend(node.attribute)
    outputs = [helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None) for n in node.output]
    graph = helper.make_graph([clone], "fold", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return ReferenceEvaluator(model).run(None, dict(zip(names, values, strict=True)))


def merge_fold_reports(folded: list[Change], later: list[Change]) -> list[Change]:
    """One report line per node: a node folding left (a runtime input) that the node pass then
    reports on (replaced by a plugin such as TrtplugMelWeightMatrix, or left with its own reason)
    keeps only that line, a "left" one with the folding reason added."""
    by_node = {c.node: c for c in later}
    merged = []
    for change in folded:
        other = by_node.get(change.node)
        if change.action != LEFT or other is None:
            merged.append(change)
        elif other.action == LEFT:
            other.reason = f"{other.reason}; not folded: {change.reason}"
    return merged + later


def fold_constants(graph: onnx.GraphProto, opset: int, base_dir: str | None) -> list[Change]:
    """Fold the foldable nodes of `graph` (not its bodies) in place; one change per such node."""
    view = GraphView(graph, {}, base_dir)
    changes, kept = [], []
    for node in graph.node:
        if (node.domain, node.op_type) not in FOLDABLE and not _uint8_layout(node, view):
            kept.append(node)
            continue
        label = node.name or node.output[0]
        values = [view.constant(name) for name in node.input]
        runtime = [name for name, value in zip(node.input, values, strict=True) if value is None]
        if runtime:
            reason = f"input {runtime[0]!r} is not a constant (no TensorRT imports {node.op_type})"
            changes.append(Change(label, op_label(node.domain, node.op_type), LEFT, reason=reason))
            kept.append(node)
            continue
        results = _evaluate(node, values, opset)
        graph.initializer.extend(numpy_helper.from_array(v, n) for n, v in zip(node.output, results, strict=True))
        shape = "x".join(map(str, results[0].shape))
        mapping = [f"{node.output[0]} = constant {results[0].dtype} [{shape}] (onnx.reference)"]
        changes.append(Change(label, op_label(node.domain, node.op_type), FOLDED, mapping=mapping))
    if len(kept) != len(graph.node):
        del graph.node[:]
        graph.node.extend(kept)
    return changes
