"""The parity suite's machinery: strided and past-2**31 cases, HTML report, progress, CLI options."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_main
from trtplug.cli import main
from trtplug.parity.cases import HUGE_PERIOD_ROWS, Case, default_cases, is_row_wise, make_inputs, take_rows
from trtplug.parity.impl_base import pyplugin_module, strided_copy
from trtplug.parity.impls import IMPLS
from trtplug.parity.runner import Selection, plan, run_one, run_parity
from trtplug.progress import progress
from trtplug.registry import load_registry


@pytest.fixture
def gelu():
    return load_registry().get("fast_gelu")


def test_strided_copy_is_a_non_contiguous_view_with_the_same_values() -> None:
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    view = strided_copy(np, a)
    assert not view.flags.c_contiguous and np.array_equal(view, a)


def test_huge_case_only_on_request_and_past_2_31_elements(gelu) -> None:
    assert is_row_wise(gelu)
    assert "huge" not in {c.name for c in default_cases(gelu)}
    huge = next(c for c in default_cases(gelu, huge=True) if c.name == "huge")
    assert int(np.prod(huge.shapes["X"])) > 2**31 and huge.shapes["bias"] == huge.shapes["X"][-1:]
    assert huge.check_rows[-1][1] == huge.shapes["X"][0]  # the last rows, past 2**31, are compared


def test_periodic_inputs_repeat_with_a_prime_row_period(gelu) -> None:
    case = Case("p", {"X": (2 * HUGE_PERIOD_ROWS + 5, 3)}, {}, period_rows=HUGE_PERIOD_ROWS)
    x = make_inputs(gelu, case, seed=3)["X"]
    assert np.array_equal(x[:5], x[HUGE_PERIOD_ROWS : HUGE_PERIOD_ROWS + 5])
    assert not np.array_equal(x[:5], x[1:6])
    assert all(HUGE_PERIOD_ROWS % p for p in range(2, int(HUGE_PERIOD_ROWS**0.5) + 1))


def _windowed_case(gelu) -> Case:
    shapes = {"X": (50, 8), "bias": (8,)}
    return Case("windowed", shapes, {}, check_rows=((0, 2), (45, 50)), period_rows=7)


def test_windowed_case_compares_the_checked_rows(gelu, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """The huge case's plumbing on a small tensor: reference on the windows, outputs cut to them."""
    monkeypatch.setattr(IMPLS["numpy"], "runs_huge", True)
    case = _windowed_case(gelu)
    assert run_one(gelu, "numpy", "float32", case, seed).status == "pass"

    prototype = pyplugin_module(gelu)
    real = prototype.forward

    def wrong_last_row(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        outputs[0][-1] += 1.0  # past the first window: only a windowed comparison catches this

    monkeypatch.setattr(prototype, "forward", wrong_last_row)
    assert run_one(gelu, "numpy", "float32", case, seed).status == "fail"


def test_take_rows_stacks_the_windows() -> None:
    a = np.arange(20).reshape(10, 2)
    assert take_rows(a, ((0, 1), (8, 10))).tolist() == [[0, 1], [16, 17], [18, 19]]


def test_gpu_only_cases_skip_with_a_reason(gelu, seed: int) -> None:
    strided = next(c for c in default_cases(gelu) if c.name == "strided")
    assert "dense" in run_one(gelu, "cuda", "float32", strided, seed).detail
    huge = _windowed_case(gelu)
    assert "2**31" in run_one(gelu, "cupy", "float32", huge, seed).detail


def test_tensorrt_impl_skips_with_a_reason_without_tensorrt(gelu, seed: int) -> None:
    try:
        import tensorrt  # noqa: F401

        pytest.skip("tensorrt is importable here: the tensorrt impl runs in test_parity")
    except ImportError:
        pass
    result = run_one(gelu, "tensorrt", "float32", default_cases(gelu)[0], seed)
    assert result.status == "skip" and "tensorrt" in result.detail


def test_plan_filters_by_dtype_and_case(gelu) -> None:
    jobs = plan([gelu], Selection(("numpy",), frozenset({"float16"}), frozenset({"odd", "strided"})))
    assert {(j.dtype, j.case.name) for j in jobs} == {("float16", "odd"), ("float16", "strided")}


def test_html_report_has_histograms_and_every_case(gelu, tmp_path: Path, seed: int) -> None:
    pytest.importorskip("matplotlib")
    from trtplug.parity.html_report import write_html

    jobs = plan([gelu], Selection(("numpy",), None, frozenset({"odd", "one"})))
    results = list(run_parity(jobs, ["numpy"], seed))
    broken = dataclasses.replace(results[0], status="fail", detail="synthetic <failure>")
    path = tmp_path / "parity.html"
    write_html(path, [*results, broken], seed)
    text = path.read_text()
    assert text.count("data:image/png;base64,") == 3  # fast_gelu/numpy x float32, float16, bfloat16
    assert text.count("<tr class=") == len(results) + 1 and "synthetic &lt;failure&gt;" in text
    assert [p.name for p in tmp_path.iterdir()] == ["parity.html"]  # no temporary left behind


def test_parity_cli_html_and_case_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    report = tmp_path / "r.html"
    assert main(["parity", "--op", "fast_gelu", "--impl", "numpy", "--case", "odd", "--html", str(report)]) == 0
    assert "3 pass, 0 fail, 0 error, 0 skip" in capsys.readouterr().out and report.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--case", "no_such_case"], "--case no_such_case"),
        (["--html", "/no/such/folder/r.html"], "does not exist"),
    ],
)
def test_parity_cli_bad_options_exit_2(args: list[str], message: str) -> None:
    done = run_main("parity", "--impl", "numpy", *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_progress_bar_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.delenv("TRTPLUG_PROGRESS", raising=False)
    assert list(progress(range(3), 3, "x", stream)) == [0, 1, 2] and stream.getvalue() == ""
    monkeypatch.setenv("TRTPLUG_PROGRESS", "1")
    assert list(progress(range(3), 3, "cases", stream)) == [0, 1, 2]
    assert "cases [" in stream.getvalue() and "3/3" in stream.getvalue()


def test_a_case_reference_is_computed_once_for_all_implementations(
    gelu, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Each implementation checked in its own call (as tests/test_parity.py does) shares one
    reference run per case and seed; every call still gets inputs of its own."""
    from trtplug.parity import runner

    calls = []
    original = runner.run_reference
    monkeypatch.setattr(runner, "run_reference", lambda *a: calls.append(a) or original(*a))
    (job,) = plan([gelu], Selection(("numpy",), frozenset({"float32"}), frozenset({"odd"})))
    monkeypatch.setattr(runner, "_PREPARED", type(runner._PREPARED)())
    first = runner.prepare(gelu, job.dtype, job.case, seed)
    first[0]["X"][:] = np.nan  # an implementation that writes its inputs
    for impl in ("numpy", "numpy"):
        (result,) = run_parity([job], [impl], seed)
        assert result.status == "pass"
    assert len(calls) == 1
    runner.prepare(gelu, job.dtype, job.case, seed + 1)
    assert len(calls) == 2  # a fresh seed draws fresh inputs and a fresh reference
