"""Loading ONNX models with errors that name the file, and walking their nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from trtplug.errors import TrtplugError


def load_model(path: str | Path, load_weights: bool = False) -> onnx.ModelProto:
    """The model at `path`; external weights stay on disk unless `load_weights`."""
    path = Path(path)
    if not path.is_file():
        raise TrtplugError(f"{path}: no such model file")
    try:
        return onnx.load(str(path), load_external_data=load_weights)
    except (DecodeError, onnx.onnx_cpp2py_export.checker.ValidationError, ValueError, RuntimeError) as exc:
        raise TrtplugError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None


def opset_versions(model: onnx.ModelProto) -> dict[str, int]:
    versions = {imp.domain or "": imp.version for imp in model.opset_import}
    versions.setdefault("", versions.get("ai.onnx", 0))
    return versions


def iter_nodes(graph: onnx.GraphProto, prefix: str = "") -> Iterator[tuple[str, onnx.NodeProto]]:
    """(path, node) for every node, including those in If/Loop/Scan bodies."""
    for index, node in enumerate(graph.node):
        name = f"{prefix}{node.name or f'{node.op_type}_{index}'}"
        yield name, node
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
            for sub in subgraphs:
                yield from iter_nodes(sub, f"{name}/{attr.name}/")
