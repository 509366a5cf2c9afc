"""Graph hygiene after a rewrite: orphaned constants removed, value_info kept true, topological
order ensured, and the result checked by the ONNX checker and strict shape inference."""

from __future__ import annotations

import tempfile
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import onnx
from onnx import helper

from trtplug.errors import TrtplugError
from trtplug.onnx_common import iter_graphs, node_subgraphs

from .graph_view import TensorType, names_used_inside


def remove_orphans(graph: onnx.GraphProto, candidates: set[str]) -> None:
    """Drop initializers and Constant nodes among `candidates` that nothing reads any more."""
    used = names_used_inside(graph) | {o.name for o in graph.output}
    orphans = {name for name in candidates if name not in used}
    if not orphans:
        return
    kept_init = [t for t in graph.initializer if t.name not in orphans]
    if len(kept_init) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(kept_init)
        kept_inputs = [i for i in graph.input if i.name not in orphans]  # IR < 4 lists initializers as inputs
        del graph.input[:]
        graph.input.extend(kept_inputs)
    doomed = [i for i, n in enumerate(graph.node) if n.op_type == "Constant" and set(n.output) <= orphans]
    for index in reversed(doomed):
        del graph.node[index]


def update_value_info(graph: onnx.GraphProto, plugin_types: dict[str, TensorType], restructured: bool) -> None:
    """value_info for plugin outputs from the spec's rules (inference cannot see into plugins);
    entries of tensors that no longer exist (restructured graphs only) are dropped."""
    if not plugin_types and not restructured:
        return
    if restructured:
        present = names_used_inside(graph) | {o for n in graph.node for o in n.output if o}
    else:
        present = {v.name for v in graph.value_info} | set(plugin_types)
    outputs = {o.name for o in graph.output}
    declared = {v.name for v in graph.value_info}
    # A rule-derived type wins; with no known shape, an entry the model already had is kept.
    derived = {
        name: info
        for name, info in plugin_types.items()
        if name in present
        and name not in outputs
        and info.elem_type
        and (info.shape is not None or name not in declared)
    }
    kept = [v for v in graph.value_info if v.name in present and v.name not in derived]
    kept += [helper.make_tensor_value_info(name, info.elem_type, info.shape) for name, info in derived.items()]
    del graph.value_info[:]
    graph.value_info.extend(kept)


def _external_names(graph: onnx.GraphProto) -> set[str]:
    return {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}


def node_reads(node: onnx.NodeProto) -> set[str]:
    reads = {i for i in node.input if i}
    for _, sub in node_subgraphs(node):
        reads |= names_used_inside(sub)
    return reads


def is_topologically_sorted(graph: onnx.GraphProto) -> bool:
    produced_here = {o for n in graph.node for o in n.output}
    seen = _external_names(graph)
    for node in graph.node:
        if any(name in produced_here and name not in seen for name in node_reads(node)):
            return False
        seen.update(node.output)
    return True


def toposort(graph: onnx.GraphProto) -> None:
    """Stable topological sort (Kahn); a cycle is an error naming a node on it."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output if o}
    waiting: dict[int, int] = {}
    readers: dict[int, list[int]] = defaultdict(list)
    for index, node in enumerate(graph.node):
        deps = {producer[name] for name in node_reads(node) if name in producer}
        waiting[index] = len(deps)
        for dep in deps:
            readers[dep].append(index)
    ready = deque(i for i in range(len(graph.node)) if waiting[i] == 0)
    order = []
    while ready:
        index = ready.popleft()
        order.append(index)
        for reader in sorted(readers[index]):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) != len(graph.node):
        stuck = next(graph.node[i] for i in range(len(graph.node)) if waiting[i] > 0)
        raise TrtplugError(f"graph {graph.name!r} has a cycle through node {stuck.name or stuck.op_type!r}")
    nodes = [graph.node[i] for i in order]
    copies = [onnx.NodeProto() for _ in nodes]
    for copy, node in zip(copies, nodes, strict=True):
        copy.CopyFrom(node)
    del graph.node[:]
    graph.node.extend(copies)


def check_model(model: onnx.ModelProto, what: str, inference: bool = True, base_dir: str | None = None) -> str | None:
    """ONNX checker and (with `inference`) strict shape inference; TrtplugError(what: problem).
    The checker resolves external data files relative to the model file and only asks that
    they exist (regular files, no links): a model with external data is checked from a scratch
    folder holding empty stand-ins, after checking that the real files exist in `base_dir`.
    ONNX Runtime's default-domain ops are validated against its schemas instead (trtplug.ort_ops);
    returns a note naming them when onnxruntime is missing and they went unvalidated."""
    from trtplug.ort_ops import hidden_from_checker, unknown_default_domain_nodes, validate_with_ort

    ort_nodes = unknown_default_domain_nodes(model)
    note = validate_with_ort(ort_nodes, what)
    with hidden_from_checker(model, ort_nodes):
        _check_with_external_data(model, what, inference, base_dir)
    return note


def _check_with_external_data(model: onnx.ModelProto, what: str, inference: bool, base_dir: str | None) -> None:
    from trtplug.model_write import external_locations

    locations = external_locations(model)
    if not locations:
        with _shapes_for_checker(model):
            _run_checker(model, what)
        if inference:
            _run_inference(model, what)
        return
    with tempfile.TemporaryDirectory(prefix="trtplug-check-") as scratch:
        for location in locations:
            real = Path(base_dir or ".") / location
            if Path(location).is_absolute() or ".." in Path(location).parts or not real.is_file():
                raise TrtplugError(f"{what}: external data file {location!r} is missing or outside the model folder")
            stand_in = Path(scratch) / location
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.touch()
        path = Path(scratch) / "model.onnx"
        with _shapes_for_checker(model):
            path.write_bytes(model.SerializeToString())
        _run_checker(str(path), what)
        if inference:
            path.write_bytes(model.SerializeToString())
            _run_inference(str(path), what)


@contextmanager
def _shapes_for_checker(model: onnx.ModelProto) -> Iterator[None]:
    """Graph inputs/outputs without a shape (unknown rank) are valid to ONNX Runtime, which loads
    them; the ONNX checker requires the field. It checks them with an empty shape for the
    duration; shape inference then sees the model as it is."""
    shapeless = [
        value.type.tensor_type
        for _, graph in iter_graphs(model.graph)
        for value in (*graph.input, *graph.output)
        if value.type.HasField("tensor_type") and not value.type.tensor_type.HasField("shape")
    ]
    for tensor_type in shapeless:
        tensor_type.shape.SetInParent()
    try:
        yield
    finally:
        for tensor_type in shapeless:
            tensor_type.ClearField("shape")


def _run_checker(model: onnx.ModelProto | str, what: str) -> None:
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise TrtplugError(f"{what} fails the ONNX checker: {str(exc).splitlines()[0]}") from None


def _run_inference(model: onnx.ModelProto | str, what: str) -> None:
    try:
        if isinstance(model, str):
            onnx.shape_inference.infer_shapes_path(model, model + ".inferred", check_type=True, strict_mode=True)
        else:
            onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        raise TrtplugError(f"{what} fails shape inference: {str(exc).splitlines()[0]}") from None
