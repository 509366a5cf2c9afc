"""Plugin fields <-> the prototype's attributes: the spec's attributes, converted and checked by
the same code the rewrite uses (graph_rewrites.attributes, trtplug.attr_rules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from trtplug.errors import TrtplugError
from trtplug.spec import OpSpec

_NUMPY = {"int": np.int32, "ints": np.int32, "float": np.float32, "floats": np.float32}
_FIELD_TYPES = {"int": "INT32", "ints": "INT32", "float": "FLOAT32", "floats": "FLOAT32", "string": "CHAR"}


def field_array(kind: str, value: Any) -> np.ndarray:
    if kind == "string":
        return np.frombuffer(str(value).encode(), dtype=np.int8).copy()
    return np.atleast_1d(np.asarray(value, dtype=_NUMPY[kind]))


def field_collection(trt: Any, spec: OpSpec, attrs: dict[str, Any] | None) -> tuple[Any, list[np.ndarray]]:
    """The creator's field table (attrs None: names and types only) or a plugin's fields, and the
    arrays behind them: a PluginField does not keep its data alive, the caller must."""
    fields, arrays = [], []
    for attr in spec.attributes:
        if attrs is not None and attrs.get(attr.name) is None:
            continue  # a required attribute without a value: nothing to serialize
        kind = getattr(trt.PluginFieldType, _FIELD_TYPES[attr.type])
        data = field_array(attr.type, attrs[attr.name]) if attrs is not None else np.array([], dtype=np.int8)
        arrays.append(data)
        fields.append(trt.PluginField(attr.name, data, kind))
    return trt.PluginFieldCollection(fields), arrays


def attrs_from_fields(spec: OpSpec, fields: Any) -> dict[str, Any]:
    """Spec defaults overridden by the fields given; TrtplugError naming the field when a field is
    unknown, mistyped or breaks the spec's value rules."""
    from trtplug.attr_rules import spec_value_problems
    from trtplug.graph_rewrites.attributes import NotRewritable, convert

    known = {a.name: a for a in spec.attributes}
    attrs = {a.name: a.default for a in spec.attributes}
    for field in fields:
        attr = known.get(field.name)
        if attr is None:
            if field.name in ("plugin_version", "plugin_namespace"):
                continue
            raise TrtplugError(f"{spec.plugin.name}: unknown field {field.name!r}")
        data = np.asarray(field.data)
        # TensorRT's CHAR fields may carry the C string's terminating NUL: the text ends there.
        text = bytes(data.astype(np.int8).tobytes()).split(b"\0")[0].decode(errors="replace")
        value: Any = text if attr.type == "string" else data
        if attr.type in ("int", "float") and data.size == 1:
            value = data.reshape(-1)[0].item()
        elif attr.type in ("ints", "floats"):
            value = data.reshape(-1).tolist()
        try:
            attrs[attr.name] = convert(attr.name, attr.type, value)
        except NotRewritable as exc:
            raise TrtplugError(f"{spec.plugin.name}: {exc}") from None
    problems = spec_value_problems(spec, attrs)
    if problems:
        raise TrtplugError(f"{spec.plugin.name}: {problems[0]}")
    return attrs
