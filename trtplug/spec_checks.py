"""Cross-field checks of a loaded op spec (trtplug/spec.py): shape rules, tolerances, optional
outputs and size tensors, input roles. Each raises SpecError naming the spec file and field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtplug.onnx_common import dtype_name
from trtplug.shape_rules import check_rule, is_value_dependent

if TYPE_CHECKING:
    from trtplug.spec import OpSpec


def check_spec(top: Any, spec: OpSpec) -> None:
    """All cross-field checks; `top` is the spec file's top-level reader (for error locations)."""
    _check_shape_rules(top, spec)
    _check_tolerances(top, spec)
    _check_optional_outputs(top, spec)
    _check_input_roles(top, spec)
    _check_variadic(top, spec)
    _check_value_rules(top, spec)
    _check_dtype_attrs(top, spec)


def _check_shape_rules(top: Any, spec: OpSpec) -> None:
    names = [t.name for t in spec.inputs]
    for group, tensors in (("inputs", spec.inputs), ("outputs", spec.outputs)):
        for i, tensor in enumerate(tensors):
            if tensor.shape is not None:
                problem = check_rule(tensor.shape, names)
                if problem:
                    raise top.fail(f"{group}[{i}].shape", problem)
            elif group == "outputs":
                raise top.fail(f"{group}[{i}].shape", "missing required field")


def _check_tolerances(top: Any, spec: OpSpec) -> None:
    for dtype in spec.dtypes:
        if dtype.startswith(("float", "bfloat")) and dtype not in spec.tolerances:
            raise top.fail("tolerances", f"no tolerance for dtype {dtype!r}")


def _check_optional_outputs(top: Any, spec: OpSpec) -> None:
    if spec.outputs[0].optional:
        raise top.fail("outputs[0].optional", "the first output cannot be optional")
    if spec.size_tensors and spec.derived_attribute("output_count") is not None:
        raise top.fail("size_tensors", "size tensors follow every output: no output_count attribute with them")
    if spec.size_tensors and not any(is_value_dependent(t.shape) for t in spec.outputs):
        raise top.fail("size_tensors", 'size tensors need an output with a value-dependent ("dynamic:") shape')


def _check_input_roles(top: Any, spec: OpSpec) -> None:
    """shape_input inputs are int32/int64 tensors; fold_into names a settable attribute; only_with
    names attributes, on optional inputs."""
    by_name = {a.name: a for a in spec.attributes}
    for i, tensor in enumerate(spec.inputs):
        if tensor.shape_input and not set(spec.dtypes_of(tensor)) <= {"int32", "int64"}:
            raise top.fail(f"inputs[{i}].shape_input", "a shape input must be int32 or int64")
        if tensor.data_copy and (not tensor.shape_input or tensor.optional):
            raise top.fail(f"inputs[{i}].data_copy", "only a required shape input can have a data copy")
        if tensor.fold_into is None:
            continue
        attr = by_name.get(tensor.fold_into)
        if attr is None or attr.derived is not None:
            raise top.fail(f"inputs[{i}].fold_into", f"{tensor.fold_into!r} is not a (non-derived) attribute")
        if tensor.shape_input:
            raise top.fail(f"inputs[{i}].fold_into", "a folded input cannot also be a shape input")
        if i == 0:
            raise top.fail(f"inputs[{i}].fold_into", "the first input cannot be folded")
    for i, tensor in enumerate(spec.inputs):
        unknown = [name for name, _ in tensor.only_with if name not in by_name]
        if tensor.only_with and not tensor.optional:
            raise top.fail(f"inputs[{i}].only_with", "applies to an optional input only")
        if unknown:
            raise top.fail(f"inputs[{i}].only_with", f"{unknown[0]!r} is not an attribute")
    for i, tensor in enumerate(spec.outputs):
        if tensor.shape_input or tensor.fold_into or tensor.data_copy or tensor.only_with:
            raise top.fail(f"outputs[{i}]", "shape_input, fold_into, data_copy and only_with apply to inputs only")
    folded = [t.fold_into for t in spec.inputs if t.fold_into]
    if len(folded) != len(set(folded)):
        raise top.fail("inputs", "two inputs fold into the same attribute")


