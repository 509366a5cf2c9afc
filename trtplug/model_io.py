"""Loading ONNX models with errors that name the file, and walking their nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.external_data_helper
from google.protobuf.message import DecodeError

from trtplug.errors import TrtplugError
from trtplug.graph_wiring import check_opset_versions, check_wiring
from trtplug.onnx_common import STANDARD_DOMAINS, attr_subgraphs, iter_graphs, iter_nodes


def load_model(path: str | Path, load_weights: bool = False) -> onnx.ModelProto:
    """The model at `path`; external weights stay on disk unless `load_weights`."""
    path = Path(path)
    if not path.exists():
        raise TrtplugError(f"{path}: no such model file")
    if not path.is_file():  # a directory, FIFO or device: reading it could hang or never end
        raise TrtplugError(f"{path}: not a regular file")
    try:
        return onnx.load(str(path), load_external_data=load_weights)
    except (DecodeError, onnx.onnx_cpp2py_export.checker.ValidationError, ValueError, RuntimeError) as exc:
        raise TrtplugError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None


# --- Validation shared by `check` and `rewrite`: each check raises TrtplugError naming the problem. ---


def load_valid_model(path: str | Path, load_weights: bool = False) -> onnx.ModelProto:
    """`load_model` plus the structural checks below; external weights are read (`load_weights`)
    only once their files have been checked."""
    model = load_model(path)
    check_structure(model, path)
    check_opset_versions(model, path)
    check_opset_domains(model, path)
    check_wiring(model.graph, f"{path}: graph")
    for graph_path, graph in iter_graphs(model.graph):
        check_acyclic(graph, f"{path}: {graph_path}")
    check_tensor_payloads(model, path)
    check_external_data(model, Path(path).resolve().parent, path)
    if load_weights:
        onnx.external_data_helper.load_external_data_for_model(model, str(Path(path).resolve().parent))
    return model


def check_structure(model: onnx.ModelProto, path: str | Path) -> None:
    """Bytes that happen to decode (text, a truncated file) usually lack these top-level fields."""
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise TrtplugError(f"{path}: not an ONNX model (no ir_version or no graph)")
    if not model.opset_import:
        raise TrtplugError(f"{path}: no opset_import in the model (truncated file?)")


def check_opset_domains(model: onnx.ModelProto, path: str | Path) -> None:
    """Every node's domain is imported by the model (or its function), or names a local function."""
    functions = {(f.domain, f.name) for f in model.functions}
    scopes = [("graph", {i.domain or "" for i in model.opset_import}, iter_nodes(model.graph))]
    for function in model.functions:
        imported = {i.domain or "" for i in function.opset_import} | {i.domain or "" for i in model.opset_import}
        scopes.append((f"function {function.name}", imported, _function_nodes(function)))
    for where, imported, nodes in scopes:
        imported = imported | set(STANDARD_DOMAINS) if "" in imported else imported
        for name, node in nodes:
            if (node.domain or "") not in imported and (node.domain, node.op_type) not in functions:
                raise TrtplugError(
                    f"{path}: node {name!r} ({node.op_type}) in {where} uses opset domain {node.domain!r}, "
                    "which the model does not import (unknown opset domain)"
                )


def _function_nodes(function: onnx.FunctionProto) -> Iterator[tuple[str, onnx.NodeProto]]:
    for index, node in enumerate(function.node):
        yield f"{function.name}/{node.name or f'{node.op_type}_{index}'}", node


def subgraph_references(node: onnx.NodeProto) -> set[str]:
    """Names a node's If/Loop/Scan bodies read from the enclosing scopes (implicit inputs)."""
    used: set[str] = set()
    for attr in node.attribute:
        for sub in attr_subgraphs(attr):
            defined = {i.name for i in sub.input} | {t.name for t in sub.initializer}
            defined |= {o for n in sub.node for o in n.output}
            for inner in sub.node:
                used |= {i for i in inner.input if i} | subgraph_references(inner)
            used |= {o.name for o in sub.output}
            used -= defined
    return used


