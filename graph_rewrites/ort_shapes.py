"""Shapes of contrib-op outputs from ONNX Runtime's symbolic shape inference.

ONNX inference knows no com.microsoft op, and a spec's rule cannot give every output's shape (a
"dynamic:" rule: MultiHeadAttention's output is computed from several inputs), so the tensors after
such a node were left without a shape: the rewrite wrote value_info without one, and `check` judged
the nodes after each plugin node on untyped inputs (a BERT optimized with MultiHeadAttention: every
MatMul after an attention or norm node rejected). ONNX Runtime's tool types them. It runs on a copy
without the large weights (they become inputs of the same shape), and any failure only leaves the
gaps as they were.
"""

from __future__ import annotations

import math

import onnx

from trtplug.onnx_common import is_standard_domain

from .graph_view import TensorType

SMALL_INITIALIZER = 4096  # elements: kept with their values (shapes, axes); larger ones become inputs


def ort_symbolic_types(model: onnx.ModelProto, type_of) -> dict[str, TensorType]:
    """name -> type (with a shape) for the tensors ONNX Runtime's symbolic inference types; {} when
    the model has no contrib op or the tool is missing or fails."""
    if all(is_standard_domain(n.domain) for n in model.graph.node):
        return {}
    inferred = _symbolic_inference(_weightless(model))
    if inferred is None:
        return {}
    found = {}
    for value in inferred.graph.value_info:
        info = type_of(value)
        if info is not None and info.elem_type and info.shape is not None:
            found[value.name] = info
    return found


def _symbolic_inference(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """The tool's inference loop, kept when incomplete: its `infer_shapes` entry point raises then,
    after saving the partial model with external data into the working directory (uuid-named .data
    files next to whatever runs the rewrite). None when the tool is missing or fails."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        tool = SymbolicShapeInference(2**31 - 1, True, False, 0)  # int_max, auto_merge, guess_output_rank, verbose
        tool._preprocess(model)
        while tool.run_:
            tool._infer_impl()
        tool._update_output_from_vi()
        return tool.out_mp_
    except Exception:  # missing tool or methods, an op it cannot type (a plugin node), a model it refuses
        return None


def _weightless(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with each large initializer turned into a graph input of its type and shape."""
    light = onnx.ModelProto(ir_version=model.ir_version)
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    graph, source = light.graph, model.graph
    graph.name = source.name
    graph.node.extend(source.node)
    graph.input.extend(source.input)
    graph.output.extend(source.output)
    graph.value_info.extend(source.value_info)
    declared = {v.name for v in source.input}
    for tensor in source.initializer:
        if math.prod(tensor.dims) <= SMALL_INITIALIZER and tensor.data_location != onnx.TensorProto.EXTERNAL:
            graph.initializer.append(tensor)
        elif tensor.name not in declared:
            graph.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims)))
    return light
