"""Runs parity cases: op x implementation x dtype x case, each against the reference."""

from __future__ import annotations

import traceback
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtplug.errors import NOT_IMPLEMENTED_YET
from trtplug.parity.cases import Case, case_inputs, case_seed, default_cases, make_inputs, take_rows
from trtplug.parity.compare import Comparison, compare
from trtplug.parity.conformance import conformance_cases
from trtplug.parity.impls import IMPLS
from trtplug.parity.reference import reference_unavailable, run_reference
from trtplug.protolib.dtypes import numpy_dtype
from trtplug.prototypes import pyplugin_module
from trtplug.spec import OpSpec


@dataclass
class Result:
    op: str
    impl: str
    dtype: str
    case: str
    status: str  # pass | fail | skip | error
    seed: int
    detail: str = ""
    comparisons: list[Comparison] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "comparisons"}
        d["outputs"] = [c.as_dict() for c in self.comparisons]
        return d


# Recent cases' inputs and reference outputs: a test run checks each implementation of a case in
# its own call (tests/test_parity.py), and the reference (ONNX Runtime, onnx.reference) is the
# slow part. Keyed by everything the inputs derive from, so a hit is what a recomputation gives.
_PREPARED: OrderedDict[tuple, tuple[dict[str, np.ndarray], list[np.ndarray]]] = OrderedDict()
_PREPARED_LIMIT = 4


def prepare(spec: OpSpec, dtype: str, case: Case, seed: int) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Inputs rounded to `dtype`, and the reference outputs for exactly those inputs (for the
    rows a huge case compares: the reference would take minutes on all of them). Each call gets
    its own copies: an implementation that writes its inputs cannot corrupt the next one's."""
    if case.check_rows:  # huge cases hold gigabytes: neither kept nor copied
        return _prepare_uncached(spec, dtype, case, seed)
    key = (spec.key, str(spec.path), dtype, repr(case), seed)
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = _PREPARED[key] = _prepare_uncached(spec, dtype, case, seed)
        while len(_PREPARED) > _PREPARED_LIMIT:
            _PREPARED.popitem(last=False)
    _PREPARED.move_to_end(key)
    inputs, expected = prepared
    return {k: v.copy() for k, v in inputs.items()}, [np.array(e) for e in expected]


def _prepare_uncached(
    spec: OpSpec, dtype: str, case: Case, seed: int
) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    # Inputs whose type allows the run's dtype take it (integer ops too); fixed-type ones keep theirs,
    # and so do integer values of an input that also takes floats (MatMulNBits' packed zero points).
    floating_run = dtype.startswith(("float", "bfloat"))
    run_typed = {t.name for t in case_inputs(spec, case) if dtype in spec.dtypes_of(t)}
    rng = np.random.default_rng([case_seed(seed, spec, case), 8])  # for byte redraws only
    inputs = {
        k: _in_run_dtype(v, dtype, rng) if k in run_typed and not (floating_run and v.dtype.kind in "iu") else v
        for k, v in make_inputs(spec, case, seed).items()
    }
    return inputs, run_reference(spec, case, _checked_rows(spec, case, inputs))


def _in_run_dtype(value: np.ndarray, dtype: str, rng: np.random.Generator) -> np.ndarray:
    """`value`, drawn in the input's first dtype, in the run's (bf16: ml_dtypes.bfloat16, rounded to
    nearest even). A floating-point draw run in an 8-bit integer type (a uint8 image through Resize)
    is redrawn over the type's whole range: N(0, 1) values would cast to a few bytes near 0 and 255.
    A draw of whole numbers (a generator's exact small integers: NonZero's zeros) keeps its values,
    negative ones wrapped into an unsigned type."""
    target = np.dtype(numpy_dtype(dtype))
    if value.dtype.kind == "f" and target.kind in "iu" and target.itemsize == 1:
        if np.array_equal(value, np.trunc(value)):
            return value.astype(np.int64).astype(target)
        info = np.iinfo(target)
        return rng.integers(int(info.min), int(info.max) + 1, value.shape).astype(target)
    return value.astype(target)


def _checked_rows(spec: OpSpec, case: Case, tensors: dict[str, Any]) -> dict[str, Any]:
    """Tensors shaped like the first input cut to the case's checked rows; the rest unchanged."""
    if not case.check_rows:
        return tensors
    full = case.shapes[spec.inputs[0].name]
    return {k: take_rows(v, case.check_rows) if v.shape == full else v for k, v in tensors.items()}


def skip_reason(impl: Any, spec: OpSpec, case: Case) -> str | None:
    """Why `impl` does not run `case` of `spec` here, or None."""
    if case.strided and not impl.accepts_strided:
        return "TensorRT hands plugins dense tensors; strided views are a prototype-only case"
    if case.check_rows and not impl.runs_huge:
        return "the past-2**31-elements case runs only the CUDA launcher and the plugin"
    return impl.unavailable(spec) or _scaffold_todo(spec) or reference_unavailable(spec, case)


