"""The op spec: one TOML file per op (plugins/<op>/spec.toml), the single source of truth.

Rewrite mapping, shape inference of plugin nodes, parity cases and scaffolding derive from it.
Format (see plugins/unique/spec.toml; an op family: plugins/gelu_family/spec.toml):

    [plugin]            name, version, namespace, summary
    [[replaces]]        domain, op_type, since_version, until_version (optional)
    [type_constraints]  T = ["float32", "float16"]
    [[attributes]]      name, type (int|ints|float|floats|string), default, required,
                        min, max (inclusive bounds; on ints/floats they bound every element),
                        choices (the allowed values: ints or strings; per element on ints),
                        min_length, max_length (element count of an ints/floats attribute),
                        axis_of (an int attribute, or every element of an ints one, is an axis of
                        this input: -rank <= v < rank),
                        length_of, length_factor (a list with length_factor elements per element
                        of another list attribute, or none: MaxPool's pads, two per kernel axis),
                        derived ("output_count": not an ONNX attribute; the rewrite sets it to
                        the number of outputs the node uses, so a plugin skips unused ones),
                        default_means_absent (the default is a sentinel for "the ONNX node has no
                        such attribute", e.g. Compress axis = -2147483648: flattened),
                        when_set_needs, when_set_excludes (inputs that must be present / absent,
                        and when_set_min { attribute = minimum } bounds of other int attributes,
                        while this one is not its default: GroupQueryAttention's windowed cache)
    [[inputs]]          name, type (constraint or dtype), optional, min_rank, shape (rule),
                        shape_input (the plugin reads it as a shape tensor: the rewrite lists it
                        in tensorrt_plugin_shape_input_indices), fold_into (a constant input the
                        plugin takes as this attribute: the rewrite folds its value in and drops it),
                        data_copy (a shape input the plugin also receives as a regular device tensor,
                        appended after the other plugin inputs, in spec order: its values then reach
                        enqueue, which shape inputs never do), variadic (the last input only: it takes
                        min_count (default 1) or more tensors, trtplug/variadic.py), only_with
                        { attribute = value } (an optional input the op takes only with these
                        attribute values, e.g. QMoE's MXFP4 global scales: parity cases leave it
                        out elsewhere)
    [[outputs]]         name, type, optional, shape (rule), dtype_attr (an int attribute holding the
                        output's ONNX element type, as MelWeightMatrix's output_datatype: it, not an
                        input, binds the output's dtype); an optional output without an
                        output_count attribute is still produced (the rewrite names it if unused)
    [[size_tensors]]    name: a 0-D int32 plugin output, after the outputs, holding the extent of a
                        data-dependent ("dynamic:") output dim (IExprBuilder::declareSizeTensor);
                        not an ONNX output: the rewrite gives it a fresh name
    [tolerances.<dtype>] atol, rtol
    [reference]         kind (onnxruntime|onnx-reference|numpy: plugins/<op>/reference.py)
    [parity]            optional case hints (trtplug/case_hints.py): case shapes, integer value ranges
    [[members]]         an op family: several ops in one folder (trtplug/spec_family.py)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtplug.case_hints import ParityHints, read_parity_hints
from trtplug.errors import SpecError
from trtplug.onnx_common import dtype_name, is_standard_domain, qualified_op
from trtplug.spec_checks import check_spec
from trtplug.spec_family import MEMBER_TABLES, SHARED_TABLES, family_members, is_family

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DTYPES = ("float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool")
ATTRIBUTE_TYPES = ("int", "ints", "float", "floats", "string")
DERIVED_ATTRIBUTES = ("output_count",)
REFERENCE_KINDS = ("onnxruntime", "onnx-reference", "numpy")
_ATTR_PY_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "ints": (list,),
    "float": (int, float),
    "floats": (list,),
    "string": (str,),
}


@dataclass(frozen=True)
class PluginId:
    name: str
    version: str
    namespace: str


@dataclass(frozen=True)
class ReplacedOp:
    domain: str
    op_type: str
    since_version: int
    until_version: int | None = None

    def covers(self, domain: str, op_type: str, opset: int) -> bool:
        upper = self.until_version if self.until_version is not None else sys.maxsize
        return (is_standard_domain(domain) if is_standard_domain(self.domain) else domain == self.domain) and (
            op_type == self.op_type and self.since_version <= opset <= upper
        )

    def __str__(self) -> str:
        until = f"-{self.until_version}" if self.until_version is not None else "+"
        return f"{qualified_op(self.domain, self.op_type)} (opset {self.since_version}{until})"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    default: Any = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    derived: str | None = None  # set by the rewrite, not read from the ONNX node
    default_means_absent: bool = False  # the default stands for an absent ONNX attribute
    choices: tuple[Any, ...] | None = None  # allowed values (per element for ints)
    min_length: int | None = None  # element count bounds of a list attribute
    max_length: int | None = None
    axis_of: str | None = None  # input this int attribute (each element of ints) is an axis of
    # List attribute with length_factor elements per element of another list attribute (or none:
    # the defaults), e.g. MaxPool's pads: two per kernel_shape axis.
    length_of: str | None = None
    length_factor: int = 1
    # While the attribute is not its default: inputs that must be present / absent, and minimums
    # of other int attributes (rules the rewrite checks: trtplug/attr_rules.when_set_problems).
    when_set_needs: tuple[str, ...] = ()
    when_set_excludes: tuple[str, ...] = ()
    when_set_min: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorSpec:
    name: str
    type: str
    optional: bool = False
    min_rank: int = 0
    shape: str | None = None
    shape_input: bool = False  # marked in tensorrt_plugin_shape_input_indices by the rewrite
    fold_into: str | None = None  # attribute receiving this input's constant value
    data_copy: bool = False  # a shape input passed again as a device tensor after the plugin inputs
    variadic: bool = False  # the last input, taking min_count or more tensors (Concat's inputs)
    min_count: int = 1
    dtype_attr: str | None = None  # an output whose dtype an int attribute names (ONNX element type)
    only_with: tuple[tuple[str, Any], ...] = ()  # (attribute, value) pairs this optional input needs


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


@dataclass(frozen=True, eq=False)  # identity hashing: specs are loaded once per registry
class OpSpec:
    key: str
    path: Path
    plugin: PluginId
    summary: str
    replaces: tuple[ReplacedOp, ...]
    type_constraints: dict[str, tuple[str, ...]]
    attributes: tuple[Attribute, ...]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    tolerances: dict[str, Tolerance]
    reference: str
    extra: dict[str, Any] = field(default_factory=dict)
    parity: ParityHints | None = None
    size_tensors: tuple[TensorSpec, ...] = ()
    folder: str = ""  #: plugins/<folder>/ holds the op's files (an op family shares one)

    def dtypes_of(self, tensor: TensorSpec) -> tuple[str, ...]:
        return self.type_constraints.get(tensor.type, (tensor.type,))

    @property
    def dtypes(self) -> tuple[str, ...]:
        """Dtypes the op runs in: those of its first floating-point input (else its first input);
        integer index inputs such as EmbedLayerNormalization's input_ids do not count."""
        floating = [t for t in self.inputs if any(d.startswith(("float", "bfloat")) for d in self.dtypes_of(t))]
        return self.dtypes_of((floating or self.inputs)[0])

    def tolerance(self, dtype: str) -> Tolerance:
        return self.tolerances[dtype]

    def output_dtype(self, tensor: TensorSpec, attrs: Mapping[str, Any], bound: Mapping[str, str]) -> str:
        """An output's dtype: the element type its dtype_attr holds (the attribute's default when
        `attrs` lacks it), else that of the input binding its type constraint (`bound`: constraint
        -> dtype), else the first bound dtype the unbound constraint allows (GroupQueryAttention's
        T_CACHE without past inputs: T's), else the type as written (a dtype, or the name)."""
        if tensor.dtype_attr is not None:
            return dtype_name(self.output_elem_type(tensor, attrs))
        if tensor.type in bound:
            return bound[tensor.type]
        return self.unbound_dtype(tensor.type, bound) or tensor.type

    def unbound_dtype(self, constraint: str, bound: Mapping[str, str]) -> str | None:
        """The dtype a type constraint no present input binds takes: the first bound dtype it allows
        (None when it allows none). An absent input's empty stand-in takes it too, so that the
        plugin types the outputs of that constraint as the rewrite declared them."""
        allowed = self.type_constraints.get(constraint, ())
        return next((d for d in bound.values() if d in allowed), None)

    def output_elem_type(self, tensor: TensorSpec, attrs: Mapping[str, Any]) -> int:
        """The ONNX element type a dtype_attr output's attribute holds (its default when absent)."""
        default = next(a.default for a in self.attributes if a.name == tensor.dtype_attr)
        return int(attrs.get(tensor.dtype_attr, default))

    @property
    def onnx_attributes(self) -> tuple[Attribute, ...]:
        """Attributes read from the replaced ONNX node (derived ones excluded)."""
        return tuple(a for a in self.attributes if a.derived is None)

    def unused_required_output(self, node_outputs: list[str]) -> str | None:
        """The required output a node leaves unused, when the plugin exists for it (a one-output
        MaxPool is TensorRT's; TrtplugMaxPoolWithIndices is for nodes that use Indices)."""
        used = list(node_outputs)
        while used and not used[-1]:
            used.pop()
        required = [t for t in self.outputs if not t.optional]
        if len(self.outputs) < 2 or len(used) >= len(required):
            return None
        return next(t.name for i, t in enumerate(self.outputs) if not t.optional and i >= len(used))

    def derived_attribute(self, kind: str) -> Attribute | None:
        return next((a for a in self.attributes if a.derived == kind), None)

    @property
    def plugin_outputs(self) -> tuple[TensorSpec, ...]:
        """The outputs the plugin produces, in order: the op's, then its size tensors."""
        return self.outputs + self.size_tensors

    @property
    def plugin_inputs(self) -> tuple[TensorSpec, ...]:
        """The inputs the plugin receives, in order: folded inputs become attributes instead."""
        return tuple(t for t in self.inputs if t.fold_into is None)

    @property
    def data_copies(self) -> tuple[TensorSpec, ...]:
        """Shape inputs the plugin also receives as device tensors, appended after plugin_inputs."""
        return tuple(t for t in self.inputs if t.data_copy)


