"""ONNX attribute values -> plugin fields, by the rules of TensorRT's ONNX plugin importer.

The importer passes only the creator's fields: INT as kINT32 (int64 narrowed), INTS as
kINT32[n], FLOAT(S) as kFLOAT32, STRING as NUL-terminated kCHAR; it rejects TENSOR attributes
of INT64/BOOL/UINT* and GRAPH/TENSORS ones. So every value is converted here to what the
importer passes unchanged, or refused with a reason: never narrowed or truncated silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
FLOAT32_MAX = float(np.finfo(np.float32).max)
_ONNX_TYPES = {
    "int": AttributeProto.INT,
    "ints": AttributeProto.INTS,
    "float": AttributeProto.FLOAT,
    "floats": AttributeProto.FLOATS,
    "string": AttributeProto.STRING,
}
_UNREPRESENTABLE = {
    AttributeProto.GRAPH: "GRAPH",
    AttributeProto.GRAPHS: "GRAPHS",
    AttributeProto.TENSORS: "TENSORS",
    AttributeProto.SPARSE_TENSOR: "SPARSE_TENSOR",
    AttributeProto.SPARSE_TENSORS: "SPARSE_TENSORS",
    AttributeProto.TYPE_PROTO: "TYPE_PROTO",
    AttributeProto.TYPE_PROTOS: "TYPE_PROTOS",
    AttributeProto.STRINGS: "STRINGS",
}


class NotRewritable(Exception):
    """A node cannot become a plugin node; the message is the reason shown to the user."""


def raw_value(attr: AttributeProto, base_dir: str = "") -> Any:
    """The Python value of an ONNX attribute; TENSOR attributes become NumPy arrays."""
    if attr.type in _UNREPRESENTABLE:
        raise NotRewritable(
            f"attribute {attr.name!r} is a {_UNREPRESENTABLE[attr.type]}, which TensorRT's plugin importer rejects"
        )
    if attr.type == AttributeProto.TENSOR:
        return numpy_helper.to_array(attr.t, base_dir=base_dir)
    return helper.get_attribute_value(attr)


def convert(name: str, kind: str, value: Any) -> Any:
    """`value` (attribute value, array or default) as a field of spec type `kind`, or NotRewritable.
    Value rules (choices, bounds, lengths, axes) are checked afterwards by trtplug.attr_rules."""
    if isinstance(value, np.ndarray):
        value = _from_array(name, kind, value)
    if kind == "string":
        return _string(name, value)
    is_list = isinstance(value, (list, tuple))
    if is_list != (kind in ("ints", "floats")):
        raise NotRewritable(f"attribute {name!r}: a {kind} field cannot take {value!r}")
    items = list(value) if is_list else value
    scalars = items if isinstance(items, list) else [items]
    checked = [_int(name, v) if kind.startswith("int") else _float(name, v) for v in scalars]
    return checked if isinstance(items, list) else checked[0]


def make_field(name: str, kind: str, value: Any) -> AttributeProto:
    return helper.make_attribute(name, value, attr_type=_ONNX_TYPES[kind])


def _from_array(name: str, kind: str, array: np.ndarray) -> Any:
    if kind == "string":
        raise NotRewritable(f"attribute {name!r}: a tensor cannot become a string field")
    if array.dtype.kind not in "biuf":
        raise NotRewritable(f"attribute {name!r}: tensor of {array.dtype} cannot become a {kind} field")
    if kind in ("int", "float"):
        if array.size != 1:
            raise NotRewritable(f"attribute {name!r}: expected one value, got a tensor of shape {array.shape}")
        return array.reshape(-1)[0].item()
    return array.reshape(-1).tolist()


def _int(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise NotRewritable(f"attribute {name!r} = {value!r} is not an integer")
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise NotRewritable(f"attribute {name!r} = {value!r} is not an integer")
    if not INT32_MIN <= int(value) <= INT32_MAX:
        raise NotRewritable(f"attribute {name!r} = {value} does not fit in int32 (TensorRT passes INT as int32)")
    return int(value)


def _float(name: str, value: Any) -> float:
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise NotRewritable(f"attribute {name!r} = {value!r} is not a number")
    as_float = float(value)
    if np.isfinite(as_float) and abs(as_float) > FLOAT32_MAX:
        raise NotRewritable(f"attribute {name!r} = {value!r} overflows float32 (TensorRT passes FLOAT as float32)")
    return float(np.float32(as_float))


def _string(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise NotRewritable(f"attribute {name!r} is not valid UTF-8") from None
    if not isinstance(value, str):
        raise NotRewritable(f"attribute {name!r} = {value!r} is not a string")
    if "\0" in value:
        raise NotRewritable(f"attribute {name!r} contains a NUL byte; TensorRT would truncate it there")
    return value


def attribute_map(node: onnx.NodeProto) -> dict[str, AttributeProto]:
    return {a.name: a for a in node.attribute}
