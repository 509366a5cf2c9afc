"""What every implementation under test shares: prototype loading, poisoned outputs, the run loop."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

from trtplug.parity.cases import Case, case_inputs
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, numpy_dtype, to_bfloat16, to_device, to_host, upcast
from trtplug.prototypes import pyplugin_module, takes_bf16
from trtplug.shape_rules import apply_rule, is_value_dependent
from trtplug.spec import OpSpec


def output_specs(
    spec: OpSpec,
    case: Case,
    dtype: str,
    known: list[tuple[int, ...]] | None = None,
    given: dict[str, Any] | None = None,
) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of each output the case uses (all, or as many as the spec's derived
    output_count attribute asks for), from the spec's shape rules and type constraints;
    value-dependent shapes ("dynamic:...") come from `known` (the reference's output shapes). An
    integer input in `given` binds its constraint even in a float run (int8 KV-cache codes)."""
    by_constraint = {t.type: dtype if dtype in spec.dtypes_of(t) else spec.dtypes_of(t)[0] for t in spec.inputs}
    for t in spec.inputs:
        value = (given or {}).get(t.name)
        if value is not None and np.dtype(value.dtype).kind in "iu" and str(value.dtype) in spec.dtypes_of(t):
            by_constraint[t.type] = str(value.dtype)
    counter = spec.derived_attribute("output_count")
    used = spec.outputs[: case.attrs[counter.name]] if counter is not None else spec.outputs
    specs = []
    for i, t in enumerate(used):
        if is_value_dependent(t.shape):
            if known is None:
                raise ValueError(f"output {t.name!r} has a value-dependent shape; pass the reference's shapes")
            shape = tuple(known[i])
        else:
            shape = apply_rule(t.shape, case.shapes, case.attrs)
        specs.append((t.name, shape, spec.output_dtype(t, case.attrs, by_constraint)))
    return specs


def folded_case(spec: OpSpec, case: Case, inputs: dict[str, np.ndarray]) -> Case:
    """`case` as the rewrite hands it to the plugin: each present constant input with a spec
    `fold_into` becomes that attribute, converted as the rewrite converts it (float32 floats,
    int32 ints); the implementations then receive the plugin's inputs only."""
    folded = [t for t in spec.inputs if t.fold_into is not None and t.name in inputs]
    if not folded:
        return case
    from trtplug.graph_rewrites.attributes import convert

    kinds = {a.name: a.type for a in spec.attributes}
    values = {t.fold_into: convert(t.fold_into, kinds[t.fold_into], np.asarray(inputs[t.name])) for t in folded}
    shapes = {k: v for k, v in case.shapes.items() if k not in {t.name for t in folded}}
    return dataclasses.replace(case, shapes=shapes, attrs={**case.attrs, **values})


def poisoned(xp: ModuleType, shape: tuple[int, ...], dtype: str) -> Any:
    """An output buffer every element of which fails comparison unless overwritten (bf16 on a GPU:
    a Bf16Device of NaN bits)."""
    if dtype == BFLOAT16 and xp is not np:
        return Bf16Device.poisoned(xp, shape)
    if dtype.startswith(("float", "bfloat")):
        return xp.full(shape, np.nan, dtype=numpy_dtype(dtype))
    if dtype == "bool":
        return xp.ones(shape, dtype=bool)  # no value is invalid for bool: ones at least catch unwritten False
    return xp.full(shape, np.iinfo(dtype).min + 7, dtype=dtype)


@lru_cache(maxsize=1)
def _cupy() -> ModuleType | None:
    try:
        import cupy

        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # ImportError, or CUDA driver errors on GPU-less machines
        return None


def strided_copy(xp: ModuleType, array: Any) -> Any:
    """`array`'s values in a non-contiguous view (every other element of a wider last axis)."""
    if isinstance(array, Bf16Device):
        return Bf16Device(strided_copy(xp, array.bits))
    if array.ndim == 0 or array.size == 0:
        return array
    wide = xp.empty((*array.shape[:-1], 2 * array.shape[-1]), dtype=array.dtype)
    view = wide[..., ::2]
    view[...] = array
    return view


class Impl:
    name = ""
    on_gpu = False
    accepts_strided = False  # runs the "strided" case (non-contiguous inputs and outputs)
    computes_in_float32 = False  # a prototype: bf16 inputs come upcast, its float32 outputs get rounded
    # (unless the prototype says `takes_bf16`: then it gets bf16, a Bf16Device on a GPU)
    runs_huge = False  # runs the past-2**31-elements case

    @property
    def markers(self) -> tuple[str, ...]:
        """pytest markers of this implementation's parity tests."""
        return ("gpu",) if self.on_gpu else ()

    def unavailable(self, spec: OpSpec) -> str | None:
        """Why this implementation cannot run `spec` here, or None."""
        if self.on_gpu and _cupy() is None:
            return "no CUDA GPU with CuPy here"
        try:
            pyplugin_module(spec)
        except ImportError as exc:
            return str(exc)
        return None

    def xp(self) -> ModuleType:
        return _cupy() if self.on_gpu else np

    def run(
        self,
        spec: OpSpec,
        case: Case,
        inputs: dict[str, np.ndarray],
        dtype: str,
        known_shapes: list[tuple[int, ...]] | None = None,
    ) -> list[np.ndarray]:
        xp = self.xp()
        upcast_bf16 = self.upcasts_bf16(spec)  # a bf16 output (the case's dtype, or a dtype_attr's)
        case = folded_case(spec, case, inputs)
        plugin_inputs = [t for t in case_inputs(spec, case) if t.fold_into is None]
        ins = [
            self.device_input(xp, inputs[t.name], upcast_bf16) if t.name in case.shapes else None for t in plugin_inputs
        ]
        while ins and ins[-1] is None:
            ins.pop()
        specs = output_specs(spec, case, dtype, known_shapes, inputs)
        shapes, dtypes = [shape for _, shape, _ in specs], [dt for _, _, dt in specs]
        buffer_dtypes = ["float32" if upcast_bf16 and dt == BFLOAT16 else dt for dt in dtypes]
        outs = [poisoned(xp, shape, dt) for shape, dt in zip(shapes, buffer_dtypes, strict=True)]
        if case.strided:
            ins = [None if a is None else strided_copy(xp, a) for a in ins]
            outs = [strided_copy(xp, o) for o in outs]
        self.run_case(spec, case, ins, outs)
        if self.on_gpu:
            xp.cuda.get_current_stream().synchronize()
        hosted = [to_host(xp, o) for o in outs]
        return [to_bfloat16(o) if b != dt else o for o, b, dt in zip(hosted, buffer_dtypes, dtypes, strict=True)]

    def upcasts_bf16(self, spec: OpSpec) -> bool:
        """Whether this implementation computes `spec` on float32 stand-ins of its bf16 tensors."""
        return self.computes_in_float32 and not takes_bf16(pyplugin_module(spec))

    def device_input(self, xp: ModuleType, host: np.ndarray, upcast_bf16: bool) -> Any:
        """An input as this implementation takes it: bf16 upcast to float32 for a prototype that
        computes on stand-ins, a Bf16Device on a GPU otherwise, anything else on xp's device."""
        return to_device(xp, upcast(np, host) if upcast_bf16 else host)

    def run_case(self, spec: OpSpec, case: Case, ins: list[Any], outs: list[Any]) -> None:
        """Fills `outs` from `ins`; most implementations need only the case's attributes."""
        self.execute(spec, ins, outs, case.attrs)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        raise NotImplementedError
