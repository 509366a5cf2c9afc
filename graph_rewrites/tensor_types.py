"""Element types and shapes of every tensor of a model.

ONNX shape inference stops at ops it has no schema for (com.microsoft contrib ops), leaving
everything downstream untyped. ONNX Runtime's symbolic inference fills what it can (ort_shapes.py);
then the nodes still left with untyped outputs are revisited in order: ops a spec covers get types
from the spec's rules, standard ops are inferred node by node, other contrib ops get element types
from ONNX Runtime's schemas.
Inference runs on a copy; the model keeps its own value_info.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import onnx
from onnx import helper

from trtplug.onnx_common import is_standard_domain, node_subgraphs

from .graph_view import Dim, TensorType
from .ort_shapes import ort_symbolic_types

SpecTypes = Callable[[onnx.NodeProto, dict[str, TensorType]], dict[str, TensorType] | None]


def _type_of(value: onnx.ValueInfoProto) -> TensorType | None:
    if not value.type.HasField("tensor_type"):
        return None
    tensor = value.type.tensor_type
    if not tensor.HasField("shape"):
        return TensorType(tensor.elem_type, None)
    dims: list[Dim] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        else:
            dims.append(dim.dim_param or None)
    return TensorType(tensor.elem_type, tuple(dims))


def _collect(graph: onnx.GraphProto, types: dict[str, TensorType]) -> None:
    for init in graph.initializer:
        types[init.name] = TensorType(init.data_type, tuple(init.dims))
    for value in (*graph.input, *graph.output, *graph.value_info):
        known = types.get(value.name)
        if known is not None and known.shape is not None:
            continue
        info = _type_of(value)
        if info is not None and info.elem_type:
            types[value.name] = info
    for node in graph.node:
        for _, sub in node_subgraphs(node):
            _collect(sub, types)


def _infer_one(
    node: onnx.NodeProto, types: dict[str, TensorType], versions: dict[str, int], constants: dict
) -> dict[str, TensorType]:
    """ONNX inference of one standard node from its input types; {} when it cannot run."""
    if not is_standard_domain(node.domain) or any(True for _ in node_subgraphs(node)):
        return {}
    try:
        schema = _schema(node.op_type, versions.get("", 1))
        inputs = {n: _type_proto(types[n]) for n in node.input if n}
        data = {n: constants[n] for n in node.input if n in constants}
        inferred = onnx.shape_inference.infer_node_outputs(schema, node, inputs, data)
    except Exception:  # unknown input type (KeyError), no schema, or inference failure
        return {}
    return {name: info for name, proto in inferred.items() if (info := _type_of(helper.make_value_info(name, proto)))}


@cache
def _schema(op_type: str, version: int) -> onnx.defs.OpSchema:
    return onnx.defs.get_schema(op_type, version, "")


@cache
def _type_proto(info: TensorType) -> onnx.TypeProto:
    return helper.make_tensor_type_proto(info.elem_type, info.shape)


def _fill_gaps(graph: onnx.GraphProto, types: dict[str, TensorType], versions: dict, spec_types: SpecTypes) -> None:
    constants = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if all(not o or _shaped(types.get(o)) for o in node.output):
            continue
        found = spec_types(node, types) or _infer_one(node, types, versions, constants) or _ort_types(node, types)
        # A declared type without a shape (ONNX Runtime's fp16 converter writes such value_info)
        # is a gap too: the node's rule or inference gives the shape.
        types.update({n: info for n, info in found.items() if info.elem_type and _improves(types.get(n), info)})


def _shaped(info: TensorType | None) -> bool:
    return info is not None and info.shape is not None


def _improves(known: TensorType | None, found: TensorType) -> bool:
    return known is None or (known.shape is None and found.shape is not None)


def _ort_types(node: onnx.NodeProto, types: dict[str, TensorType]) -> dict[str, TensorType]:
    """Element types (shape unknown) from ONNX Runtime's schema, for contrib ops no spec covers
    (MatMulNBits, GroupQueryAttention, ...): what the nodes after them need to be typed."""
    from trtplug.ort_ops import ort_output_elem_types

    known = {name: info.elem_type for name, info in types.items()}
    return {name: TensorType(elem, None) for name, elem in ort_output_elem_types(node, known).items()}


def _infer(model: onnx.ModelProto) -> tuple[onnx.ModelProto, bool]:
    """The inferred model, and whether strict inference (what the output must pass) succeeded."""
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True), True
    except Exception:  # strict inference failed: retried leniently below
        pass
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False), False
    except Exception:  # an op inference cannot handle: fall back to the types the model declares
        return model, False


def infer_types(model: onnx.ModelProto, spec_types: SpecTypes | None = None) -> tuple[dict[str, TensorType], bool]:
    """name -> TensorType for every tensor that can be typed (names are unique per model), and
    whether the input passes strict shape inference."""
    inferred, strict = _infer(model)
    types: dict[str, TensorType] = {}
    _collect(inferred.graph, types)
    if inferred is not model:
        _collect(model.graph, types)  # declared types fill what inference left out
    if any(o and not _shaped(types.get(o)) for n in model.graph.node for o in n.output):
        for name, info in ort_symbolic_types(model, _type_of).items():  # contrib ops ONNX cannot type
            if not _shaped(types.get(name)):
                types[name] = info
    versions = {imp.domain or "": imp.version for imp in model.opset_import}
    _fill_gaps(model.graph, types, versions, spec_types or (lambda node, known: None))
    return types, strict
