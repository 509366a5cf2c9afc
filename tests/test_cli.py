"""The trtplug CLI: help without heavy dependencies, doctor, list, parity, error exits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trtplug.cli import main

BLOCK_HEAVY = (
    "import sys\n"
    "for name in ('tensorrt', 'tensorrt_rtx', 'cupy', 'onnxruntime', 'torch', 'trtplug._native',"
    " 'trtplug._plugin_host'):\n"
    "    sys.modules[name] = None  # any import of these now fails\n"
    "from trtplug.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_HEAVY, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("args", [["--help"], ["doctor", "--help"], ["list", "--help"], ["parity", "--help"]])
def test_help_needs_no_heavy_dependency(args: list[str]) -> None:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "usage: trtplug" in done.stdout


def test_doctor_and_list_work_without_optional_dependencies() -> None:
    doctor = run_cli("doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    facts = json.loads(doctor.stdout)["facts"]
    assert facts["cupy"] and facts["tensorrt"] and facts["gpu"]
    listing = run_cli("list", "--json")
    assert listing.returncode == 0, listing.stderr
    impls = next(op for op in json.loads(listing.stdout)["ops"] if op["op"] == "fast_gelu")["implementations"]
    assert impls["numpy"] is None and impls["cuda"] and impls["reference"]


def test_doctor_reports_every_fact(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "trtplug.doctor" and doc["schema_version"] == 1
    for key in (
        "python",
        "onnx",
        "onnx-graphsurgeon",
        "tensorrt",
        "tensorrt-rtx",
        "cuda_toolkit",
        "gpu",
        "native_module",
        "plugin_library",
        "tensorrt_headers",
        "cuda_architectures",
    ):
        assert key in doc["facts"], key


def test_list_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    table = capsys.readouterr().out
    assert "TrtplugFastGelu" in table and "com.microsoft::FastGelu" in table
    assert main(["list", "--json"]) == 0
    gelu = next(op for op in json.loads(capsys.readouterr().out)["ops"] if op["op"] == "fast_gelu")
    assert gelu["dtypes"] == ["float32", "float16", "bfloat16"]
    assert set(gelu["implementations"]) == {
        "reference",
        "numpy",
        "cupy",
        "cuda",
        "plugin",
        "protoplugin",
        "tensorrt",
        "tensorrt_proto",
    }


@pytest.mark.slow  # every op x case; tests/test_parity.py runs the same jobs one by one
def test_parity_passes_on_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parity", "--impl", "numpy", "--seed", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == 7 and doc["counts"]["pass"] >= 12 and "fail" not in doc["counts"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parity", "--op", "no_such_op"], "unknown op 'no_such_op'"),
        (["parity", "--dtype", "float64"], "--dtype float64"),
        (["list", "--plugins-dir", "/no/such/dir"], "/no/such/dir"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_invalid_spec_in_plugins_dir_exits_2(tmp_path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "spec.toml").write_text('[plugin]\nname = "X"\n')
    done = run_cli("list", "--plugins-dir", str(tmp_path))
    assert done.returncode == 2 and "bad/spec.toml" in done.stderr and "Traceback" not in done.stderr
