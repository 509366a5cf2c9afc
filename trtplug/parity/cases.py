"""Parity cases derived from an op's spec: edge shapes and optional-input variants.

Shapes of the first input cover empty, one element, odd sizes, a typical transformer
activation and a large tensor; inputs with a shape rule derive from it, the others share it.
Values are drawn fresh from a seed that the runner records for reproduction.

A variadic input (trtplug/variadic.py) gets each case once per count of PARITY_COUNTS, its
extra tensors shaped like its first ("-3_inputs").

Row-wise ops (outputs shaped like the first input, other inputs shaped like it or like its last
dimension) get two more cases: "strided", where the prototypes see non-contiguous views, and,
on request, "huge", past 2**31 elements, to catch 32-bit index overflow in CUDA code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtplug.case_hints import ValueHint
from trtplug.shape_rules import Shape, apply_rule
from trtplug.spec import OpSpec, TensorSpec
from trtplug.variadic import copy_name, expanded_inputs, parity_counts, variadic_input

PRIMARY_SHAPES: dict[str, Shape] = {
    "empty": (0, 16),
    "empty_last": (3, 0),
    "one": (1,),
    "odd": (3, 5, 17),
    "typical": (2, 64, 768),
    "large": (8, 512, 1024),
}


# Huge case: 2**21 + 3 rows of 1024 (2**31 + 3072 elements). Inputs repeat a random block of
# HUGE_PERIOD_ROWS rows; the period is prime, so an index wrapped by 2**31 or 2**32 elements
# (2**21 or 2**22 rows) reads different values and fails the comparison instead of hiding.
HUGE_SHAPE: Shape = (2**21 + 3, 1024)
HUGE_PERIOD_ROWS = 4099
HUGE_CHECK_ROWS = ((0, 8), (HUGE_SHAPE[0] - 16, HUGE_SHAPE[0]))


@dataclass(frozen=True)
class Case:
    name: str
    shapes: dict[str, Shape]  # present inputs only; absent optional inputs are omitted
    attrs: dict[str, Any] = field(default_factory=dict)
    strided: bool = False  # inputs and outputs passed as non-contiguous views
    check_rows: tuple[tuple[int, int], ...] = ()  # compare only these rows (huge case)
    period_rows: int = 0  # inputs repeat a random block of this many rows (huge case)
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # inputs with fixed values (shape inputs)
    variadic_count: int = 0  # tensors of the op's variadic input (shapes holds each by copy_name)
    reference: str = ""  # this case's reference kind, when not the spec's ([[parity.cases]] reference)


def case_inputs(spec: OpSpec, case: Case) -> tuple[TensorSpec, ...]:
    """The op's inputs as this case passes them: a variadic one once per tensor."""
    return expanded_inputs(spec, case.variadic_count)


def present(spec: OpSpec, case: Case) -> list[TensorSpec | None]:
    """The op's inputs in order, None where an optional input is absent in this case."""
    return [t if t.name in case.shapes else None for t in case_inputs(spec, case)]


def with_variadic_count(spec: OpSpec, case: Case, count: int) -> Case:
    """`case` with `count` tensors of the op's variadic input, each shaped like its first."""
    name = variadic_input(spec).name
    copies = {copy_name(name, i): case.shapes[name] for i in range(1, count)}
    return dataclasses.replace(
        case, name=f"{case.name}-{count}_inputs", shapes={**case.shapes, **copies}, variadic_count=count
    )


def _over_variadic_counts(spec: OpSpec, cases: list[Case]) -> list[Case]:
    """Each case once per parity count of the op's variadic input (unchanged without one)."""
    if variadic_input(spec) is None:
        return cases
    return [with_variadic_count(spec, case, n) for case in cases for n in parity_counts(spec)]


def default_attrs(spec: OpSpec) -> dict[str, Any]:
    return {a.name: a.default for a in spec.attributes if a.default is not None}


def all_outputs_attrs(spec: OpSpec) -> dict[str, Any]:
    """Default attributes, with the derived output count (if any) asking for every output."""
    attrs = default_attrs(spec)
    counter = spec.derived_attribute("output_count")
    if counter is not None:
        attrs[counter.name] = len(spec.outputs)
    return attrs


