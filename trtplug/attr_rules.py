"""The value rules of a spec attribute (choices, bounds, lengths, axis ranges, lengths tied to
another attribute), stated once.

The rewrite refuses a node whose attribute breaks one (the node is left alone with the returned
reason); the C++ glue generated from the same spec (cmake/generate_op_glue.py) checks the same
rules again when TensorRT creates the plugin from its fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trtplug.spec import Attribute, OpSpec


def value_problem(attr: Attribute, value: Any, ranks: dict[str, int] | None = None) -> str | None:
    """Why `value` is not allowed for `attr` (None when it is). `ranks` maps input names to their
    ranks where known, for axis_of rules; an unknown rank skips that rule."""
    if attr.default_means_absent and value == attr.default:
        return None
    elements = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)):
        problem = _length_problem(attr, len(elements))
        if problem:
            return problem
    for i, element in enumerate(elements):
        where = f"element {i} ({element!r})" if isinstance(value, (list, tuple)) else repr(element)
        if attr.choices is not None and element not in attr.choices:
            return f"{where} is not one of {_listed(attr.choices)}"
        if attr.min is not None and element < attr.min:
            return f"{where} is below the minimum {_num(attr.min)}"
        if attr.max is not None and element > attr.max:
            return f"{where} is above the maximum {_num(attr.max)}"
    if attr.axis_of is not None and ranks is not None and attr.axis_of in ranks:
        return _axis_problem(attr.axis_of, ranks[attr.axis_of], elements, isinstance(value, (list, tuple)))
    return None


def _axis_problem(input_name: str, rank: int, axes: list[int], is_list: bool) -> str | None:
    for i, axis in enumerate(axes):
        if not -max(rank, 1) <= axis < max(rank, 1):
            where = f"element {i}: axis" if is_list else "axis"
            return f"{where} {axis} is out of range for {input_name!r} of rank {rank} ([-{rank}, {rank}))"
    return None


def spec_value_problems(spec: OpSpec, values: dict[str, Any], ranks: dict[str, int] | None = None) -> list[str]:
    """`attribute 'name': problem` for every attribute value in `values` that breaks its rule."""
    problems = []
    for attr in spec.attributes:
        if attr.name in values:
            problem = value_problem(attr, values[attr.name], ranks) or _length_of_problem(spec, attr, values)
            if problem:
                problems.append(f"attribute {attr.name!r}: {problem}")
    return problems


def when_set_problems(spec: OpSpec, values: dict[str, Any], present: set[str]) -> list[str]:
    """`attribute 'name' = v needs ...` for every attribute set away from its default whose
    when_set rules (inputs present or absent, other attributes' minimums) the node breaks."""
    problems = []
    for attr in spec.attributes:
        if attr.name not in values or values[attr.name] == attr.default:
            continue
        where = f"attribute {attr.name!r} = {values[attr.name]!r}"
        missing = [n for n in attr.when_set_needs if n not in present]
        if missing:
            problems.append(f"{where} needs input {_listed(missing)}")
        extra = [n for n in attr.when_set_excludes if n in present]
        if extra:
            problems.append(f"{where} is not covered with input {_listed(extra)}")
        for name, minimum in attr.when_set_min.items():
            if values.get(name, minimum) < minimum:
                problems.append(f"{where} needs {name} >= {minimum}, got {values[name]}")
    return problems


def length_of_problems(spec: OpSpec, values: dict[str, Any]) -> list[str]:
    """`attribute 'name': problem` for every list whose length breaks its length_of rule."""
    problems = (
        (a.name, _length_of_problem(spec, a, values)) for a in spec.attributes if a.name in values and a.length_of
    )
    return [f"attribute {name!r}: {problem}" for name, problem in problems if problem]


def _length_of_problem(spec: OpSpec, attr: Attribute, values: dict[str, Any]) -> str | None:
    """A list with length_factor elements per element of another list attribute, or none."""
    if attr.length_of is None or not values[attr.name]:
        return None
    other = next(a for a in spec.attributes if a.name == attr.length_of)
    needed = attr.length_factor * len(values.get(other.name, other.default) or [])
    if len(values[attr.name]) == needed:
        return None
    count = len(values[attr.name])
    return f"{count} elements, {attr.length_factor} per {other.name!r} element ({needed}) or none needed"


def _length_problem(attr: Attribute, length: int) -> str | None:
    if attr.min_length is not None and length < attr.min_length:
        return f"{length} elements, at least {attr.min_length} needed"
    if attr.max_length is not None and length > attr.max_length:
        return f"{length} elements, at most {attr.max_length} allowed"
    return None


def _listed(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)
