"""Comparison of one output with its reference, with everything a user needs to act on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trtplug.spec import Tolerance

# Decade edges of the error histogram: [0, 1e-9), [1e-9, 1e-8), ..., [1e1, inf).
ERROR_DECADES = tuple(range(-9, 2))
ERROR_BIN_LABELS = ("<1e-9", *(f">=1e{d}" for d in ERROR_DECADES), "nan/inf")


def error_histogram(diff: np.ndarray, special_bad: np.ndarray) -> tuple[int, ...]:
    edges = np.array([0.0, *(10.0**d for d in ERROR_DECADES), np.inf])
    counts, _ = np.histogram(diff, bins=edges)
    return (*(int(c) for c in counts), int(special_bad.sum()))


@dataclass(frozen=True)
class Comparison:
    output: str
    ok: bool
    max_abs: float
    max_rel: float
    mismatches: int
    nan_inf_mismatches: int
    min_atol_to_pass: float  # at the spec's rtol
    detail: str = ""
    # Element counts of |actual - expected| per decade (ERROR_BINS), then one count of
    # NaN/Inf placed differently: what the HTML report plots.
    error_histogram: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(name: str, actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> Comparison:
    """|a - e| <= atol + rtol |e| elementwise; NaN and Inf must sit in the same places."""
    if actual.shape != expected.shape:
        return Comparison(
            name,
            False,
            np.inf,
            np.inf,
            int(expected.size),
            0,
            np.inf,
            f"shape {actual.shape} != expected {expected.shape}",
        )
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    finite_a, finite_e = np.isfinite(a), np.isfinite(e)
    special = ~(finite_a & finite_e)
    special_bad = special & ~((np.isnan(a) & np.isnan(e)) | (a == e))
    both = finite_a & finite_e
    diff = np.abs(np.subtract(a, e, where=both, out=np.zeros_like(a)))
    scale = np.abs(e, where=both, out=np.zeros_like(e))
    bad = both & (diff > tol.atol + tol.rtol * scale)
    mismatches = int(bad.sum()) + int(special_bad.sum())
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    need = float(np.max(diff - tol.rtol * scale, initial=0.0))
    return Comparison(
        output=name,
        ok=mismatches == 0,
        max_abs=float(np.max(diff, initial=0.0)),
        max_rel=float(np.max(rel, initial=0.0)),
        mismatches=mismatches,
        nan_inf_mismatches=int(special_bad.sum()),
        min_atol_to_pass=np.inf if special_bad.any() else max(need, 0.0),
        error_histogram=error_histogram(diff[both], special_bad),
    )
