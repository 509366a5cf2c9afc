"""One-node models cut from a larger model, and the signature that lets equal nodes share a parse.

Each node keeps what an importer may need to decide: its inferred input types and shapes (dynamic
dims stay symbolic), and the values of inputs that are constants in the original (initializers and
Constant outputs, small ones verbatim; large weights as zero-filled stand-ins of the same type and
shape, so their bytes are never read). Nodes with If/Loop/Scan bodies keep their bodies and get the
outer-scope values those read as extra inputs. Calls of model-local functions carry the functions.
"""

from __future__ import annotations

import hashlib
from collections import ChainMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from trtplug.model_io import read_tensor, subgraph_references
from trtplug.onnx_common import is_standard_domain

SMALL_CONSTANT = 4096  # elements: values kept verbatim (axes, pads, scales, K, ...)
STANDIN_LIMIT = 1 << 24  # elements: larger weights become plain inputs instead of zero stand-ins
CHECKED_NODE = "trtplug_checked_node"


@dataclass
class Scope:
    """Types and constant tensors visible at one graph level (ChainMaps over the outer levels)."""

    types: ChainMap = field(default_factory=ChainMap)
    constants: ChainMap = field(default_factory=ChainMap)

    def child(self, graph: onnx.GraphProto) -> Scope:
        scope = Scope(self.types.new_child(), self.constants.new_child())
        scope.add_graph(graph)
        return scope

    def add_graph(self, graph: onnx.GraphProto) -> None:
        for info in (*graph.input, *graph.value_info, *graph.output):
            if info.type.HasField("tensor_type") or info.type.WhichOneof("value"):
                self.types[info.name] = info.type
        for tensor in graph.initializer:
            self.types[tensor.name] = helper.make_tensor_type_proto(tensor.data_type, list(tensor.dims))
            self.constants[tensor.name] = tensor
        for node in graph.node:
            if node.op_type == "Constant" and is_standard_domain(node.domain) and node.output:
                tensor = constant_value(node)
                if tensor is not None:
                    self.constants[node.output[0]] = tensor


def constant_value(node: onnx.NodeProto) -> onnx.TensorProto | None:
    """The tensor a Constant node produces (None for sparse/string forms)."""
    for attr in node.attribute:
        if attr.name == "value":
            return attr.t
        value = helper.get_attribute_value(attr)
        if attr.name in ("value_float", "value_floats"):
            return helper.make_tensor("", onnx.TensorProto.FLOAT, np.shape(value), np.ravel(value).tolist())
        if attr.name in ("value_int", "value_ints"):
            return helper.make_tensor("", onnx.TensorProto.INT64, np.shape(value), np.ravel(value).tolist())
    return None


@dataclass
class ModelContext:
    """What every one-node model copies from the original."""

    model: onnx.ModelProto
    folder: Path
    functions: set[tuple[str, str]]
    constant_keys: dict[int, tuple[str, Any, Any]] = field(default_factory=dict)  # constants hashed once

    @classmethod
    def of(cls, model: onnx.ModelProto, folder: Path) -> ModelContext:
        return cls(model, folder, {(f.domain, f.name) for f in model.functions})


def _numel(tensor: onnx.TensorProto) -> int:
    return int(np.prod(tensor.dims)) if tensor.dims else 1


@dataclass
class NodeCut:
    """A node's inputs as the one-node model will present them."""

    node: onnx.NodeProto
    inputs: list[tuple[str, str, Any]]  # (new name, kind "const"|"standin"|"var"|"untyped"|"", payload)
    outputs: list[tuple[str, Any]]
    keep_names: bool
    signature: bytes = b""
    dims: _DimNames | None = None
    notes: list[str] = field(default_factory=list)


