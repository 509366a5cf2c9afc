"""Static mode: judge each node from the shipped capability data (data/tensorrt_ops.toml), no parser.

The parser dispatches importers by op_type alone (the domain is ignored), so the data is looked up
the same way. Each rejection names the fact and its source.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

import onnx
from onnx import helper, numpy_helper

from trtplug.check.extract import ModelContext
from trtplug.check.findings import CheckReport
from trtplug.check.walk import NodeSite, infer_types, walk
from trtplug.errors import TrtplugError
from trtplug.onnx_common import dtype_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DATA_PATH = Path(__file__).resolve().parent / "data" / "tensorrt_ops.toml"
# The releases the data describes; a bare major means its latest.
RELEASES = tuple(f"10.{minor}" for minor in range(17)) + tuple(f"11.{minor}" for minor in range(6))
LATEST = {"10": "10.16", "11": "11.5"}
VERSIONS = tuple(LATEST)
CONDITION_KEYS = {
    "attribute",
    "input",
    "absent_input",
    "present_input",
    "same_shape",
    "input_rank",
    "input_type",
    "max_outputs",
    "input_value",
    "dft_power_of_two",
    "input_last_dim",
    "per_token_cache_batch",
    "squeeze_axes_known",
}


def resolve_version(text: str) -> str:
    """A release of the data ("10.8"), from a release or a bare major ("10": its latest)."""
    version = LATEST.get(text, text)
    if version not in RELEASES:
        raise TrtplugError(
            f"--trt-version {text}: no capability data (known: 10.0 ... 10.16, 11.0 ... 11.5, or 10 / 11 for "
            "the latest of a major)"
        )
    return version


def _release(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def applies(fact: dict[str, Any], version: str) -> bool:
    """Whether a fact with optional `since`/`until` releases holds for `version`."""
    release = _release(version)
    since, until = fact.get("since"), fact.get("until")
    return (since is None or release >= _release(since)) and (until is None or release < _release(until))


@cache
def load_data(path: Path = DATA_PATH) -> dict[str, Any]:
    """The capability data, checked enough that a typo names the file and the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TrtplugError(f"{path}: cannot read capability data: {exc}") from None
    sources = data.get("sources", {})
    for op, conditions in data.get("conditions", {}).items():
        for i, condition in enumerate(conditions):
            where = f"{path}: conditions.{op}[{i}]"
            if not CONDITION_KEYS & set(condition) or "reason" not in condition:
                raise TrtplugError(f"{where}: needs a reason and one of {', '.join(sorted(CONDITION_KEYS))}")
            if condition.get("source", data["default_source"]) not in sources:
                raise TrtplugError(f"{where}: unknown source {condition.get('source')!r}")
            if any(condition[k] not in RELEASES for k in ("since", "until") if k in condition):
                raise TrtplugError(f"{where}: since/until must be known releases (10.0 ... 11.5)")
    for op, entry in data["ops"].items():
        if entry.get("source", data["default_source"]) not in sources:
            raise TrtplugError(f"{path}: ops.{op}: unknown source {entry.get('source')!r}")
        for key in ("since", "until"):
            if key in entry and entry[key] not in RELEASES:
                raise TrtplugError(f"{path}: ops.{op}: {key} {entry[key]!r} is not a known release")
    return data


