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


def primary_shapes(spec: OpSpec) -> dict[str, Shape]:
    """PRIMARY_SHAPES, or the spec's own `[extra.parity_shapes]` for ops whose inputs need a
    particular form (a fixed rank, an even last dimension)."""
    own = spec.extra.get("parity_shapes")
    return {name: tuple(shape) for name, shape in own.items()} if own else PRIMARY_SHAPES


def default_cases(spec: OpSpec) -> list[Case]:
    """Every primary shape the first input's rank allows, with and without optional inputs."""
    has_optional = any(t.optional for t in spec.inputs)
    cases = []
    for name, shape in primary_shapes(spec).items():
        if len(shape) < spec.inputs[0].min_rank:
            continue
        cases.append(Case(name, _shapes_for(spec, shape, True), default_attrs(spec)))
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
            inputs[tensor.name] = rng.integers(-100, 100, shape).astype(dtype)
    return inputs
