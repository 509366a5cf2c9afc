"""Writing models safely: the output path is checked before any work, the input is never
overwritten unless asked, the file appears atomically (temp file + rename), and external
data files the model references are made available next to the output."""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

import onnx

from trtplug.errors import TrtplugError
from trtplug.fileio import atomic_write_bytes


def resolve_output(model: str | Path, output: str | Path | None, in_place: bool) -> Path:
    """Where the rewritten model goes; errors name the flag and the path."""
    source = Path(model)
    if in_place:
        if output is not None and Path(output).resolve() != source.resolve():
            raise TrtplugError(f"--in-place writes {source}; drop -o {output} or --in-place")
        return source
    if output is None:
        raise TrtplugError("no output: give -o OUT.onnx (or --in-place, or --dry-run)")
    target = Path(output)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise TrtplugError(f"-o {target} is the input model; pass --in-place to overwrite it")
    if target.is_dir():
        raise TrtplugError(f"-o {target} is a directory")
    if not target.parent.resolve().is_dir():
        raise TrtplugError(f"-o {target}: directory {target.parent} does not exist")
    return target


def external_locations(model: onnx.ModelProto) -> set[str]:
    """Relative paths of the external data files the model's initializers reference."""
    locations = set()
    for tensor in _tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            info = {e.key: e.value for e in tensor.external_data}
            locations.add(info.get("location", ""))
    return locations


def _tensors(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t
            yield from attr.tensors
            for sub in [attr.g] if attr.type == onnx.AttributeProto.GRAPH else attr.graphs:
                yield from _tensors(sub)


def copy_external_data(model: onnx.ModelProto, source_dir: Path, target_dir: Path) -> list[Path]:
    """Copy each external data file into target_dir (atomically); refuses to overwrite a
    different file of the same name."""
    if source_dir.resolve() == target_dir.resolve():
        return []
    placed = []
    for location in sorted(external_locations(model)):
        relative = Path(location)
        if not location or relative.is_absolute() or ".." in relative.parts:
            raise TrtplugError(f"external data location {location!r} must be a relative path inside the model folder")
        source, target = source_dir / relative, target_dir / relative
        if not source.is_file():
            raise TrtplugError(f"{source}: external data file of the model is missing")
        if target.exists():
            if filecmp.cmp(source, target, shallow=False):
                continue
            raise TrtplugError(f"{target} exists with different content; not overwriting another model's data")
        target.parent.mkdir(parents=True, exist_ok=True)
        _place(source, target)
        placed.append(target)
    return placed


def _place(source: Path, target: Path) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, temp)  # a copy: ONNX refuses external data files with several hard links
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def save_model_atomic(model: onnx.ModelProto, path: Path) -> None:
    """Serialize `model` to `path` atomically (trtplug.fileio): a reader never sees a half-written
    model and a failure leaves the old file intact."""
    atomic_write_bytes(path, model.SerializeToString())
