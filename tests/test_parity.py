"""Parity of every implementation x dtype x case against the op's independent reference.

CPU implementations run everywhere; GPU ones (cupy, cuda) are marked `gpu` and skip with a
printed reason on machines without one. Outputs are poisoned before each run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from trtplug.parity.cases import default_cases
from trtplug.parity.compare import compare
from trtplug.parity.impls import IMPLS
from trtplug.parity.runner import Selection, plan, run_one, run_parity
from trtplug.registry import load_registry
from trtplug.spec import Tolerance

HUGE = os.environ.get("TRTPLUG_PARITY_HUGE") == "1"  # the past-2**31-elements cases take minutes
SLOW_CPU_ELEMENTS = 2**24  # a CPU check this large takes ~12 s (Unique's sort: reference and prototype)
JOBS = {f"{j.spec.key}-{j.dtype}-{j.case.name}": j for j in plan(load_registry(), Selection(tuple(IMPLS), huge=HUGE))}


def parity_params() -> list:
    """op x impl x dtype x case: spec-derived cases and the ONNX conformance cases."""
    params = []
    for job_id, job in JOBS.items():
        for impl_name, impl in IMPLS.items():
            marks = [getattr(pytest.mark, m) for m in impl.markers]
            if "gpu" not in impl.markers and sum(map(np.prod, job.case.shapes.values())) >= SLOW_CPU_ELEMENTS:
                marks.append(pytest.mark.slow)
            test_id = f"{job.spec.key}-{impl_name}-{job.dtype}-{job.case.name}"
            params.append(pytest.param(job_id, impl_name, id=test_id, marks=marks))
    return params


@pytest.mark.parametrize(("job_id", "impl"), parity_params())
def test_parity(job_id: str, impl: str, seed: int) -> None:
    (result,) = run_parity([JOBS[job_id]], [impl], seed)
    if result.status == "skip":
        pytest.skip(result.detail)
    assert result.status == "pass", f"seed {seed}: {result.detail} {[c.as_dict() for c in result.comparisons]}"


def test_unwritten_element_fails() -> None:
    """A poisoned element that an implementation forgot to write must fail the comparison."""
    expected = np.linspace(-1, 1, 10, dtype=np.float32)
    actual = expected.copy()
    actual[7] = np.nan
    result = compare("Y", actual, expected, Tolerance(1e-3, 1e-3))
    assert not result.ok and result.mismatches == 1 and result.nan_inf_mismatches == 1
    assert result.min_atol_to_pass == np.inf


def test_comparison_reports_error_and_minimal_tolerance() -> None:
    expected = np.array([1.0, 2.0, -np.inf, np.nan], dtype=np.float32)
    actual = np.array([1.0, 2.5, -np.inf, np.nan], dtype=np.float32)
    result = compare("Y", actual, expected, Tolerance(1e-3, 0.0))
    assert not result.ok and result.mismatches == 1
    assert result.max_abs == pytest.approx(0.5) and result.min_atol_to_pass == pytest.approx(0.5)
    assert compare("Y", actual, expected, Tolerance(0.5, 0.0)).ok


def test_shape_mismatch_fails() -> None:
    result = compare("Y", np.zeros((2, 3)), np.zeros((3, 2)), Tolerance(1.0, 1.0))
    assert not result.ok and "shape" in result.detail


def test_broken_implementation_is_caught(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """The parity check must fail an implementation that computes a different function."""
    spec = load_registry().get("fast_gelu")
    module = __import__("trtplug.parity.impls", fromlist=["pyplugin_module"]).pyplugin_module(spec)
    real = module.forward

    def off_by_a_bit(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        outputs[0][...] = outputs[0] * 1.01

    monkeypatch.setattr(module, "forward", off_by_a_bit)
    case = next(c for c in default_cases(spec) if c.name == "odd")
    assert run_one(spec, "numpy", "float32", case, seed).status == "fail"


def test_cases_cover_edge_shapes() -> None:
    spec = load_registry().get("fast_gelu")
    sizes = {int(np.prod(c.shapes["X"])) for c in default_cases(spec)}
    assert 0 in sizes and 1 in sizes and max(sizes) >= 1 << 22
    assert any("bias" not in c.shapes for c in default_cases(spec))
    assert all(c.shapes["bias"] == c.shapes["X"][-1:] for c in default_cases(spec) if "bias" in c.shapes)
