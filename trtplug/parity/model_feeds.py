"""Inputs for model-level parity: fresh random feeds shaped by the graph inputs (integer inputs
kept inside the tables they index), or the user's own from --inputs: a NumPy .npz (one feed) or
Polygraphy's JSON input format (`polygraphy run --save-inputs`, `polygraphy.json.save_json` of a
list of feed dicts: one feed per iteration). A feed is checked against the graph's inputs
(names, element types, ranks and fixed dims) before anything runs."""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from trtplug.errors import TrtplugError
from trtplug.onnx_common import is_standard_domain
from trtplug.protolib.dtypes import BF16
from trtplug.registry import Registry

DEFAULT_DIM = 3  # symbolic or unknown dims of graph inputs, unless --dim says otherwise
# Polygraphy's JSON marks an encoded array with this key (older releases: the legacy key).
_POLYGRAPHY_TYPE_KEYS = ("polygraphy_class", "polygraphy_serialized_json_type")


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The graph inputs a caller feeds (initializers listed as inputs have defaults)."""
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def _index_bounds(model: onnx.ModelProto, registry: Registry | None, name: str) -> tuple[int, int] | None:
    """[low, high) for an integer graph input that a covered op reads as indices, directly or
    through pass-through ops (ONNX Runtime's optimizer casts BERT's int64 ids to int32 before its
    EmbedLayerNormalization): the op spec's [parity.values] hint for that input, sized by the
    initializers the node reads (e.g. a table)."""
    if registry is None:
        return None
    versions = {o.domain or "": o.version for o in model.opset_import}
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    for node, read in _consumers_through(model, name, _INDEX_PASS_THROUGH):
        spec = registry.covering(node.domain, node.op_type, versions.get(node.domain or "", 1))
        if spec is None or spec.parity is None:
            continue
        tensor = spec.inputs[list(node.input).index(read)] if len(node.input) <= len(spec.inputs) else None
        hint = spec.parity.values.get(tensor.name) if tensor is not None else None
        if hint is not None:
            named = {t.name: shapes[n] for t, n in zip(spec.inputs, node.input, strict=False) if n in shapes}
            try:
                return hint.bounds(named)
            except KeyError:  # the bound names an input that is not a constant here
                continue
    return None


# Ops that pass index values through unchanged (only their layout or type changes).
_INDEX_PASS_THROUGH = frozenset({"Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity", "Expand"})
# ...and those that derive key lengths from a 0/1 mask (GenAI: ReduceSum, Sub 1, Cast -> seqlens_k).
_MASK_PASS_THROUGH = _INDEX_PASS_THROUGH | {"ReduceSum", "Sub", "Add", "Slice"}
# com.microsoft inputs that read a key-padding mask or the lengths derived from one
_MASK_SLOTS = {"GroupQueryAttention": 5, "Attention": 3, "MultiHeadAttention": 4, "EmbedLayerNormalization": 7}


def _known_shapes(model: onnx.ModelProto) -> dict[str, tuple[int | None, ...]]:
    """Initializer dims, and the dims of graph inputs and inferred tensors (None where symbolic).
    (Model parity hands in the original without its weights: inference stays cheap.)"""
    shapes: dict[str, tuple[int | None, ...]] = {t.name: tuple(t.dims) for t in model.graph.initializer}
    try:
        values = list(onnx.shape_inference.infer_shapes(model, strict_mode=False).graph.value_info)
    except Exception:  # inference is a help here: without it only declared shapes count
        values = []
    for value in [*model.graph.input, *values]:
        dims = value.type.tensor_type.shape.dim
        shapes.setdefault(value.name, tuple(d.dim_value if d.HasField("dim_value") else None for d in dims))
    return shapes


def _indexed_extent(node: onnx.NodeProto, tensor: str, shapes: dict) -> int | None:
    """The extent `tensor` indexes when it is a standard op's index input: Gather's indices (the
    data's `axis`), RoiAlign's batch_indices (X's batch)."""
    if not is_standard_domain(node.domain) or len(node.input) < 2:
        return None
    if node.op_type == "Gather" and node.input[1] == tensor:
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        table = shapes.get(node.input[0])
        return table[axis] if table and -len(table) <= axis < len(table) else None
    if node.op_type == "RoiAlign" and len(node.input) > 2 and node.input[2] == tensor:
        x = shapes.get(node.input[0])
        return x[0] if x else None
    return None


def _consumers_through(model: onnx.ModelProto, name: str, passes: frozenset[str]):
    """(node, tensor) for every node that reads `name`, or a tensor derived from it through
    standard ops in `passes` taking it as their first input, other than those pass-through nodes."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for used in node.input:
            consumers.setdefault(used, []).append(node)
    frontier, seen = [name], {name}
    while frontier:
        tensor = frontier.pop()
        for node in consumers.get(tensor, []):
            if is_standard_domain(node.domain) and node.op_type in passes and node.input[0] == tensor:
                frontier += [o for o in node.output if o and o not in seen]
                seen.update(node.output)
            else:
                yield node, tensor


def _gather_bounds(model: onnx.ModelProto, name: str, shapes: dict) -> tuple[int, int] | None:
    """[0, n) for an integer input that reaches an index input (Gather, RoiAlign's batch_indices)
    through pass-through ops (BERT's token_type_ids into a 2-row table): the smallest extent."""
    found = (
        _indexed_extent(node, tensor, shapes) for node, tensor in _consumers_through(model, name, _INDEX_PASS_THROUGH)
    )
    extents = [extent for extent in found if extent is not None]
    return (0, min(extents)) if extents and min(extents) > 0 else None


def _constant_protos(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    """Initializers and Constant nodes' values by tensor name, not yet decoded."""
    from trtplug.check.extract import Scope

    scope = Scope()
    scope.add_graph(model.graph)
    return dict(scope.constants)


def _column_taken(node: onnx.NodeProto, protos: dict[str, onnx.TensorProto]) -> tuple[int, int] | None:
    """(axis, index) when `node` takes one index of one axis of its input: Gather with a constant
    scalar or 1-element index, or Slice of width 1 over one axis (boxes[:, 0] as exporters write)."""
    if not all(n in protos for n in node.input[1:]) or not is_standard_domain(node.domain):
        return None
    try:
        ints = [numpy_helper.to_array(protos[n]).reshape(-1) for n in node.input[1:]]
    except ValueError:  # an initializer without its data (see model_io.without_weights)
        return None
    if node.op_type == "Gather" and len(ints) == 1 and ints[0].size == 1:
        return next((a.i for a in node.attribute if a.name == "axis"), 0), int(ints[0][0])
    if node.op_type == "Slice" and len(ints) >= 3 and all(v.size == 1 for v in ints):
        starts, ends, axes, *steps = (int(v[0]) for v in ints)
        return (axes, starts) if ends == starts + 1 and steps in ([], [1]) else None
    return None


def _index_columns(model: onnx.ModelProto, name: str, shapes_of: Callable[[], dict]) -> list[tuple[int, int, int]]:
    """(axis, index, extent) for each slice of float input `name` that is cast into an index input
    (a proposals input [K, 5] whose column 0 becomes RoiAlign's batch_indices)."""
    candidates = [n for n in model.graph.node if n.input and n.input[0] == name and n.op_type in ("Gather", "Slice")]
    protos = _constant_protos(model) if candidates else {}
    columns = []
    for node in candidates:
        taken = _column_taken(node, protos)
        bounds = _gather_bounds(model, node.output[0], shapes_of()) if taken else None
        if bounds:
            columns.append((*taken, bounds[1]))
    return columns


def _float_feed(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, columns: list) -> np.ndarray:
    """Normal values, with whole numbers in [0, n) in each (axis, index, n) of `columns`."""
    values = rng.standard_normal(shape).astype(dtype)
    for axis, index, extent in columns:
        if -len(shape) <= axis < len(shape) and -shape[axis] <= index < shape[axis]:
            where = [slice(None)] * len(shape)
            where[axis] = index
            values[tuple(where)] = rng.integers(0, extent, values[tuple(where)].shape)
    return values


def _is_attention_mask(model: onnx.ModelProto, name: str) -> bool:
    """An integer input that is a 0/1 attention mask: all ones, every token attending. Random
    integers would make the lengths models derive from it (GenAI: seqlens_k = sum - 1) disagree
    with the shapes. Known by the name exporters give it (Hugging Face, Optimum and GenAI's
    `attention_mask`), or by reaching a com.microsoft op's mask input."""
    if name.rsplit("/", 1)[-1].lower() in ("attention_mask", "input_mask", "mask"):
        return True
    for node, tensor in _consumers_through(model, name, _MASK_PASS_THROUGH):
        slot = _MASK_SLOTS.get(node.op_type) if node.domain == "com.microsoft" else None
        if slot is not None and slot < len(node.input) and node.input[slot] == tensor:
            return True
    return False


def _gqa_caches(model: onnx.ModelProto):
    """(node, int attributes, past_key's dims) of each GroupQueryAttention whose past_key is a
    rank-4 graph input."""
    inputs = {v.name: v.type.tensor_type.shape.dim for v in graph_inputs(model)}
    for node in model.graph.node:
        if node.op_type == "GroupQueryAttention" and len(node.input) >= 4 and len(inputs.get(node.input[3], ())) == 4:
            yield node, {a.name: a.i for a in node.attribute}, inputs[node.input[3]]


def _cache_head_dims(model: onnx.ModelProto, shapes_of: Callable[[], dict]) -> dict[str, int]:
    """A symbolic head size of a GroupQueryAttention's past_key graph input (GenAI 0.18 writes it as
    kv_cache_dim): the query's width over num_heads (+ 2 kv_num_heads when QKV is packed)."""
    found = {}
    for node, attrs, dims in _gqa_caches(model):
        query = shapes_of().get(node.input[0]) if dims[3].dim_param else None
        if not query or not query[-1]:
            continue
        packed = len(node.input) < 2 or not node.input[1]
        heads = attrs.get("num_heads", 0) + (2 * attrs.get("kv_num_heads", 0) if packed else 0)
        if heads > 0 and query[-1] % heads == 0:
            found[dims[3].dim_param] = query[-1] // heads
    return found


def _window_capacities(model: onnx.ModelProto) -> dict[str, int]:
    """A symbolic row count of a windowed GroupQueryAttention's past_key graph input (GenAI 0.18:
    past_sliding_length): its local_window_size, the smallest buffer ONNX Runtime takes (the
    default 3 is below a real window, and ONNX Runtime refuses the model)."""
    found = {}
    for _, attrs, dims in _gqa_caches(model):
        window = attrs.get("local_window_size", -1)
        if attrs.get("sliding_window_cache", 0) == 1 and window >= 1 and dims[2].dim_param:
            found[dims[2].dim_param] = window
    return found


def resolved_dims(model: onnx.ModelProto, dims: dict[str, int]) -> dict[str, int]:
    """`dims` (the user's --dim) over the symbolic dims the graph pins down (_cache_head_dims,
    _window_capacities)."""
    shapes: dict = {}

    def shapes_of() -> dict:  # inferred once, and only for a model with such a node
        if not shapes:
            shapes.update(_known_shapes(model))
        return shapes

    return {**_cache_head_dims(model, shapes_of), **_window_capacities(model), **dims}


def defaulted_dims(model: onnx.ModelProto, dims: dict[str, int]) -> list[str]:
    """Symbolic dims of the graph inputs that `dims` leaves out (they take DEFAULT_DIM), in order."""
    named = [d.dim_param for v in graph_inputs(model) for d in v.type.tensor_type.shape.dim if d.dim_param]
    return list(dict.fromkeys(n for n in named if n not in dims))


def random_feeds(
    model: onnx.ModelProto, dims: dict[str, int], seed: int, registry: Registry | None = None
) -> dict[str, np.ndarray]:
    """Fresh inputs for every graph input that is not an initializer; integer inputs a covered op
    reads as indices stay within the tables they index; attention masks are ones."""
    rng = np.random.default_rng(seed)
    feeds = {}
    shapes = None  # inferred once, and only when an input needs its bounds

    def shapes_of() -> dict:
        nonlocal shapes
        shapes = _known_shapes(model) if shapes is None else shapes
        return shapes

    for value in graph_inputs(model):
        tensor = value.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        shape = tuple(
            d.dim_value if d.HasField("dim_value") else dims.get(d.dim_param, DEFAULT_DIM) for d in tensor.shape.dim
        )
        _refuse_oversized(value.name, shape, dtype)
        if dtype.kind == "f" or dtype == BF16:  # ml_dtypes' bfloat16 is of kind "V"
            feeds[value.name] = _float_feed(rng, shape, dtype, _index_columns(model, value.name, shapes_of))
        elif dtype == np.bool_:
            feeds[value.name] = rng.integers(0, 2, shape).astype(bool)
        elif _is_attention_mask(model, value.name):
            feeds[value.name] = np.ones(shape, dtype)
        else:
            bounds = _index_bounds(model, registry, value.name) or _gather_bounds(model, value.name, shapes_of())
            low, high = bounds or (0, 4)  # small: valid as indices too
            feeds[value.name] = rng.integers(low, high, shape).astype(dtype)
    return feeds


def _refuse_oversized(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """A --dim value that makes an input larger than this machine's memory is the user's error;
    allocating it would be killed by the OS (overcommit) rather than raise MemoryError."""
    size = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if size > physical:
        raise TrtplugError(
            f"input {name!r} of shape {list(shape)} needs {size / 2**30:.1f} GiB, more than this machine's "
            f"{physical / 2**30:.1f} GiB of memory: choose smaller --dim values"
        )


def load_input_file(path: str, model: onnx.ModelProto) -> list[dict[str, np.ndarray]]:
    """The feeds in `path` (.npz: one; Polygraphy JSON: one per iteration), each checked against
    the model's graph inputs."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise TrtplugError(f"--inputs {path}: cannot read: {exc.strerror or exc}") from None
    is_npz = raw[:4] == b"PK\x03\x04"  # a zip archive
    feeds = [_npz_feed(path, raw)] if is_npz else _polygraphy_feeds(path, raw)
    if not feeds:
        raise TrtplugError(f"--inputs {path}: holds no input sets")
    for index, feed in enumerate(feeds):
        check_feed(feed, model, f"--inputs {path}" + (f" (set {index})" if len(feeds) > 1 else ""))
    return feeds


def _npz_feed(path: str, raw: bytes) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise TrtplugError(f"--inputs {path}: not a readable .npz archive: {exc}") from None


def _polygraphy_feeds(path: str, raw: bytes) -> list[dict[str, np.ndarray]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrtplugError(f"--inputs {path}: neither an .npz archive nor JSON ({exc})") from None
    if isinstance(data, dict):  # a single feed dict is accepted too
        data = [data]
    if not isinstance(data, list) or not all(isinstance(feed, dict) for feed in data):
        raise TrtplugError(f"--inputs {path}: expected Polygraphy's input format, a list of {{name: array}} dicts")
    return [{name: _decode_array(path, name, value) for name, value in feed.items()} for feed in data]


def _decode_array(path: str, name: str, value: object) -> np.ndarray:
    """One array of Polygraphy's JSON: {"array": base64 of np.save bytes, "polygraphy_class": "ndarray"}."""
    if not (isinstance(value, dict) and "array" in value and any(k in value for k in _POLYGRAPHY_TYPE_KEYS)):
        raise TrtplugError(f"--inputs {path}: input {name!r} is not a Polygraphy-encoded array")
    try:
        return np.load(io.BytesIO(base64.b64decode(value["array"], validate=True)), allow_pickle=False)
    except (binascii.Error, ValueError, TypeError, OSError) as exc:
        raise TrtplugError(f"--inputs {path}: input {name!r} does not decode: {exc}") from None


def check_feed(feed: dict[str, np.ndarray], model: onnx.ModelProto, where: str) -> None:
    """Names, element types, ranks and fixed dims of a user feed against the graph inputs."""
    expected = {v.name: v for v in graph_inputs(model)}
    unknown = sorted(set(feed) - set(expected))
    missing = sorted(set(expected) - set(feed))
    if unknown or missing:
        parts = [f"no graph input named {', '.join(map(repr, unknown))}"] * bool(unknown)
        parts += [f"missing {', '.join(map(repr, missing))}"] * bool(missing)
        raise TrtplugError(f"{where}: {'; '.join(parts)} (graph inputs: {', '.join(expected) or 'none'})")
    for name, value in expected.items():
        tensor = value.type.tensor_type
        array = feed[name]
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if array.dtype != dtype:
            raise TrtplugError(f"{where}: input {name!r} is {array.dtype}, the model takes {dtype}")
        dims = list(tensor.shape.dim)
        if tensor.HasField("shape") and len(dims) != array.ndim:
            raise TrtplugError(f"{where}: input {name!r} has rank {array.ndim}, the model takes rank {len(dims)}")
        for axis, (d, size) in enumerate(zip(dims, array.shape, strict=False)):
            if d.HasField("dim_value") and d.dim_value != size:
                raise TrtplugError(
                    f"{where}: input {name!r} has {size} on axis {axis}, the model fixes it to {d.dim_value}"
                )