class _Reader:
    """Typed access to one TOML table; every error names the spec file and field path."""

    def __init__(self, path: Path, table: dict[str, Any], where: str) -> None:
        self.path, self.table, self.where = path, table, where

    def fail(self, key: str, problem: str) -> SpecError:
        return SpecError(self.path, f"{self.where}{key}", problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., choices: Any = None) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing required field")
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(key, f"expected {names}, got {type(value).__name__} {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"unknown value {value!r} (expected one of {', '.join(map(str, choices))})")
        return value

    def sub(self, key: str, default: Any = ...) -> _Reader:
        return _Reader(self.path, self.get(key, dict, default), f"{self.where}{key}.")

    def items(self, key: str, default: Any = ...) -> list[_Reader]:
        entries = self.get(key, list, default)
        readers = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self.fail(f"{key}[{i}]", "expected a table")
            readers.append(_Reader(self.path, entry, f"{self.where}{key}[{i}]."))
        return readers

    def reject_unknown(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown field (allowed: {', '.join(sorted(allowed))})")


def load_specs(path: Path) -> tuple[OpSpec, ...]:
    """Parse and validate plugins/<folder>/spec.toml: one op keyed by the folder name, or an op
    family (trtplug/spec_family.py) whose members are keyed by their `key`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "<file>", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "<toml>", str(exc)) from None
    if not is_family(data):
        return (_parse_spec(path, data, path.parent.name, ""),)
    return tuple(_parse_spec(path, tables, key, where) for key, tables, where in family_members(path, data))


def load_spec(path: Path) -> OpSpec:
    """The one op of a single-op spec (a family spec: load_specs)."""
    specs = load_specs(path)
    if len(specs) != 1:
        keys = ", ".join(s.key for s in specs)
        raise SpecError(path, "members", f"declares {len(specs)} ops ({keys}); use load_specs")
    return specs[0]


def _parse_spec(path: Path, data: dict[str, Any], key: str, where: str) -> OpSpec:
    top = _Reader(path, data, where)
    top.reject_unknown(SHARED_TABLES | MEMBER_TABLES)
    constraints = _read_constraints(top)
    inputs = tuple(_read_tensor(r, constraints) for r in top.items("inputs"))
    outputs = tuple(_read_tensor(r, constraints) for r in top.items("outputs"))
    if not inputs or not outputs:
        raise top.fail("inputs" if not inputs else "outputs", "at least one entry required")
    size_tensors = tuple(_read_size_tensor(r) for r in top.items("size_tensors", []))
    _check_unique(top, "inputs", [t.name for t in inputs + outputs + size_tensors])
    attributes = tuple(_read_attribute(r) for r in top.items("attributes", []))
    _check_unique(top, "attributes", [a.name for a in attributes])
    spec = OpSpec(
        key=key,
        path=path,
        folder=path.parent.name,
        plugin=_read_plugin(top.sub("plugin")),
        summary=top.sub("plugin").get("summary", str, ""),
        replaces=tuple(_read_replaced(r) for r in top.items("replaces")),
        type_constraints=constraints,
        attributes=attributes,
        inputs=inputs,
        outputs=outputs,
        tolerances=_read_tolerances(top),
        reference=top.sub("reference").get("kind", str, choices=REFERENCE_KINDS),
        extra=top.get("extra", dict, {}),
        parity=read_parity_hints(top, inputs, [a.name for a in attributes]),
        size_tensors=size_tensors,
    )
    check_spec(top, spec)
    return spec


def _read_plugin(r: _Reader) -> PluginId:
    r.reject_unknown({"name", "version", "namespace", "summary"})
    name = r.get("name", str)
    if not name.isidentifier():
        raise r.fail("name", f"{name!r} is not an identifier")
    return PluginId(name, r.get("version", str), r.get("namespace", str))


def _read_replaced(r: _Reader) -> ReplacedOp:
    r.reject_unknown({"domain", "op_type", "since_version", "until_version"})
    return ReplacedOp(
        domain=r.get("domain", str),
        op_type=r.get("op_type", str),
        since_version=r.get("since_version", int),
        until_version=r.get("until_version", int, None),
    )


def _read_constraints(top: _Reader) -> dict[str, tuple[str, ...]]:
    r = top.sub("type_constraints", {})
    constraints = {}
    for name in r.table:
        dtypes = r.get(name, list)
        for dt in dtypes:
            if dt not in DTYPES:
                raise r.fail(name, f"unknown dtype {dt!r} (known: {', '.join(DTYPES)})")
        constraints[name] = tuple(dtypes)
    return constraints


def _read_tensor(r: _Reader, constraints: dict[str, tuple[str, ...]]) -> TensorSpec:
    r.reject_unknown(
        {"name", "type", "optional", "min_rank", "shape", "shape_input", "fold_into", "data_copy"}
        | {"variadic", "min_count", "dtype_attr", "only_with"}
    )
    kind = r.get("type", str)
    if kind not in constraints and kind not in DTYPES:
        raise r.fail("type", f"unknown dtype or type constraint {kind!r}")
    if "min_count" in r.table and not r.get("variadic", bool, False):
        raise r.fail("min_count", "applies to a variadic input only (variadic = true)")
    return TensorSpec(
        name=r.get("name", str),
        type=kind,
        optional=r.get("optional", bool, False),
        min_rank=r.get("min_rank", int, 0),
        shape=r.get("shape", str, None),
        shape_input=r.get("shape_input", bool, False),
        fold_into=r.get("fold_into", str, None),
        data_copy=r.get("data_copy", bool, False),
        variadic=r.get("variadic", bool, False),
        min_count=r.get("min_count", int, 1),
        dtype_attr=r.get("dtype_attr", str, None),
        only_with=tuple(r.get("only_with", dict, {}).items()),
    )


def _read_size_tensor(r: _Reader) -> TensorSpec:
    r.reject_unknown({"name"})
    return TensorSpec(name=r.get("name", str), type="int32", shape=None)  # 0-D


def _read_attribute(r: _Reader) -> Attribute:
    r.reject_unknown(
        {"name", "type", "default", "required", "min", "max", "derived", "default_means_absent"}
        | {"choices", "min_length", "max_length", "axis_of", "length_of", "length_factor"}
        | {"when_set_needs", "when_set_excludes", "when_set_min"}
    )
    kind = r.get("type", str, choices=ATTRIBUTE_TYPES)
    choices = r.get("choices", list, None)
    attr = Attribute(
        name=r.get("name", str),
        type=kind,
        default=r.get("default", _ATTR_PY_TYPES[kind], None),
        required=r.get("required", bool, False),
        min=r.get("min", (int, float), None),
        max=r.get("max", (int, float), None),
        derived=r.get("derived", str, None, choices=DERIVED_ATTRIBUTES),
        default_means_absent=r.get("default_means_absent", bool, False),
        choices=tuple(choices) if choices is not None else None,
        min_length=r.get("min_length", int, None),
        max_length=r.get("max_length", int, None),
        axis_of=r.get("axis_of", str, None),
        length_of=r.get("length_of", str, None),
        length_factor=r.get("length_factor", int, 1),
        when_set_needs=tuple(r.get("when_set_needs", list, [])),
        when_set_excludes=tuple(r.get("when_set_excludes", list, [])),
        when_set_min=dict(r.get("when_set_min", dict, {})),
    )
    if attr.derived == "output_count" and attr.type != "int":
        raise r.fail("type", "an output_count attribute must be an int")
    if attr.default is None and not attr.required:
        raise r.fail("default", "an optional attribute needs a default")
    return attr


def _read_tolerances(top: _Reader) -> dict[str, Tolerance]:
    r = top.sub("tolerances")
    tolerances = {}
    for dtype in r.table:
        if dtype not in DTYPES:
            raise r.fail(dtype, f"unknown dtype {dtype!r}")
        t = r.sub(dtype)
        t.reject_unknown({"atol", "rtol"})
        tolerances[dtype] = Tolerance(float(t.get("atol", (int, float))), float(t.get("rtol", (int, float))))
    return tolerances


def _check_unique(top: _Reader, key: str, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise top.fail(key, f"duplicate name {name!r}")
        seen.add(name)
