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
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry
from trtplug.spec import Tolerance

HUGE = os.environ.get("TRTPLUG_PARITY_HUGE") == "1"  # the past-2**31-elements cases take minutes


def parity_params() -> list:
    params = []
    for spec in load_registry():
        for impl_name, impl in IMPLS.items():
            marks = [getattr(pytest.mark, m) for m in impl.markers]
            for dtype in spec.dtypes:
                for case in default_cases(spec, huge=HUGE):
                    case_id = f"{spec.key}-{impl_name}-{dtype}-{case.name}"
                    params.append(pytest.param(spec.key, impl_name, dtype, case.name, id=case_id, marks=marks))
    return params


@pytest.mark.parametrize(("op", "impl", "dtype", "case_name"), parity_params())
def test_parity(op: str, impl: str, dtype: str, case_name: str, seed: int) -> None:
    spec = load_registry().get(op)
    case = next(c for c in default_cases(spec, huge=HUGE) if c.name == case_name)
    result = run_one(spec, impl, dtype, case, seed)
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
