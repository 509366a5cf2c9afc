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


def copy_external_data(model: onnx.ModelProto, source_dir: Path, target: Path) -> list[Path]:
    """Copy each external data file next to the model written at `target` (atomically). Where a
    different file of that name is already there (another model rewritten into the same folder,
    as GenAI's builders all name theirs model.onnx.data), the copy takes the output's name as a
    prefix and the model's references move to it; refuses only when that name is taken too."""
    target_dir = target.parent
    if source_dir.resolve() == target_dir.resolve():
        return []
    placed = []
    for location in sorted(external_locations(model)):
        relative = Path(location)
        if not location or relative.is_absolute() or ".." in relative.parts:
            raise TrtplugError(f"external data location {location!r} must be a relative path inside the model folder")
        source = source_dir / relative
        if not source.is_file():
            raise TrtplugError(f"{source}: external data file of the model is missing")
        destination, present = _destination(source, target_dir / relative, target)
        if destination != target_dir / relative:
            _move_references(model, location, destination.relative_to(target_dir).as_posix())
        if not present:
            destination.parent.mkdir(parents=True, exist_ok=True)
            _place(source, destination)
            placed.append(destination)
    return placed


def _destination(source: Path, wanted: Path, target: Path) -> tuple[Path, bool]:
    """(where source's bytes go, whether they are already there): `wanted` unless it holds other
    bytes, else `<output stem>.<name>` beside it; an error when that one holds other bytes too."""
    for candidate in (wanted, wanted.with_name(f"{target.stem}.{wanted.name}")):
        if not candidate.exists():
            return candidate, False
        if filecmp.cmp(source, candidate, shallow=False):
            return candidate, True
    raise TrtplugError(f"{wanted} and {candidate} exist with different content; not overwriting another model's data")


def _move_references(model: onnx.ModelProto, old: str, new: str) -> None:
    """Every tensor stored at external location `old` now reads it from `new`."""
    for tensor in _tensors(model.graph):
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value == old:
                entry.value = new


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
