"""Benchmark inputs for an op at a given size, from its spec: random, never zeros.

Row-wise ops (inputs shaped like the first or like its last dimension) get a first input of shape (rows, 1024) sized
to the request; other ops name their shapes in their prototype module with
`bench_shapes(nbytes, itemsize) -> {input name: shape}`. A prototype may also give the fields
those shapes need (`bench_attrs(shapes) -> {field: value}`: MatMulNBits' K, N, block_size,
Resize's sizes, attention head counts), inputs whose values must agree with the shapes
(`bench_inputs(shapes, rng) -> {input name: array}`), and value-dependent output shapes
(`output_shapes(inputs, attrs)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.bench.timing import buffer_sets
from trtplug.parity.cases import Case, default_attrs, present, random_values, shapes_for
from trtplug.parity.impl_base import output_specs
from trtplug.protolib.dtypes import (
    BFLOAT16,
    Bf16Device,
    device_empty,
    float32_to_bf16_bits,
    numpy_dtype,
    to_device,
    upcast,
)
from trtplug.prototypes import pyplugin_module, takes_bf16
from trtplug.shape_rules import is_value_dependent
from trtplug.spec import OpSpec

ROW_HIDDEN = 1024


@dataclass
class Workload:
    case: Case
    inputs: list[list[Any]]  # one input list (None for absent optional inputs) per buffer set
    outputs: list[Any]  # set 0's outputs (the ones the agreement check reads)
    nbytes: int  # bytes read once and written once: the memory traffic floor
    # What the prototype takes: the same arrays, except bf16 ones upcast to float32 (unless it takes_bf16).
    proto_inputs: list[list[Any]] = field(default_factory=list)
    proto_outputs: list[Any] = field(default_factory=list)
    # Outputs per buffer set: a call writing the lines the previous call left dirty in L2 would
    # store them without DRAM traffic (a 16 MB write-heavy op then ran past the copy roofline).
    output_sets: list[list[Any]] = field(default_factory=list)


def bench_shapes(spec: OpSpec, prototype: ModuleType, nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]] | None:
    if hasattr(prototype, "bench_shapes"):
        return prototype.bench_shapes(nbytes, itemsize)
    if any(is_value_dependent(t.shape) for t in spec.outputs):
        return None  # output shapes come from input values: the op names its shapes itself or is not timed
    if _row_inputs(spec):
        rows = max(1, nbytes // itemsize // ROW_HIDDEN)
        return shapes_for(spec, (rows, ROW_HIDDEN), True)
    return None


def bench_attrs(spec: OpSpec, shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """The spec's defaults, and what the prototype's `bench_attrs(shapes)` sets for these shapes."""
    prototype = pyplugin_module(spec)
    extra = prototype.bench_attrs(shapes) if hasattr(prototype, "bench_attrs") else {}
    return {**default_attrs(spec), **extra}


def _row_inputs(spec: OpSpec) -> bool:
    """Inputs shaped like the first or like its last dimension: rows of ROW_HIDDEN fit the op."""
    first = spec.inputs[0].name
    return all(t.shape in (None, f"same_as:{first}", f"last_dim_of:{first}") for t in spec.inputs[1:])


DEVICE_RANDOM_MIN = 1 << 20  # inputs this large are drawn on the device: host RNG takes seconds per GB


def _values(cp: ModuleType, rng: np.random.Generator, spec: OpSpec, name: str, shapes: dict, dtype: str) -> Any:
    allowed = spec.dtypes_of(next(t for t in spec.inputs if t.name == name))
    tensor_dtype = allowed[0]
    shape = shapes[name]
    if cp is np or int(np.prod(shape)) < DEVICE_RANDOM_MIN:
        return _run_typed(spec, name, random_values(rng, tensor_dtype, shape, spec, name, shapes), dtype)
    values = _device_random(cp, int(rng.integers(1 << 31)), spec, name, shapes, tensor_dtype)
    if dtype not in allowed:  # a fixed-type input keeps its own type
        return values.astype(tensor_dtype)
    return Bf16Device(float32_to_bf16_bits(cp, values)) if dtype == BFLOAT16 else values.astype(dtype)


def _device_random(cp: ModuleType, seed: int, spec: OpSpec, name: str, shapes: dict, tensor_dtype: str) -> Any:
    """random_values' draw on the device (floats as float32, integers in the input's own type)."""
    return random_values(cp.random.default_rng(seed), tensor_dtype, shapes[name], spec, name, shapes, xp=cp)


def _run_typed(spec: OpSpec, name: str, values: Any, dtype: str) -> Any:
    """Host values in the run's dtype where the input takes it (else its own fixed type)."""
    allowed = spec.dtypes_of(next(t for t in spec.inputs if t.name == name))
    return values.astype(numpy_dtype(dtype)) if dtype in allowed else values


