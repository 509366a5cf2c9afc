"""Parity cases derived from an op's spec: edge shapes and optional-input variants.

Shapes of the first input cover empty, one element, odd sizes, a typical transformer
activation and a large tensor; inputs with a shape rule derive from it, the others share it.
Values are drawn fresh from a seed that the runner records for reproduction. A spec's
`[parity]` hints (trtplug/case_hints.py) replace the primary shapes with its own cases and bound
integer inputs (indices into a table). Cases with every optional input also use every output.
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


def present(spec: OpSpec, case: Case) -> list[TensorSpec | None]:
    """The op's inputs in order, None where an optional input is absent in this case."""
    return [t if t.name in case.shapes else None for t in spec.inputs]


def default_attrs(spec: OpSpec) -> dict[str, Any]:
    return {a.name: a.default for a in spec.attributes if a.default is not None}


def all_outputs_attrs(spec: OpSpec) -> dict[str, Any]:
    """Default attributes, with the derived output count (if any) asking for every output."""
    attrs = default_attrs(spec)
    counter = spec.derived_attribute("output_count")
    if counter is not None:
        attrs[counter.name] = len(spec.outputs)
    return attrs


def _shapes_for(
    spec: OpSpec, primary: Shape, with_optional: bool, given: dict[str, Shape] | None = None, omit: tuple = ()
) -> dict[str, Shape]:
    shapes: dict[str, Shape] = {spec.inputs[0].name: primary}
    for tensor in spec.inputs[1:]:
        if tensor.optional and (not with_optional or tensor.name in omit):
            continue
        if given and tensor.name in given:
            shapes[tensor.name] = given[tensor.name]
        else:
            shapes[tensor.name] = apply_rule(tensor.shape, shapes) if tensor.shape else primary
    return shapes


def hinted_cases(spec: OpSpec) -> list[Case]:
    """The spec's own cases: each with its optional inputs (all outputs) and required-only."""
    cases = []
    for hint in spec.parity.cases:
        primary = hint.shapes[spec.inputs[0].name]
        full = _shapes_for(spec, primary, True, hint.shapes, hint.omit)
        cases.append(Case(hint.name, full, {**all_outputs_attrs(spec), **hint.attrs}))
        if any(t.optional for t in spec.inputs) or any(t.optional for t in spec.outputs):
            required = _shapes_for(spec, primary, False, hint.shapes)
            cases.append(Case(f"{hint.name}-required_only", required, {**default_attrs(spec), **hint.attrs}))
    return cases


def default_cases(spec: OpSpec) -> list[Case]:
    """Every primary shape the first input's rank allows, with and without optional inputs
    (or the spec's hinted cases, when it has them)."""
    if spec.parity is not None and spec.parity.cases:
        return hinted_cases(spec)
    has_optional = any(t.optional for t in spec.inputs)
    cases = []
    for name, shape in PRIMARY_SHAPES.items():
        if len(shape) < spec.inputs[0].min_rank:
            continue
        cases.append(Case(name, _shapes_for(spec, shape, True), all_outputs_attrs(spec)))
        if has_optional:
            cases.append(Case(f"{name}-required_only", _shapes_for(spec, shape, False), default_attrs(spec)))
    return cases


def case_seed(seed: int, spec: OpSpec, case: Case) -> int:
    """Per-case seed: stable for a run seed, independent of which other cases run."""
    return int(np.random.SeedSequence([seed, *map(ord, f"{spec.key}/{case.name}")]).generate_state(1)[0])


def make_inputs(spec: OpSpec, case: Case, seed: int) -> dict[str, np.ndarray]:
    """Float32 (or integer) inputs; fp16 runs round these to fp16 before use."""
    rng = np.random.default_rng(case_seed(seed, spec, case))
    inputs = {}
    for tensor in spec.inputs:
        if tensor.name not in case.shapes:
            continue
        shape = case.shapes[tensor.name]
        dtype = spec.dtypes_of(tensor)[0]
        if dtype.startswith(("float", "bfloat")):
            inputs[tensor.name] = (rng.standard_normal(shape, dtype=np.float32) * 2.0).astype(np.float32)
        elif dtype == "bool":
            inputs[tensor.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            hint = spec.parity.values.get(tensor.name) if spec.parity is not None else None
            low, high = hint.bounds(case.shapes) if hint is not None else (-100, 100)
            inputs[tensor.name] = rng.integers(low, high, shape).astype(dtype)
    return inputs