def shapes_for(
    spec: OpSpec,
    primary: Shape,
    with_optional: bool,
    given: dict[str, Shape] | None = None,
    omit: tuple = (),
    attrs: dict[str, Any] | None = None,
) -> dict[str, Shape]:
    """Input shapes from the first input's; `attrs` (default: the spec's) feed the axis rules."""
    attrs = default_attrs(spec) if attrs is None else attrs
    shapes: dict[str, Shape] = {spec.inputs[0].name: primary}
    for tensor in spec.inputs[1:]:
        taken = all(attrs.get(name) == value for name, value in tensor.only_with)  # attrs hold the defaults
        if tensor.optional and (not with_optional or tensor.name in omit or not taken):
            continue
        if given and tensor.name in given:
            shapes[tensor.name] = given[tensor.name]
        else:
            shapes[tensor.name] = apply_rule(tensor.shape, shapes, attrs) if tensor.shape else primary
    return shapes


def hinted_cases(spec: OpSpec) -> list[Case]:
    """The spec's own cases: each with its optional inputs (all outputs) and required-only."""
    cases = []
    for hint in _with_variants(spec):
        primary = hint.shapes[spec.inputs[0].name]
        attrs = {**all_outputs_attrs(spec), **hint.attrs}
        full = shapes_for(spec, primary, True, hint.shapes, hint.omit, attrs)
        cases.append(Case(hint.name, full, attrs, values=_present(hint.values, full), reference=hint.reference))
        # Optional outputs make a difference only where the plugin can skip them (output_count).
        skippable = spec.derived_attribute("output_count") is not None and any(t.optional for t in spec.outputs)
        optional = any(t.optional for t in spec.inputs) or skippable
        if optional and spec.parity.required_only and hint.required_only:
            attrs = {**default_attrs(spec), **hint.attrs}
            required = shapes_for(spec, primary, False, hint.shapes, attrs=attrs)
            fixed = _present(hint.values, required)
            cases.append(Case(f"{hint.name}-required_only", required, attrs, values=fixed, reference=hint.reference))
    return cases


def _with_variants(spec: OpSpec) -> list[Any]:
    """The spec's own cases; one that sets none of the varied attributes runs once per variant."""
    hints = spec.parity
    if hints is None:
        return []
    varied = {k for v in hints.attr_variants for k in v}
    expanded = []
    for hint in hints.cases:
        if not varied or varied & set(hint.attrs):
            expanded.append(hint)
            continue
        for variant in hints.attr_variants:
            suffix = "-" + "-".join(map(str, variant.values())).lower()
            expanded.append(dataclasses.replace(hint, name=hint.name + suffix, attrs={**variant, **hint.attrs}))
    return expanded


def _present(values: dict[str, Any], shapes: dict[str, Shape]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in shapes}


def is_row_wise(spec: OpSpec) -> bool:
    """Outputs shaped like the first input; other inputs like it or like its last dimension."""
    first = spec.inputs[0].name
    inputs_ok = all(t.shape in (None, f"same_as:{first}", f"last_dim_of:{first}") for t in spec.inputs[1:])
    return inputs_ok and all(t.shape == f"same_as:{first}" for t in spec.outputs)


def default_cases(spec: OpSpec, huge: bool = False) -> list[Case]:
    """Every primary shape the first input's rank allows, with and without optional inputs, then
    the spec's own cases ([parity], trtplug/case_hints.py); for row-wise ops also a strided case
    and, when `huge`, the past-2**31-elements case."""
    cases = _over_variadic_counts(spec, _shape_cases(spec) + hinted_cases(spec))
    generic = spec.parity is None or spec.parity.default_shapes  # ops with own shapes know their forms
    if generic and is_row_wise(spec) and len(PRIMARY_SHAPES["odd"]) >= spec.inputs[0].min_rank:
        edges = [Case("strided", shapes_for(spec, PRIMARY_SHAPES["odd"], True), default_attrs(spec), True)]
        if huge:
            shapes = shapes_for(spec, HUGE_SHAPE, True)
            edges.append(Case("huge", shapes, default_attrs(spec), False, HUGE_CHECK_ROWS, HUGE_PERIOD_ROWS))
        # Memory-bound edge cases: the fewest tensors of a variadic input are enough.
        fewest = parity_counts(spec)[:1] if variadic_input(spec) is not None else ()
        cases += [with_variadic_count(spec, c, n) for c in edges for n in fewest] or edges
    return cases