class _DimNames:
    """Renames symbolic dims in order of first use (N, unk__17 -> d0, d1), keeping which dims are equal,
    so nodes that differ only in the names shape inference invented share a signature."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def key(self, kind: onnx.TypeProto) -> Any:
        """A cheap signature key for a type: dtype and dims, symbols by first-use index."""
        if not kind.HasField("tensor_type"):
            return kind.SerializeToString()
        tensor = kind.tensor_type
        if not tensor.HasField("shape"):
            return (tensor.elem_type, None)
        dims = tuple(
            d.dim_value
            if d.HasField("dim_value")
            else self.names.setdefault(d.dim_param, f"d{len(self.names)}")
            if d.dim_param
            else "?"
            for d in tensor.shape.dim
        )
        return (tensor.elem_type, dims)

    def canonical(self, kind: onnx.TypeProto | None) -> onnx.TypeProto | None:
        if kind is None or not kind.HasField("tensor_type") or not kind.tensor_type.HasField("shape"):
            return kind
        if not any(d.dim_param for d in kind.tensor_type.shape.dim):
            return kind
        copy = onnx.TypeProto()
        copy.CopyFrom(kind)
        for dim in copy.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_param = self.names.setdefault(dim.dim_param, f"d{len(self.names)}")
        return copy


def cut_node(node: onnx.NodeProto, scope: Scope, ctx: ModelContext) -> NodeCut:
    """Describe `node` in isolation and compute its signature (no model is built yet)."""
    dims = _DimNames()
    keep = any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute)
    names = list(node.input) + (sorted(subgraph_references(node) - set(node.input)) if keep else [])
    inputs, first_seen, parts = [], {}, [node.domain, node.op_type]
    for position, name in enumerate(names):
        if not name:
            inputs.append(("", "", None))
            parts.append("-")
        elif name in first_seen:  # Mul(x, x): same input twice is part of the signature
            inputs.append((inputs[first_seen[name]][0], "same", None))
            parts.append(f"={first_seen[name]}")
        else:
            first_seen[name] = position
            kind, payload, key = _describe_input(name, scope, ctx, dims)
            inputs.append((name if keep else f"in{position}", kind, payload))
            parts.append(key)
    outputs = [(name if keep or not name else f"out{i}", scope.types.get(name)) for i, name in enumerate(node.output)]
    parts += [dims.key(t) if t is not None else "?" for _, t in outputs]
    parts += [a.SerializeToString() for a in sorted(node.attribute, key=lambda a: a.name)]
    if keep:
        parts.append(node.name)
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    cut = NodeCut(node, inputs, outputs, keep, digest.digest(), dims=dims)
    cut.notes = [
        f"input {n!r} has no inferred type" for n, (_, k, _) in zip(names, inputs, strict=True) if k == "untyped"
    ]
    return cut


def _describe_input(name: str, scope: Scope, ctx: ModelContext, dims: _DimNames) -> tuple[str, Any, Any]:
    """(kind, payload, signature key) for one distinct input."""
    tensor = scope.constants.get(name)
    if tensor is not None:
        described = ctx.constant_keys.get(id(tensor))
        if described is None:
            described = ctx.constant_keys[id(tensor)] = _describe_constant(tensor, ctx)
        return described
    kind = scope.types.get(name)
    if kind is None:
        return "untyped", None, "?"
    return "var", kind, dims.key(kind)


def _describe_constant(tensor: onnx.TensorProto, ctx: ModelContext) -> tuple[str, Any, Any]:
    size = _numel(tensor)
    if size <= SMALL_CONSTANT:
        tensor = read_tensor(tensor, ctx.folder)
        data = tensor.raw_data or onnx.numpy_helper.to_array(tensor).tobytes()
        return "const", tensor, (tensor.data_type, tuple(tensor.dims), hashlib.sha1(data).hexdigest())
    if size <= STANDIN_LIMIT:
        return "standin", tensor, ("w", tensor.data_type, tuple(tensor.dims))
    return "var", helper.make_tensor_type_proto(tensor.data_type, list(tensor.dims)), ("W", tensor.data_type)


def build_model(cut: NodeCut, ctx: ModelContext) -> bytes:
    """The serialized one-node model for `cut`."""
    node = onnx.NodeProto()
    node.CopyFrom(cut.node)
    node.name = CHECKED_NODE
    graph_inputs, initializers = [], []
    for i, (name, kind, payload) in enumerate(cut.inputs):
        if i < len(node.input):
            node.input[i] = name
        if kind == "const":
            initializers.append(_renamed(payload, name))
        elif kind == "standin":
            zeros = np.zeros(tuple(payload.dims), dtype=helper.tensor_dtype_to_np_dtype(payload.data_type))
            initializers.append(onnx.numpy_helper.from_array(zeros, name))
        elif kind in ("var", "untyped"):
            info = onnx.ValueInfoProto(name=name)
            if payload is not None:
                info.type.CopyFrom(cut.dims.canonical(payload) if cut.dims else payload)
            else:
                info.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
            graph_inputs.append(info)
    for i, (name, _) in enumerate(cut.outputs):
        node.output[i] = name
    outputs = [_value_info(n, cut.dims.canonical(t) if cut.dims else t) for n, t in cut.outputs if n]
    graph = helper.make_graph([node], "trtplug_check", graph_inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=list(ctx.model.opset_import), ir_version=ctx.model.ir_version)
    if (cut.node.domain, cut.node.op_type) in ctx.functions or cut.keep_names:
        model.functions.extend(ctx.model.functions)
    return model.SerializeToString()


def _value_info(name: str, kind: onnx.TypeProto | None) -> onnx.ValueInfoProto:
    info = onnx.ValueInfoProto(name=name)
    if kind is not None:
        info.type.CopyFrom(kind)
    return info


def _renamed(tensor: onnx.TensorProto, name: str) -> onnx.TensorProto:
    copy = onnx.TensorProto()
    copy.CopyFrom(tensor)
    copy.name = name
    return copy
