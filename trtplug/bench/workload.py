"""Benchmark inputs for an op at a given size, from its spec: random, never zeros.

Row-wise ops (inputs shaped like the first or like its last dimension) get a first input of shape (rows, 1024) sized
to the request; other ops name their shapes in their prototype module with
`bench_shapes(nbytes, itemsize) -> {input name: shape}`, and the attributes those shapes need
(MatMulNBits' K, N, block_size) with `bench_attrs(shapes) -> {name: value}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.parity.cases import Case, default_attrs, present, random_values, shapes_for
from trtplug.parity.impl_base import output_specs, pyplugin_module
from trtplug.shape_rules import is_value_dependent
from trtplug.spec import OpSpec

ROW_HIDDEN = 1024


@dataclass
class Workload:
    case: Case
    inputs: list[list[Any]]  # one input list (None for absent optional inputs) per buffer set
    outputs: list[Any]
    nbytes: int  # bytes read once and written once: the memory traffic floor


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


DEVICE_RANDOM_MIN = 1 << 20  # float inputs this large are drawn on the device: host RNG takes seconds per GB


def _values(cp: ModuleType, rng: np.random.Generator, spec: OpSpec, name: str, shapes: dict, dtype: str) -> Any:
    allowed = spec.dtypes_of(next(t for t in spec.inputs if t.name == name))
    tensor_dtype = allowed[0]
    shape = shapes[name]
    if tensor_dtype.startswith("float") and cp is not np and int(np.prod(shape)) >= DEVICE_RANDOM_MIN:
        hint = spec.parity.values.get(name) if spec.parity is not None else None
        scale = hint.scale if hint is not None else 2.0
        device_rng = cp.random.default_rng(int(rng.integers(1 << 31)))
        values = device_rng.standard_normal(shape, dtype=cp.float32) * scale
        if hint is not None and hint.add_identity and len(shape) >= 2 and shape[-1] == shape[-2]:
            values += cp.float32(hint.add_identity) * cp.eye(shape[-1], dtype=cp.float32)
        return values.astype(dtype)
    values = random_values(rng, tensor_dtype, shape, spec, name, shapes)
    return values.astype(dtype) if dtype in allowed else values  # inputs of the run's type take its dtype


def make_workload(
    cp: ModuleType, spec: OpSpec, shapes: dict[str, tuple[int, ...]], dtype: str, sets: int, seed: int
) -> Workload:
    case = Case("bench", shapes, bench_attrs(spec, shapes))
    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(sets):
        host = {}
        for t in present(spec, case):
            if t is not None:
                host[t.name] = _values(cp, rng, spec, t.name, shapes, dtype)
        inputs.append([None if t is None else cp.asarray(host[t.name]) for t in present(spec, case)])
    outputs = [cp.empty(shape, dtype=dt) for _, shape, dt in output_specs(spec, case, dtype)]
    nbytes = sum(a.nbytes for a in inputs[0] if a is not None) + sum(o.nbytes for o in outputs)
    return Workload(case, inputs, outputs, nbytes)


def traffic_bytes(prototype: ModuleType, workload: Workload, dtype: str) -> int:
    """Bytes the op must move: every input read once and every output written once, unless the
    prototype says otherwise with `bench_bytes(shapes, itemsize)` (e.g. gathers read few table rows)."""
    if hasattr(prototype, "bench_bytes"):
        return int(prototype.bench_bytes(workload.case.shapes, np.dtype(dtype).itemsize))
    return workload.nbytes
