"""What an op looks like before it has a spec: inputs, outputs, attributes, type constraints.

Three sources give the same description: the ONNX schema (`onnx.defs`, for ai.onnx and any
domain registered with onnx), command-line flags, and a small TOML file (see `from_file`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtplug.errors import TrtplugError
from trtplug.onnx_common import is_standard_domain, qualified_op
from trtplug.spec import ATTRIBUTE_TYPES, DTYPES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# Dtypes a scaffolded op runs in by default: the float types every launcher helper supports.
DEFAULT_DTYPES = ("float32", "float16", "bfloat16")
ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(bfloat16)": "bfloat16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}


@dataclass(frozen=True)
class TensorDesc:
    name: str
    type: str  # a type constraint name or a dtype
    optional: bool = False
    shape_input: bool = False  # the plugin reads its values as a shape tensor (TopK's K)
    data_dependent: bool = False  # an output whose extent depends on input values (NonZero's)
    variadic: bool = False  # the last input, taking min_count or more tensors (Concat's inputs)
    min_count: int = 1


@dataclass(frozen=True)
class AttrDesc:
    name: str
    type: str  # int | ints | float | floats | string
    default: Any = None  # None: required, or no default in the schema (see `required`)
    required: bool = False
    choices: tuple[Any, ...] | None = None  # the allowed values, when the source states them


@dataclass(frozen=True)
class OpDescription:
    domain: str
    op_type: str
    since_version: int
    inputs: tuple[TensorDesc, ...]
    outputs: tuple[TensorDesc, ...]
    attributes: tuple[AttrDesc, ...] = ()
    type_constraints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    summary: str = ""
    from_schema: bool = False

    @property
    def qualified(self) -> str:
        return qualified_op(self.domain, self.op_type)

    @property
    def is_standard(self) -> bool:
        return is_standard_domain(self.domain)

    def dtypes_of(self, tensor: TensorDesc) -> tuple[str, ...]:
        return self.type_constraints.get(tensor.type, (tensor.type,))


def parse_qualified(text: str) -> tuple[str, str]:
    """ai.onnx::Col2Im -> ("", "Col2Im"); com.microsoft::Gelu -> ("com.microsoft", "Gelu")."""
    domain, sep, op_type = text.rpartition("::")
    if not sep or not op_type.isidentifier() or not domain:
        raise TrtplugError(f"--from {text!r}: expected DOMAIN::OpType (e.g. ai.onnx::Col2Im, com.microsoft::Gelu)")
    return ("" if is_standard_domain(domain) else domain), op_type


def select_dtypes(desc: OpDescription, wanted: tuple[str, ...] | None) -> OpDescription:
    """Narrow the first input's type constraint to `wanted` (default: its float32/float16/bfloat16 types).

    Other constraints keep every dtype trtplug carries. Raises naming the tensor whose
    constraint leaves nothing trtplug can carry (e.g. a string-only input).
    """
    primary = desc.inputs[0].type
    constraints = dict(desc.type_constraints)
    if primary in constraints:
        allowed = constraints[primary]
        if wanted:
            refused = [d for d in wanted if d not in allowed]
            if refused:
                raise TrtplugError(
                    f"--dtype {','.join(refused)}: {desc.qualified} input {desc.inputs[0].name!r} allows only "
                    f"{', '.join(allowed) or 'types trtplug cannot carry'}"
                )
            constraints[primary] = tuple(wanted)
        else:
            constraints[primary] = tuple(d for d in allowed if d in DEFAULT_DTYPES) or allowed
    elif wanted and tuple(wanted) != (primary,):
        raise TrtplugError(f"--dtype: {desc.qualified} input {desc.inputs[0].name!r} is always {primary}")
    for tensor in (*desc.inputs, *desc.outputs):
        if tensor.type in constraints and not constraints[tensor.type]:
            raise TrtplugError(
                f"{desc.qualified}: {tensor.name!r} (type {tensor.type}) allows no type trtplug supports "
                f"({', '.join(DTYPES)})"
            )
    return OpDescription(**{**desc.__dict__, "type_constraints": constraints})


# ---- flags and the small spec file ---------------------------------------------------------------


def parse_tensor_flag(text: str, what: str) -> TensorDesc:
    """NAME[:TYPE][?]: TYPE a constraint name or dtype (default T); a trailing ? marks it optional."""
    optional = text.endswith("?")
    name, _, kind = text.rstrip("?").partition(":")
    if not name.isidentifier():
        raise TrtplugError(f"--{what} {text!r}: expected NAME[:TYPE][?] with an identifier NAME")
    return TensorDesc(name, kind or "T", optional)


def parse_attr_flag(text: str) -> AttrDesc:
    """NAME:TYPE[=DEFAULT], TYPE one of int, ints, float, floats, string; no default: required."""
    head, has_default, raw = text.partition("=")
    name, _, kind = head.partition(":")
    if not name.isidentifier() or kind not in ATTRIBUTE_TYPES:
        raise TrtplugError(f"--attr {text!r}: expected NAME:TYPE[=DEFAULT] with TYPE in {', '.join(ATTRIBUTE_TYPES)}")
    if not has_default:
        return AttrDesc(name, kind, None, required=True)
    return AttrDesc(name, kind, _parse_default(name, kind, raw))


def _parse_default(name: str, kind: str, raw: str) -> Any:
    try:
        if kind == "string":
            return raw
        items = [s for s in raw.split(",") if s.strip()]
        convert = int if kind.startswith("int") else float
        return convert(raw) if kind in ("int", "float") else [convert(s) for s in items]
    except ValueError:
        raise TrtplugError(f"--attr {name}: default {raw!r} is not a valid {kind}") from None


def parse_type_flag(text: str) -> tuple[str, tuple[str, ...]]:
    """NAME=DTYPE[,DTYPE...]: a type constraint."""
    name, _, dtypes = text.partition("=")
    listed = tuple(d for d in dtypes.split(",") if d)
    unknown = [d for d in listed if d not in DTYPES]
    if not name.isidentifier() or not listed or unknown:
        raise TrtplugError(f"--type {text!r}: expected NAME=DTYPE[,DTYPE...] with DTYPE in {', '.join(DTYPES)}")
    return name, listed


def from_flags(
    domain: str,
    op_type: str,
    inputs: list[str],
    outputs: list[str],
    attrs: list[str],
    types: list[str],
    since_version: int = 1,
) -> OpDescription:
    if not inputs or not outputs:
        raise TrtplugError(
            f"{qualified_op(domain, op_type)}: no ONNX schema; describe the op with --input and --output "
            "(and --attr, --type) or --spec-file FILE"
        )
    constraints = dict(parse_type_flag(t) for t in types)
    tensors = [parse_tensor_flag(t, "input") for t in inputs] + [parse_tensor_flag(t, "output") for t in outputs]
    if any(t.type == "T" for t in tensors):
        constraints.setdefault("T", DEFAULT_DTYPES)  # the default type; other constraints need --type
    return _checked(
        OpDescription(
            domain=domain,
            op_type=op_type,
            since_version=since_version,
            inputs=tuple(tensors[: len(inputs)]),
            outputs=tuple(tensors[len(inputs) :]),
            attributes=tuple(parse_attr_flag(a) for a in attrs),
            type_constraints=constraints,
        ),
        "flags",
    )


def from_file(path: Path) -> OpDescription:
    """A TOML op description: domain, op_type, since_version (default 1), summary, and the spec's
    [type_constraints], [[inputs]] / [[outputs]] (name, type, optional; inputs also shape_input,
    variadic and min_count, outputs data_dependent) and [[attributes]] (name, type, default or
    required, choices) tables."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TrtplugError(f"{path}: cannot read op description: {exc}") from None
    try:
        desc = OpDescription(
            domain=str(data.get("domain", "")),
            op_type=str(data["op_type"]),
            since_version=int(data.get("since_version", 1)),
            inputs=tuple(_file_tensor(t) for t in data["inputs"]),
            outputs=tuple(_file_tensor(t) for t in data["outputs"]),
            attributes=tuple(_file_attr(a) for a in data.get("attributes", [])),
            type_constraints={k: tuple(v) for k, v in data.get("type_constraints", {}).items()},
            summary=str(data.get("summary", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TrtplugError(f"{path}: invalid op description: missing or malformed {exc}") from None
    return _checked(desc, str(path))


def _file_tensor(table: dict[str, Any]) -> TensorDesc:
    flags = (bool(table.get(k)) for k in ("optional", "shape_input", "data_dependent", "variadic"))
    return TensorDesc(table["name"], table.get("type", "T"), *flags, min_count=int(table.get("min_count", 1)))


def _file_attr(table: dict[str, Any]) -> AttrDesc:
    if table["type"] not in ATTRIBUTE_TYPES:
        raise ValueError(f"attribute type {table['type']!r}")
    choices = tuple(table["choices"]) if "choices" in table else None
    required = bool(table.get("required", "default" not in table))
    return AttrDesc(table["name"], table["type"], table.get("default"), required, choices)


def _checked(desc: OpDescription, where: str) -> OpDescription:
    for tensor in (*desc.inputs, *desc.outputs):
        if tensor.type not in desc.type_constraints and tensor.type not in DTYPES:
            raise TrtplugError(f"{where}: {tensor.name!r} has type {tensor.type!r}, neither a dtype nor a --type")
    for name, dtypes in desc.type_constraints.items():
        unknown = [d for d in dtypes if d not in DTYPES]
        if unknown:
            raise TrtplugError(f"{where}: type {name}: unknown dtype {', '.join(unknown)} (known: {', '.join(DTYPES)})")
    if desc.outputs[0].optional or desc.inputs[0].optional:
        raise TrtplugError(f"{where}: the first input and the first output cannot be optional")
    variadic = [t.name for t in (*desc.inputs[:-1], *desc.outputs) if t.variadic]
    if variadic:
        raise TrtplugError(f"{where}: {variadic[0]!r}: only the last input can be variadic")
    return desc