def op_table(version: str, data: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Op name -> entry of every op `version` (a release, e.g. "10.8") has an importer for."""
    data = data or load_data()
    return {op: entry for op, entry in data["ops"].items() if applies(entry, resolve_version(version))}


def library_plugin_of(op_type: str) -> str | None:
    """The plugin-library plugin TensorRT's importer inserts for `op_type` (None: a native layer)."""
    return load_data()["ops"].get(op_type, {}).get("plugin")


def rtx_plugin_of(op_type: str) -> str | None:
    """The plugin creator TensorRT-RTX's importer asks for `op_type`, an op TensorRT imports natively
    (None: TensorRT-RTX imports it as TensorRT does). TensorRT-RTX ships none of them: it rejects the op."""
    return load_data()["ops"].get(op_type, {}).get("rtx_plugin")


class StaticJudge:
    def __init__(self, version: str, ctx: ModelContext | None = None) -> None:
        self.data = load_data()
        self.version = resolve_version(version)
        self.ops = op_table(self.version, self.data)
        types = self.data["tensor_types"]
        self.tensor_types = {t for t in types["types"] if applies({"since": types["since"].get(t)}, self.version)}
        self.functions = {(f.domain, f.name): f for f in (ctx.model.functions if ctx else [])}

    def judge(self, site: NodeSite) -> str | None:
        """Why TensorRT rejects the node, or None."""
        node = site.node
        if (node.domain, node.op_type) in self.functions:
            return self._judge_function(self.functions[(node.domain, node.op_type)], site)
        entry = self.ops.get(node.op_type)
        if entry is None:
            return self._no_importer(node.op_type)
        if entry.get("supported", True) is False:
            return f"TensorRT {self.version} does not support {node.op_type} (source: {self._source(entry)})"
        dtype = self._main_dtype(site, entry)
        problem = self._types(site, entry, dtype)
        for condition in self.data.get("conditions", {}).get(node.op_type, []):
            if problem:
                break
            relevant = (
                applies(condition, self.version)
                and ("when_types" not in condition or dtype in condition["when_types"])
                and _when_attribute(condition, node)
            )
            if relevant and not _holds(condition, site):
                problem = f"{condition['reason']} (source: {self._source(condition)})"
        return problem

    def _no_importer(self, op_type: str) -> str:
        later = self.data["ops"].get(op_type)
        if later is not None and "since" in later and _release(later["since"]) > _release(self.version):
            return (
                f"TensorRT {self.version} has no importer for {op_type} (added in TensorRT {later['since']}; "
                f"source: {self._source(later)})"
            )
        return f"TensorRT {self.version} has no importer for {op_type} (not in {self.data['default_source']})"

    def plugin_library(self, site: NodeSite) -> str | None:
        """The TensorRT plugin-library plugin the importer inserts for this node, if any."""
        entry = self.ops.get(site.node.op_type)
        return entry.get("plugin") if entry else None

    @staticmethod
    def _main_dtype(site: NodeSite, entry: dict[str, Any]) -> str | None:
        """The dtype of the tensor the op's type list is about (input `type_input`, or output 0)."""
        index, node = entry.get("type_input", 0), site.node
        name = node.output[0] if index < 0 or index >= len(node.input) else node.input[index]
        kind = site.scope.types.get(name) if name else None
        return dtype_name(kind.tensor_type.elem_type) if kind is not None and kind.tensor_type.elem_type else None

    def _source(self, entry: dict[str, Any]) -> str:
        return entry.get("source", self.data["default_source"])

    def _types(self, site: NodeSite, entry: dict[str, Any], dtype: str | None) -> str | None:
        types = {name: site.scope.types.get(name) for name in (*site.node.input, *site.node.output) if name}
        for name, kind in types.items():
            if kind is not None and kind.WhichOneof("value") not in (None, "tensor_type"):
                return f"{name!r} is a {kind.WhichOneof('value').removesuffix('_type')}: TensorRT has tensors only"
            if kind is not None and kind.tensor_type.elem_type:
                tensor_dtype = dtype_name(kind.tensor_type.elem_type)
                if tensor_dtype not in self.tensor_types:
                    source = self.data["tensor_types"]["source"]
                    return f"TensorRT has no {tensor_dtype} tensors ({name!r}) (source: {source})"
        allowed = entry.get("types")
        allowed = self.data["type_sets"].get(allowed, allowed) if isinstance(allowed, str) else allowed
        cast_down = dtype == "float64" and allowed and "float32" in allowed  # float64 is cast down on import
        if dtype and allowed and dtype not in allowed and not cast_down:
            supported = ", ".join(allowed)
            source = self._source(entry)
            return f"{site.node.op_type} does not support {dtype} (supported: {supported}) (source: {source})"
        return None

    def _judge_function(self, function: onnx.FunctionProto, site: NodeSite) -> str | None:
        """A local function imports when every body node does (types inside are unknown)."""
        for index, inner in enumerate(function.node):
            inner_site = NodeSite(f"{site.path}/{inner.name or index}", inner, site.scope, None, site.opset)
            reason = self.judge(inner_site)
            if reason:
                return f"in function {function.name} node {inner.name or inner.op_type!r}: {reason}"
        return None


def _attribute(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    attr = next((a for a in node.attribute if a.name == name), None)
    value = helper.get_attribute_value(attr) if attr is not None else default
    return value.decode() if isinstance(value, bytes) else value


def _when_attribute(condition: dict[str, Any], node: onnx.NodeProto) -> bool:
    """A condition with `when_attribute`/`when_value` applies only to nodes with that value."""
    if "when_attribute" not in condition:
        return True
    return _attribute(node, condition["when_attribute"], condition.get("when_default")) == condition["when_value"]


def _same_shapes(site: NodeSite, indices: list[int]) -> bool:
    """Whether the inputs at `indices` have one shape (true when a shape is not fully known)."""
    shapes = [_static_dims(site, index) for index in indices]
    if any(dims is None or None in dims for dims in shapes):
        return True
    return all(dims == shapes[0] for dims in shapes)


_ABSENT = object()  # a non-constant input (an absent one reads as None)


def _constant_scalar(site: NodeSite, index: int) -> Any:
    """The one value of constant input `index`: None when the input is absent, _ABSENT when it is
    not a constant (TensorRT needs the value at import)."""
    name = site.node.input[index] if index < len(site.node.input) else ""
    if not name:
        return None
    tensor = site.scope.constants.get(name)
    if tensor is None:
        return _ABSENT
    values = numpy_helper.to_array(tensor).reshape(-1)
    return values[0].item() if values.size == 1 else _ABSENT


def _dft_length(site: NodeSite) -> int | None:
    """A DFT node's transform length: its constant dft_length, else the static size of its axis
    (attribute, constant input 2, default -2); None when unknown before run time."""
    length = _constant_scalar(site, 1)
    if length is not None:
        return None if length is _ABSENT else int(length)
    axis = _constant_scalar(site, 2)
    axis = _attribute(site.node, "axis", -2) if axis is None else axis
    dims = _static_dims(site, 0)
    if axis is _ABSENT or dims is None or not -len(dims) <= axis < len(dims):
        return None
    return dims[axis]


def _dft_is_power_of_two(site: NodeSite) -> bool:
    length = _dft_length(site)
    return length is None or (length > 0 and length & (length - 1) == 0)


def _static_dims(site: NodeSite, index: int) -> list[int | None] | None:
    """Input `index`'s dims (None where symbolic), or None when its shape is unknown."""
    node = site.node
    kind = site.scope.types.get(node.input[index]) if index < len(node.input) and node.input[index] else None
    if kind is None or not kind.tensor_type.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else None for d in kind.tensor_type.shape.dim]


def _cache_batch_fits(site: NodeSite) -> bool:
    """ai.onnx RotaryEmbedding without position_ids: per-token caches [batch, S, rot / 2] whose batch
    is X's. torch.onnx's dynamo export of transformers' Llama passes [1, S, rot / 2] for a dynamic
    batch, which the importer refuses ("cosCache has batch size 1 but must have the same batch
    size as input")."""
    node = site.node
    if len(node.input) > 3 and node.input[3]:
        return True
    x, cos = _static_dims(site, 0), _static_dims(site, 1)
    if x is None or cos is None or len(cos) != 3 or not x:
        return True
    return not (cos[0] == 1 and x[0] != 1)


def _squeeze_axes_known(site: NodeSite) -> bool:
    """Squeeze's axes, as importers before TensorRT 11.5 need them: the attribute (opset < 13) or
    input 1, else input 0's dims all static, from which the importer finds the size-1 dims itself
    (a dynamic shape fails: "Cannot infer squeeze dimensions from a dynamic shape"). Without shape
    information the dims are dynamic as far as can be told."""
    node = site.node
    if _attribute(node, "axes") is not None or (len(node.input) > 1 and node.input[1]):
        return True
    dims = _static_dims(site, 0)
    return dims is not None and None not in dims


# Conditions that are one named property of the node
_PREDICATES = {
    "per_token_cache_batch": _cache_batch_fits,
    "dft_power_of_two": _dft_is_power_of_two,
    "squeeze_axes_known": _squeeze_axes_known,
}


def _holds(condition: dict[str, Any], site: NodeSite) -> bool:
    node = site.node
    if "attribute" in condition:
        attr = next((a for a in node.attribute if a.name == condition["attribute"]), None)
        if condition.get("absent"):
            return attr is None
        value = helper.get_attribute_value(attr) if attr is not None else condition.get("default")
        value = value.decode() if isinstance(value, bytes) else value
        if condition.get("all_ones"):
            return value is None or all(v == 1 for v in value)
        return value is None or value in condition["allowed"]
    if "input" in condition:
        index = condition["input"]
        name = node.input[index] if index < len(node.input) else ""
        return not name or name in site.scope.constants
    if "same_shape" in condition:
        return _same_shapes(site, condition["same_shape"])
    if "absent_input" in condition or "present_input" in condition:
        index = condition.get("absent_input", condition.get("present_input"))
        given = index < len(node.input) and bool(node.input[index])
        return given == ("present_input" in condition)
    if "input_type" in condition:
        index = condition["input_type"]
        kind = site.scope.types.get(node.input[index]) if index < len(node.input) and node.input[index] else None
        if kind is None or not kind.tensor_type.elem_type:
            return True
        return dtype_name(kind.tensor_type.elem_type) in condition["types"]
    if "input_value" in condition:
        value = _constant_scalar(site, condition["input_value"])
        value = condition.get("default") if value is None else value
        return value is None or (value is not _ABSENT and value in condition["allowed"])
    if "input_last_dim" in condition:
        dims = _static_dims(site, condition["input_last_dim"])
        return not dims or dims[-1] is None or dims[-1] in condition["allowed"]
    for key, predicate in _PREDICATES.items():
        if key in condition:
            return predicate(site)
    if "input_rank" in condition:
        dims = _static_dims(site, 0)
        return dims is None or len(dims) in condition["input_rank"]
    used = max((i + 1 for i, name in enumerate(node.output) if name), default=0)
    return used <= condition["max_outputs"]


def run_static_check(
    model: onnx.ModelProto, path: Path, version: str, report: CheckReport
) -> list[tuple[NodeSite, str | None, str | None]]:
    """Every node with the reason the data gives for rejecting it (None: imports) and the
    plugin-library plugin its import needs (None: none)."""
    inferred = infer_types(model, report.notes)
    judge = StaticJudge(version, ModelContext.of(inferred, path.resolve().parent))
    return [(site, judge.judge(site), judge.plugin_library(site)) for site in walk(inferred)]