def _shape_cases(spec: OpSpec) -> list[Case]:
    hints = spec.parity
    if hints is not None and not hints.default_shapes:
        return []
    variants = [("-" + "-".join(map(str, v.values())).lower(), v) for v in hints.attr_variants] if hints else []
    has_optional = any(t.optional for t in spec.inputs)
    cases = []
    for name, shape in PRIMARY_SHAPES.items():
        if len(shape) < spec.inputs[0].min_rank:
            continue
        for suffix, variant in variants or [("", {})]:
            cases.append(Case(name + suffix, shapes_for(spec, shape, True), {**all_outputs_attrs(spec), **variant}))
            if has_optional:
                required = shapes_for(spec, shape, False)
                cases.append(Case(f"{name}-required_only{suffix}", required, {**default_attrs(spec), **variant}))
    return cases


def case_seed(seed: int, spec: OpSpec, case: Case) -> int:
    """Per-case seed: stable for a run seed, independent of which other cases run."""
    return int(np.random.SeedSequence([seed, *map(ord, f"{spec.key}/{case.name}")]).generate_state(1)[0])


def make_inputs(spec: OpSpec, case: Case, seed: int) -> dict[str, np.ndarray]:
    """Float32 (or integer) inputs; fp16 runs round these to fp16 before use."""
    rng = np.random.default_rng(case_seed(seed, spec, case))
    inputs = {}
    if spec.parity is not None and spec.parity.generator:  # inputs that must agree with each other
        from trtplug.parity.generators import generate

        inputs = generate(spec.parity.generator, case.shapes, case.attrs, rng, case.values)
    for tensor in case_inputs(spec, case):
        if tensor.name not in case.shapes or tensor.name in inputs:
            continue
        shape = case.shapes[tensor.name]
        dtype = spec.dtypes_of(tensor)[0]
        if tensor.name in case.values:
            inputs[tensor.name] = np.array(case.values[tensor.name], dtype=dtype).reshape(shape)
            continue
        periodic = case.period_rows and len(shape) > 1 and shape[0] > case.period_rows
        block = (case.period_rows, *shape[1:]) if periodic else shape
        values = random_values(rng, dtype, block, spec, tensor.name, case.shapes)
        inputs[tensor.name] = np.resize(values, shape) if periodic else values  # resize repeats the block
    return inputs


def random_values(
    rng: Any,
    dtype: str,
    shape: Shape,
    spec: OpSpec | None = None,
    name: str = "",
    shapes: dict[str, Shape] | None = None,
    xp: Any = np,
) -> Any:
    """Random values of `dtype`, drawn as the spec's [parity.values] hint for input `name` says.
    `rng` is a NumPy Generator, or with xp=cupy a CuPy one (the bench's device-side draw)."""
    hint = spec.parity.values.get(name) if spec is not None and spec.parity is not None else None
    hint = hint or ValueHint()
    if dtype.startswith(("float", "bfloat")):
        values = rng.standard_normal(shape, dtype=xp.float32) * xp.float32(hint.scale)
        if hint.add_identity and len(shape) >= 2 and shape[-1] == shape[-2]:
            values += xp.float32(hint.add_identity) * xp.eye(shape[-1], dtype=xp.float32)
        return values
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    low, high = hint.bounds(shapes or {})
    return rng.integers(low, high, shape, dtype=xp.int64).astype(dtype)


def take_rows(array: Any, windows: tuple[tuple[int, int], ...]) -> Any:
    """The rows (leading-dims-flattened) of `array` in `windows`, stacked: what the huge case compares."""
    rows = array.reshape(-1, array.shape[-1])
    return np.concatenate([rows[a:b] for a, b in windows])