def _check_variadic(top: Any, spec: OpSpec) -> None:
    """Only the last input is variadic (as in ONNX); it is a required device tensor, and no input
    before it is optional (the plugin finds the variadic tensors by position)."""
    last = len(spec.inputs) - 1
    for group, tensors in (("inputs", spec.inputs), ("outputs", spec.outputs)):
        for i, tensor in enumerate(tensors):
            if tensor.variadic and (group == "outputs" or i != last):
                raise top.fail(f"{group}[{i}].variadic", "only the last input can be variadic")
    tensor = spec.inputs[last]
    if not tensor.variadic:
        return
    where = f"inputs[{last}]"
    if tensor.min_count < 1:
        raise top.fail(f"{where}.min_count", f"at least 1, got {tensor.min_count}")
    if tensor.optional or tensor.shape_input or tensor.fold_into or tensor.data_copy:
        raise top.fail(f"{where}.variadic", "a variadic input cannot be optional, a shape input or folded")
    if any(t.optional for t in spec.inputs[:last]):
        raise top.fail(f"{where}.variadic", "no input before a variadic input can be optional")
    if spec.data_copies:
        raise top.fail(f"{where}.variadic", "a variadic op cannot have data_copy inputs")


_ELEMENT_TYPE = {"int": int, "ints": int, "float": float, "floats": float, "string": str}


def _check_value_rules(top: Any, spec: OpSpec) -> None:
    """choices/bounds/lengths/axis_of fit the attribute's type, and the default obeys them."""
    from trtplug.attr_rules import value_problem

    inputs = {t.name for t in spec.inputs}
    for i, attr in enumerate(spec.attributes):
        where = f"attributes[{i}]"
        element = _ELEMENT_TYPE[attr.type]
        if attr.choices is not None:
            if attr.type in ("float", "floats"):
                raise top.fail(f"{where}.choices", "choices apply to int, ints and string attributes")
            if not attr.choices or not all(type(c) is element for c in attr.choices):
                raise top.fail(f"{where}.choices", f"expected a non-empty list of {element.__name__}")
        if element is str and (attr.min is not None or attr.max is not None):
            raise top.fail(f"{where}.min", "bounds apply to numeric attributes")
        if (attr.min_length is not None or attr.max_length is not None) and attr.type not in ("ints", "floats"):
            raise top.fail(f"{where}.min_length", "lengths apply to ints and floats attributes")
        if attr.axis_of is not None and (attr.type not in ("int", "ints") or attr.axis_of not in inputs):
            raise top.fail(f"{where}.axis_of", "an int or ints attribute naming one of the op's inputs")
        lists = {a.name for a in spec.attributes if a.type in ("ints", "floats") and a.name != attr.name}
        if attr.length_of is not None and (attr.type not in ("ints", "floats") or attr.length_of not in lists):
            raise top.fail(f"{where}.length_of", "a list attribute naming another list attribute of the op")
        if attr.length_factor < 1:
            raise top.fail(f"{where}.length_factor", "at least 1")
        _check_when_set(top, spec, where, attr, inputs)
        if attr.default is not None and not (attr.default_means_absent or attr.derived):
            problem = value_problem(attr, attr.default)
            if problem:
                raise top.fail(f"{where}.default", f"the default breaks the spec's own rule: {problem}")


def _check_when_set(top: Any, spec: OpSpec, where: str, attr: Any, inputs: set[str]) -> None:
    """when_set_needs/excludes name optional inputs; when_set_min names int attributes, with ints."""
    optional = {t.name for t in spec.inputs if t.optional}
    for key in ("when_set_needs", "when_set_excludes"):
        for name in getattr(attr, key):
            if name not in optional:
                raise top.fail(f"{where}.{key}", f"{name!r} is not an optional input of the op")
    ints = {a.name for a in spec.attributes if a.type == "int" and a.name != attr.name}
    for name, minimum in attr.when_set_min.items():
        if name not in ints or type(minimum) is not int:
            raise top.fail(f"{where}.when_set_min", f"{name!r} must name another int attribute, with an int minimum")


def _check_dtype_attrs(top: Any, spec: OpSpec) -> None:
    """An output's dtype_attr names an int attribute whose every allowed value (its `choices`) is
    an element type of the output's type constraint."""
    attrs = {a.name: a for a in spec.attributes}
    for i, tensor in enumerate(spec.outputs):
        if tensor.dtype_attr is None:
            continue
        attr = attrs.get(tensor.dtype_attr)
        if attr is None or attr.type != "int" or attr.choices is None:
            raise top.fail(f"outputs[{i}].dtype_attr", f"{tensor.dtype_attr!r} must be an int attribute with choices")
        allowed = spec.dtypes_of(tensor)
        for value in (*attr.choices, attr.default):
            if dtype_name(int(value)) not in allowed:
                raise top.fail(
                    f"outputs[{i}].dtype_attr",
                    f"{tensor.dtype_attr} = {value} is {dtype_name(int(value))}, not one of {', '.join(allowed)}",
                )
