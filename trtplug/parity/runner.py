"""Runs parity cases: op x implementation x dtype x case, each against the reference."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtplug.parity.cases import Case, default_cases, make_inputs
from trtplug.parity.compare import Comparison, compare
from trtplug.parity.impls import IMPLS
from trtplug.parity.reference import reference_unavailable, run_reference
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


def prepare(spec: OpSpec, dtype: str, case: Case, seed: int) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Inputs rounded to `dtype`, and the reference outputs for exactly those inputs."""
    inputs = {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in make_inputs(spec, case, seed).items()}
    return inputs, run_reference(spec, case, inputs)


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
    reason = impl.unavailable(spec) or reference_unavailable(spec)
    if reason:
        result.detail = reason
        return result
    try:
        inputs, expected = prepared or prepare(spec, dtype, case, seed)
        actual = impl.run(spec, case, inputs, dtype)
    except Exception as exc:  # the implementation under test may fail in any way: report it
        result.status = "error"
        result.detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        return result
    tol = spec.tolerance(dtype)
    # Implementations produce the outputs the case uses (a prefix); the reference produces all.
    result.comparisons = [
        compare(t.name, np.asarray(a), e, tol)
        for t, a, e in zip(spec.outputs[: len(actual)], actual, expected[: len(actual)], strict=True)
    ]
    result.status = "pass" if all(c.ok for c in result.comparisons) else "fail"
    return result


def run_parity(
    specs: Iterable[OpSpec], impls: Iterable[str], dtypes: Iterable[str] | None, seed: int
) -> Iterator[Result]:
    impl_names = list(impls)
    wanted = set(dtypes) if dtypes else None
    for spec in specs:
        for dtype in spec.dtypes:
            if wanted is not None and dtype not in wanted:
                continue
            for case in default_cases(spec):
                prepared = _prepare_shared(spec, impl_names, dtype, case, seed)
                for impl_name in impl_names:
                    yield run_one(spec, impl_name, dtype, case, seed, prepared)


def _prepare_shared(
    spec: OpSpec, impl_names: list[str], dtype: str, case: Case, seed: int
) -> tuple[dict[str, np.ndarray], list[np.ndarray]] | None:
    """One reference run shared by the implementations of a case (None: each prepares and reports)."""
    if reference_unavailable(spec) or all(IMPLS[n].unavailable(spec) for n in impl_names):
        return None
    try:
        return prepare(spec, dtype, case, seed)
    except Exception:  # reported per implementation by run_one
        return None