def check_acyclic(graph: onnx.GraphProto, where: str) -> None:
    """Kahn's algorithm over producer -> consumer edges; a leftover node sits on a cycle."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    consumers: list[list[int]] = [[] for _ in graph.node]
    pending = [0] * len(graph.node)
    for i, node in enumerate(graph.node):
        for source in {producer[n] for n in (*node.input, *subgraph_references(node)) if n in producer}:
            consumers[source].append(i)
            pending[i] += 1
    ready = [i for i, count in enumerate(pending) if count == 0]
    done = 0
    while ready:
        done += 1
        for j in consumers[ready.pop()]:
            pending[j] -= 1
            if pending[j] == 0:
                ready.append(j)
    if done < len(graph.node):
        stuck = next(i for i, count in enumerate(pending) if count > 0)
        node = graph.node[stuck]
        raise TrtplugError(f"{where}: graph cycle through node {node.name or f'{node.op_type}_{stuck}'!r}")


def iter_tensors(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """(owner, tensor) for initializers and Constant/attribute tensors in every graph and function."""
    bodies = [(p, g.initializer, g.node) for p, g in iter_graphs(model.graph)]
    bodies += [(f"function {f.name}", [], f.node) for f in model.functions]
    for where, initializers, nodes in bodies:
        for tensor in initializers:
            yield f"{where}: initializer {tensor.name!r}", tensor
        for node in nodes:
            for attr in node.attribute:
                for tensor in [attr.t] if attr.type == onnx.AttributeProto.TENSOR else list(attr.tensors):
                    yield f"{where}: node {node.name or node.op_type!r} attribute {attr.name}", tensor


# Packed element types: bits per element (the rest take their numpy itemsize).
_PACKED_BITS = {"INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "INT2": 2, "UINT2": 2}


def check_tensor_payloads(model: onnx.ModelProto, path: str | Path) -> None:
    """Every in-file tensor has a real data type, non-negative dims and raw data of the right size."""
    valid = set(onnx.TensorProto.DataType.values()) - {onnx.TensorProto.UNDEFINED}
    for owner, tensor in iter_tensors(model):
        if tensor.data_type not in valid:
            raise TrtplugError(f"{path}: {owner}: data type {tensor.data_type} is not an ONNX data type")
        if any(d < 0 for d in tensor.dims):
            raise TrtplugError(f"{path}: {owner}: negative dimension in {list(tensor.dims)}")
        if tensor.data_location == onnx.TensorProto.EXTERNAL or not tensor.HasField("raw_data"):
            continue
        if tensor.data_type == onnx.TensorProto.STRING:
            continue
        count = int(np.prod(tensor.dims, dtype=np.int64)) if tensor.dims else 1
        bits = _PACKED_BITS.get(onnx.TensorProto.DataType.Name(tensor.data_type))
        if bits is None:
            bits = 8 * onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        expected = (count * bits + 7) // 8
        if len(tensor.raw_data) != expected:
            raise TrtplugError(
                f"{path}: {owner}: raw data holds {len(tensor.raw_data)} bytes; dims {list(tensor.dims)} "
                f"need {expected}"
            )


def external_data_path(tensor: onnx.TensorProto, model_dir: Path, owner: str) -> tuple[Path, int, int | None]:
    """(file, offset, length) of an external tensor, refusing files outside the model's folder."""
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    target = (model_dir / location).resolve()
    if not location or Path(location).is_absolute() or not target.is_relative_to(model_dir.resolve()):
        raise TrtplugError(f"{owner}: external data location {location!r} points outside the model's folder")
    try:
        offset, length = int(info.get("offset", 0)), (int(info["length"]) if "length" in info else None)
    except ValueError:
        raise TrtplugError(f"{owner}: external data offset/length are not integers") from None
    return target, offset, length


_SUB_BYTE = {
    getattr(onnx.TensorProto, name)
    for name in ("INT4", "UINT4", "FLOAT4E2M1", "INT2", "UINT2")
    if hasattr(onnx.TensorProto, name)
}


def check_external_data(model: onnx.ModelProto, model_dir: Path, path: str | Path) -> None:
    """Each external tensor's file exists inside the model's folder and holds offset + length bytes."""
    for owner, tensor in iter_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        target, offset, length = external_data_path(tensor, model_dir, f"{path}: {owner}")
        if not target.is_file():
            raise TrtplugError(f"{path}: {owner}: external data file {target.name!r} is missing")
        if length is None and tensor.data_type in _SUB_BYTE:
            continue  # packed sizes: nothing simple to compare against
        if length is None:  # no recorded length: the tensor's own size
            count = int(np.prod(tensor.dims)) if tensor.dims else 1
            length = count * onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        if offset + length > target.stat().st_size:
            raise TrtplugError(f"{path}: {owner}: external data file {target.name!r} is shorter than offset + length")


def read_tensor(tensor: onnx.TensorProto, model_dir: Path) -> onnx.TensorProto:
    """A copy of `tensor` with its external data (if any) read in; other tensors stay on disk."""
    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return tensor
    target, offset, length = external_data_path(tensor, model_dir, f"initializer {tensor.name!r}")
    loaded = onnx.TensorProto()
    loaded.CopyFrom(tensor)
    with open(target, "rb") as handle:
        handle.seek(offset)
        loaded.raw_data = handle.read() if length is None else handle.read(length)
    del loaded.external_data[:]
    loaded.data_location = onnx.TensorProto.DEFAULT
    return loaded


SMALL_INITIALIZER = 64  # elements: indices, axes and shapes, kept with their data by without_weights


def without_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` whose initializers keep name, type and dims but no data, except small
    in-file ones (the constant indices and axes node walks read): enough for the graph's
    interface and node walks, at a fraction of the memory (built field by field so the weights
    are never copied)."""
    light = onnx.ModelProto()
    _copy_fields(model, light, skip="graph")
    _copy_fields(model.graph, light.graph, skip="initializer")
    for tensor in model.graph.initializer:
        small = int(np.prod(tensor.dims)) <= SMALL_INITIALIZER and tensor.data_location != onnx.TensorProto.EXTERNAL
        if small:
            light.graph.initializer.add().CopyFrom(tensor)
        else:
            light.graph.initializer.add(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
    return light


def _copy_fields(source: Any, target: Any, skip: str) -> None:
    for field, value in source.ListFields():
        if field.name == skip:
            continue
        if hasattr(value, "extend"):  # a repeated field (protobuf's descriptor API varies by version)
            getattr(target, field.name).extend(value)
        elif field.message_type is not None:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)
