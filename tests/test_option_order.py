"""CLI options are validated before any expensive work: a bad option fails with exit 2 before
the registry loads (per-op and model parity) or before the conformance cases are planned."""

from __future__ import annotations

import pytest

from trtplug.cli import main


def _forbid(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> None:
    def called(*args, **kwargs):
        raise AssertionError(f"{module}.{name} ran before the options were validated")

    monkeypatch.setattr(f"{module}.{name}", called)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--op", "fast_gelu", "--dtype", "bogus"], "--dtype bogus: unknown dtype"),
        (["--html", "/no/such/folder/r.html"], "folder /no/such/folder does not exist"),
        (["--model", "a.onnx", "--rewritten", "b.onnx", "--dim", "batch"], "--dim batch: expected"),
    ],
)
def test_bad_option_fails_before_the_registry_loads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    pytest.importorskip("matplotlib")  # --html checks for it first
    _forbid(monkeypatch, "trtplug.registry", "load_registry")
    assert main(["parity", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--case", "no_such_case"], "--case no_such_case: no selected op"),
        (["--op", "fast_gelu", "--dtype", "int8"], "--dtype int8: no selected op runs in it"),
    ],
)
def test_bad_selection_fails_before_planning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _forbid(monkeypatch, "trtplug.parity.runner", "plan")
    assert main(["parity", "--impl", "numpy", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_known_case_still_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parity", "--op", "fast_gelu", "--impl", "numpy", "--case", "odd", "--dtype", "float32"]) == 0
    assert "1 pass, 0 fail, 0 error, 0 skip" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--op", "fast_gelu", "--plot", "/no/such/folder/b.png"], "folder /no/such/folder does not exist"),
        (["bench", "--op", "fast_gelu", "--dtype", "bogus"], "--dtype bogus: unknown dtype"),
        (["rewrite", "{model}", "-o", "/no/such/folder/o.onnx"], "directory /no/such/folder does not exist"),
        (["rewrite", "{model}"], "no output: give -o OUT.onnx"),
    ],
)
def test_bench_and_rewrite_options_fail_before_the_registry_loads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path, args: list[str], message: str
) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")  # never read: the options fail first
    _forbid(monkeypatch, "trtplug.registry", "load_registry")
    assert main([a.format(model=model) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