def _scaffold_todo(spec: OpSpec) -> str | None:
    """A scaffolded op (`trtplug new`) whose prototype still states NOT_IMPLEMENTED_YET: every
    implementation skips with that text (its inputs may need [parity] hints not written yet)."""
    try:
        todo = getattr(pyplugin_module(spec), "NOT_IMPLEMENTED_YET", None)
    except Exception:  # a missing or broken prototype is the implementation's error to report
        return None
    return f"{NOT_IMPLEMENTED_YET}: {todo}" if todo else None


def run_one(
    spec: OpSpec,
    impl_name: str,
    dtype: str,
    case: Case,
    seed: int,
    prepared: tuple[dict[str, np.ndarray], list[np.ndarray]] | None = None,
) -> Result:
    """One parity check; never raises (errors become results naming what failed)."""
    result = Result(spec.key, impl_name, dtype, case.name, "skip", seed)
    impl = IMPLS[impl_name]
    reason = skip_reason(impl, spec, case)
    if reason:
        result.detail = reason
        return result
    try:
        inputs, expected = prepared or prepare(spec, dtype, case, seed)
        actual = impl.run(spec, case, inputs, dtype, [e.shape for e in expected])
    except Exception as exc:  # the implementation under test may fail in any way: report it
        if NOT_IMPLEMENTED_YET in str(exc):  # a scaffolded op whose kernel is still a TODO
            result.detail = f"{NOT_IMPLEMENTED_YET}: {exc}"
            return result
        result.status = "error"
        result.detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        return result
    # Implementations produce the outputs the case uses (a prefix); the reference produces all.
    outputs = {t.name: np.asarray(a) for t, a in zip(spec.outputs, actual, strict=False)}
    checked = _checked_rows(spec, case, outputs)
    # An output whose dtype an attribute picks is judged in that dtype's tolerance, and so is an
    # integer output of a float run with a tolerance of its own (int8 KV-cache codes).
    judged = [_judged_dtype(spec, t, case, dtype, e) for t, e in zip(spec.outputs, expected, strict=False)]
    tols = [spec.tolerance(d) for d in judged]
    result.comparisons = [compare(n, checked[n], e, tol) for n, e, tol in zip(outputs, expected, tols, strict=False)]
    result.status = "pass" if all(c.ok for c in result.comparisons) else "fail"
    return result


def _judged_dtype(spec: OpSpec, tensor: Any, case: Case, dtype: str, expected: np.ndarray) -> str:
    own = str(np.asarray(expected).dtype)
    if np.asarray(expected).dtype.kind in "iu" and own in spec.tolerances and own in spec.dtypes_of(tensor):
        return own
    return spec.output_dtype(tensor, case.attrs, {tensor.type: dtype})


@dataclass(frozen=True)
class Selection:
    """What a parity run covers; None means everything."""

    impls: tuple[str, ...]
    dtypes: frozenset[str] | None = None
    cases: frozenset[str] | None = None
    huge: bool = False


@dataclass(frozen=True, eq=False)
class Job:
    """One case of one op in one dtype; every selected implementation runs it."""

    spec: OpSpec
    dtype: str
    case: Case
    given: tuple[dict[str, np.ndarray], list[np.ndarray]] | None = None  # conformance inputs + outputs
    skip: str | None = None  # why no implementation can run it (a conformance case the spec leaves out)


def plan(specs: Iterable[OpSpec], selection: Selection) -> list[Job]:
    """Spec-derived cases, then the ONNX conformance cases of the standard ops a spec replaces."""
    jobs = []
    for spec in specs:
        for dtype in spec.dtypes:
            jobs += [Job(spec, dtype, case) for case in default_cases(spec, huge=selection.huge)]
        jobs += [Job(spec, c.dtype, c.case, (c.inputs, c.expected), c.skip) for c in conformance_cases(spec)]
    return [
        j
        for j in jobs
        if (selection.dtypes is None or j.dtype in selection.dtypes)
        and (selection.cases is None or j.case.name in selection.cases)
    ]


def run_parity(jobs: Iterable[Job], impl_names: Sequence[str], seed: int) -> Iterator[Result]:
    for job in jobs:
        if job.skip:
            for impl_name in impl_names:
                yield Result(job.spec.key, impl_name, job.dtype, job.case.name, "skip", seed, job.skip)
            continue
        prepared = job.given or _prepare_shared(job.spec, impl_names, job.dtype, job.case, seed)
        for impl_name in impl_names:
            yield run_one(job.spec, impl_name, job.dtype, job.case, seed, prepared)
        prepared = None  # huge cases hold gigabytes: let them go before the next case


def _prepare_shared(
    spec: OpSpec, impl_names: Sequence[str], dtype: str, case: Case, seed: int
) -> tuple[dict[str, np.ndarray], list[np.ndarray]] | None:
    """One reference run shared by the implementations of a case (None: each prepares and reports)."""
    if all(skip_reason(IMPLS[n], spec, case) for n in impl_names):
        return None
    try:
        return prepare(spec, dtype, case, seed)
    except Exception:  # reported per implementation by run_one
        return None