def _given_values(spec: OpSpec, prototype: ModuleType, case: Case, rng: np.random.Generator, dtype: str) -> dict:
    """Inputs whose values must agree with the shapes or each other: the spec's parity generator
    (e.g. BERT weights scaled so the softmax is not one-hot, where any rounding picks another key),
    overridden by the prototype's bench_inputs."""
    given = {}
    if spec.parity is not None and spec.parity.generator:
        from trtplug.parity.generators import GENERATORS

        generated = GENERATORS[spec.parity.generator](case.shapes, case.attrs, rng)
        given = {k: _run_typed(spec, k, v, dtype) for k, v in generated.items() if k in case.shapes}
    if hasattr(prototype, "bench_inputs"):  # in the run's dtype too (RoiAlign's rois must have X's)
        given.update({k: _run_typed(spec, k, v, dtype) for k, v in prototype.bench_inputs(case.shapes, rng).items()})
    return given


def _input_set(cp: ModuleType, spec: OpSpec, prototype: ModuleType, case: Case, rng, dtype: str) -> list[Any]:
    given = _given_values(spec, prototype, case, rng, dtype)
    host = {
        t.name: given[t.name] if t.name in given else _values(cp, rng, spec, t.name, case.shapes, dtype)
        for t in present(spec, case)
        if t is not None
    }
    return [None if t is None else to_device(cp, host[t.name]) for t in present(spec, case)]


def _copy(cp: ModuleType, array: Any) -> Any:
    return Bf16Device(array.bits.copy()) if isinstance(array, Bf16Device) else cp.array(array, copy=True)


def make_workload(
    cp: ModuleType, spec: OpSpec, shapes: dict[str, tuple[int, ...]], dtype: str, sets: int | None, seed: int
) -> Workload:
    """`sets` input sets (None: enough that their bytes exceed L2, `buffer_sets`) in distinct
    buffers, each a device copy of the first: distinct buffers are what keeps the rotation out of
    L2, and drawing each set anew cost seconds of host RNG per op. Equal values also keep an op
    whose output shapes depend on them right: its outputs are sized once, for set 0, and another
    set's values would give other sizes."""
    prototype = pyplugin_module(spec)
    attrs = bench_attrs(spec, shapes)
    case = Case("bench", shapes, attrs)
    first = _input_set(cp, spec, prototype, case, np.random.default_rng(seed), dtype)
    stand_ins = dtype == BFLOAT16 and not takes_bf16(prototype)
    known = None  # value-dependent output shapes: the prototype's rule from the inputs (by position) and fields
    if any(is_value_dependent(t.shape) for t in spec.outputs) and hasattr(prototype, "output_shapes"):
        known = prototype.output_shapes(
            [None if a is None else upcast(cp, a) for a in first] if stand_ins else first, attrs
        )
    specs = output_specs(spec, case, dtype, known)
    outputs = [device_empty(cp, shape, dt) for _, shape, dt in specs]
    nbytes = sum(a.nbytes for a in first if a is not None) + sum(o.nbytes for o in outputs)
    # Enough sets that the bytes a call touches (its traffic floor: a gather reads few rows of its
    # tables) exceed L2 over the rotation; sizing by whole tables let the rows come from L2.
    touched = _floor_bytes(prototype, shapes, dtype, nbytes)
    sets = buffer_sets(min(touched, nbytes)) if sets is None else sets
    inputs = [first] + [[None if a is None else _copy(cp, a) for a in first] for _ in range(sets - 1)]
    output_sets = [outputs] + [[device_empty(cp, shape, dt) for _, shape, dt in specs] for _ in range(sets - 1)]
    if not stand_ins:
        return Workload(case, inputs, outputs, nbytes, inputs, outputs, output_sets)
    proto_inputs = [[None if a is None else upcast(cp, a) for a in s] for s in inputs]
    proto_outputs = [device_empty(cp, shape, "float32" if dt == BFLOAT16 else dt) for _, shape, dt in specs]
    return Workload(case, inputs, outputs, nbytes, proto_inputs, proto_outputs, output_sets)


def traffic_bytes(prototype: ModuleType, workload: Workload, dtype: str) -> int:
    """Bytes the op must move: every input read once and every output written once, unless the
    prototype says otherwise with `bench_bytes(shapes, itemsize)` (e.g. gathers read few table rows)."""
    return _floor_bytes(prototype, workload.case.shapes, dtype, workload.nbytes)


def _floor_bytes(prototype: ModuleType, shapes: dict[str, tuple[int, ...]], dtype: str, nbytes: int) -> int:
    if hasattr(prototype, "bench_bytes"):
        return int(prototype.bench_bytes(shapes, numpy_dtype(dtype).itemsize))
    return nbytes
