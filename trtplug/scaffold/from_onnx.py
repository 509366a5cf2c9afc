"""OpDescription from the ONNX schema registered with `onnx.defs` (ai.onnx, ai.onnx.ml, and
any domain a user registered with onnx), or ONNX Runtime's for its contrib ops (from_ort.py)."""

from __future__ import annotations

from typing import Any

from trtplug.errors import TrtplugError
from trtplug.onnx_common import qualified_op
from trtplug.scaffold.describe import ONNX_DTYPES, AttrDesc, OpDescription, TensorDesc
from trtplug.spec import DTYPES

# AttributeProto types a plugin field can carry (the ONNX parser's attribute mapping).
_ATTR_TYPES = {"INT": "int", "INTS": "ints", "FLOAT": "float", "FLOATS": "floats", "STRING": "string"}
# The schemas state enum values only in prose: the string enums whose values are stable across
# the opsets that have them, by attribute name (any op) or by (op_type, attribute name).
_ENUM_CHOICES: dict[str | tuple[str, str], tuple[str, ...]] = {
    "auto_pad": ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"),
    "nearest_mode": ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
    ("DepthToSpace", "mode"): ("DCR", "CRD"),
    ("GridSample", "padding_mode"): ("zeros", "border", "reflection"),
}

# Integer inputs of standard ops whose values shape an output (TopK's K, Expand's shape): the
# plugin takes them as shape inputs. Index inputs (Gather's indices) stay device tensors.
_SHAPE_INPUTS = frozenset(
    {"K", "shape", "repeats", "pads", "sizes", "starts", "ends", "axes", "steps", "split", "image_shape", "block_shape"}
)


def find_schema(domain: str, op_type: str, opset: int | None) -> Any | None:
    """The schema of domain::op_type in effect at `opset` (latest when None): onnx's, else ONNX
    Runtime's contrib schema (com.microsoft); None when neither has one."""
    import onnx.defs

    if not onnx.defs.has(op_type, domain):
        from trtplug.scaffold.from_ort import ort_schema

        return ort_schema(domain, op_type, opset)
    try:
        if opset is None:
            return onnx.defs.get_schema(op_type, domain=domain)
        return onnx.defs.get_schema(op_type, opset, domain=domain)
    except onnx.defs.SchemaError:
        raise TrtplugError(f"{qualified_op(domain, op_type)} has no schema at opset {opset}") from None


def from_schema(schema: Any) -> OpDescription:
    qualified = qualified_op(schema.domain, schema.name)
    if schema.deprecated:
        raise TrtplugError(f"{qualified} is deprecated at opset {schema.since_version}; pick another --opset")
    constraints = {
        c.type_param_str: tuple(d for d in DTYPES if d in {ONNX_DTYPES.get(t) for t in c.allowed_type_strs})
        for c in schema.type_constraints
    }
    return OpDescription(
        domain=schema.domain,
        op_type=schema.name,
        since_version=schema.since_version,
        inputs=tuple(_tensor(qualified, "input", p, constraints) for p in schema.inputs),
        outputs=tuple(_tensor(qualified, "output", p, constraints) for p in schema.outputs),
        attributes=tuple(_attribute(schema, schema.attributes[n]) for n in sorted(schema.attributes)),
        type_constraints=constraints,
        summary=_summary(schema.doc or ""),
        from_schema=True,
    )


def _tensor(qualified: str, what: str, param: Any, constraints: dict[str, tuple[str, ...]]) -> TensorDesc:
    import onnx.defs

    option = param.option
    variadic = option == onnx.defs.OpSchema.FormalParameterOption.Variadic
    if variadic and (what == "output" or not param.is_homogeneous):
        kind = "output" if what == "output" else "input of mixed types"
        raise TrtplugError(
            f"{qualified}: variadic {kind} {param.name!r} is not supported by the spec format yet; "
            "describe the op with a fixed number of tensors (--input, --output, --spec-file)"
        )
    kind = param.type_str
    dtypes = constraints.get(kind, (ONNX_DTYPES.get(kind),))
    if kind not in constraints:
        if kind not in ONNX_DTYPES:
            raise TrtplugError(f"{qualified}: {what} {param.name!r} has type {kind}, which trtplug cannot carry")
        kind = ONNX_DTYPES[kind]
    optional = option == onnx.defs.OpSchema.FormalParameterOption.Optional
    shape_like = what == "input" and param.name in _SHAPE_INPUTS and all(d in ("int32", "int64") for d in dtypes)
    return TensorDesc(param.name, kind, optional, shape_like, variadic=variadic, min_count=max(param.min_arity, 1))


def _attribute(schema: Any, attr: Any) -> AttrDesc:
    from onnx import helper

    qualified = qualified_op(schema.domain, schema.name)
    kind = _ATTR_TYPES.get(attr.type.name)
    if kind is None:
        raise TrtplugError(
            f"{qualified}: attribute {attr.name!r} is a {attr.type.name}, which a TensorRT plugin field cannot carry"
        )
    has_default = attr.default_value.type != 0  # AttributeProto.UNDEFINED
    default = helper.get_attribute_value(attr.default_value) if has_default else None
    if isinstance(default, bytes):
        default = default.decode()
    choices = _ENUM_CHOICES.get((schema.name, attr.name), _ENUM_CHOICES.get(attr.name))
    if kind != "string" or (default is not None and default not in (choices or ())):
        choices = None  # a value outside the table: the table does not describe this attribute
    return AttrDesc(attr.name, kind, default, required=attr.required, choices=choices)


def _summary(doc: str) -> str:
    """First sentence of the schema's doc string, on one line."""
    text = " ".join(doc.split())
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= 100 else ""
