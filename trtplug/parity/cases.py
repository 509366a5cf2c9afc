"""Parity cases derived from an op's spec: edge shapes and optional-input variants.

Shapes of the first input cover empty, one element, odd sizes, a typical transformer
activation and a large tensor; inputs with a shape rule derive from it, the others share it.
Values are drawn fresh from a seed that the runner records for reproduction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtplug.shape_rules import Shape, apply_rule
from trtplug.spec import OpSpec, TensorSpec

PRIMARY_SHAPES: dict[str, Shape] = {
    "empty": (0, 16),
    "empty_last": (3, 0),
    "one": (1,),
    "odd": (3, 5, 17),
    "typical": (2, 64, 768),
    "large": (8, 512, 1024),
}


@dataclass(frozen=True)
class Case:
    name: str
    shapes: dict[str, Shape]  # present inputs only; absent optional inputs are omitted
    attrs: dict[str, Any] = field(default_factory=dict)
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # inputs with fixed values (shape inputs)


def present(spec: OpSpec, case: Case) -> list[TensorSpec | None]:
    """The op's inputs in order, None where an optional input is absent in this case."""
    return [t if t.name in case.shapes else None for t in spec.inputs]


def default_attrs(spec: OpSpec) -> dict[str, Any]:
    return {a.name: a.default for a in spec.attributes if a.default is not None}


def _shapes_for(spec: OpSpec, primary: Shape, with_optional: bool) -> dict[str, Shape]:
    shapes: dict[str, Shape] = {spec.inputs[0].name: primary}
    for tensor in spec.inputs[1:]:
        if tensor.optional and not with_optional:
            continue
        shapes[tensor.name] = apply_rule(tensor.shape, shapes) if tensor.shape else primary
    return shapes


def default_cases(spec: OpSpec) -> list[Case]:
    """Every primary shape the first input's rank allows, with and without optional inputs,
    then the spec's own cases ([[extra.parity.cases]]); see parity_options."""
    options = parity_options(spec)
    has_optional = any(t.optional for t in spec.inputs)
    cases = []
    for name, shape in PRIMARY_SHAPES.items() if options.get("default_shapes", True) else ():
        if len(shape) < spec.inputs[0].min_rank:
            continue
        for suffix, attrs in _attr_variants(spec):
            cases.append(Case(name + suffix, _shapes_for(spec, shape, True), attrs))
            if has_optional:
                cases.append(Case(f"{name}-required_only{suffix}", _shapes_for(spec, shape, False), attrs))
    variant_keys = {k for v in options.get("attr_variants", []) for k in v}
    for entry in options.get("cases", []):
        # An entry that sets none of the varied attributes runs once per variant, like the primary shapes.
        fixed = variant_keys & set(entry.get("attrs", {})) or not variant_keys
        for suffix, attrs in [("", {})] if fixed else _attr_variants(spec):
            named = {**entry, "name": entry["name"] + suffix, "attrs": {**attrs, **entry.get("attrs", {})}}
            cases.append(_spec_case(spec, named))
    return cases


def parity_options(spec: OpSpec) -> dict[str, Any]:
    """[extra.parity] of a spec, for ops the edge-shape table cannot describe alone:

    default_shapes = false            leave out the PRIMARY_SHAPES cases
    attr_variants = [{direction = "LEFT"}, ...]   run each primary case once per variant
    value_range = {Y = [-2, 40]}      integer inputs drawn from [lo, hi) instead of [-100, 100)
    value_scale = {X = 1.0}           float inputs: standard normal times this (default 2.0)
    add_identity = {X = 3.0}          square-matrix inputs: plus this times the identity (conditioning)
    generator = "max_pool_outputs"    inputs made together by trtplug.parity.generators
    [[extra.parity.cases]]            name, shapes = {A = [3, 4]}, attrs = {...}, values = {size = [...]}
    """
    return spec.extra.get("parity", {})


def _attr_variants(spec: OpSpec) -> list[tuple[str, dict[str, Any]]]:
    variants = parity_options(spec).get("attr_variants", [])
    if not variants:
        return [("", default_attrs(spec))]
    return [("-" + "-".join(map(str, v.values())).lower(), {**default_attrs(spec), **v}) for v in variants]


def _spec_case(spec: OpSpec, entry: dict[str, Any]) -> Case:
    values = {k: tuple(v) for k, v in entry.get("values", {}).items()}
    shapes = {k: tuple(v) for k, v in entry.get("shapes", {}).items()}
    shapes.update({k: (len(v),) for k, v in values.items()})
    for tensor in spec.inputs:  # required inputs with a shape rule follow the inputs they name
        if tensor.name not in shapes and tensor.shape and not tensor.optional:
            shapes[tensor.name] = apply_rule(tensor.shape, shapes)
    return Case(entry["name"], shapes, {**default_attrs(spec), **entry.get("attrs", {})}, values)


def case_seed(seed: int, spec: OpSpec, case: Case) -> int:
    """Per-case seed: stable for a run seed, independent of which other cases run."""
    return int(np.random.SeedSequence([seed, *map(ord, f"{spec.key}/{case.name}")]).generate_state(1)[0])


def make_inputs(spec: OpSpec, case: Case, seed: int) -> dict[str, np.ndarray]:
    """Float32 (or integer) inputs; fp16 runs round these to fp16 before use."""
    rng = np.random.default_rng(case_seed(seed, spec, case))
    options = parity_options(spec)
    inputs = {}
    if "generator" in options:  # inputs that must agree with each other (trtplug.parity.generators)
        from trtplug.parity.generators import GENERATORS

        inputs = GENERATORS[options["generator"]](case.shapes, case.attrs, rng)
    for tensor in spec.inputs:
        if tensor.name not in case.shapes or tensor.name in inputs:
            continue
        shape = case.shapes[tensor.name]
        dtype = spec.dtypes_of(tensor)[0]
        if tensor.name in case.values:
            inputs[tensor.name] = np.array(case.values[tensor.name], dtype=dtype)
        elif dtype.startswith(("float", "bfloat")):
            scale = options.get("value_scale", {}).get(tensor.name, 2.0)
            values = rng.standard_normal(shape, dtype=np.float32) * scale
            if tensor.name in options.get("add_identity", {}):  # batches of square matrices, kept well conditioned
                values += options["add_identity"][tensor.name] * np.eye(shape[-1], dtype=np.float32)
            inputs[tensor.name] = values.astype(np.float32)
        elif dtype == "bool":
            inputs[tensor.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            low, high = options.get("value_range", {}).get(tensor.name, (-100, 100))
            inputs[tensor.name] = rng.integers(low, high, shape).astype(dtype)
    return inputs
