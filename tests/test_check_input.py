"""Bad input to `trtplug check` and `trtplug rewrite`: a one-line error naming the problem, exit 2,
no traceback (both load models through trtplug.model_io.load_valid_model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.check_models import model, save, tensor
from tests.cli_helpers import run_main
from tests.test_cli import run_cli


def _relu_model() -> onnx.ModelProto:
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [tensor("x", shape=[2])], [tensor("y")])


def _external_model(folder: Path, location: str) -> Path:
    """A model whose weight lives in external data at `location` (relative to the model)."""
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")
    m = model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [tensor("x", shape=[4, 2])], [tensor("y")], [w]
    )
    onnx.external_data_helper.convert_model_to_external_data(m, location="weights.bin", size_threshold=0)
    for entry in m.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    path = folder / "model.onnx"
    path.write_bytes(m.SerializeToString())
    return path


def _assert_one_line_error(args: list[str], *fragments: str) -> None:
    for command in (["check"], ["rewrite", "--dry-run"]):
        done = run_main(*command, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        for fragment in fragments:
            assert fragment in done.stderr, done.stderr


def test_missing_file(tmp_path: Path) -> None:
    _assert_one_line_error([str(tmp_path / "nope.onnx")], "nope.onnx", "no such model file")


def test_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a model\n")
    _assert_one_line_error([str(path)], "notes.onnx", "not")


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_protobuf(tmp_path: Path, keep: float) -> None:
    data = _relu_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: int(len(data) * keep)])
    _assert_one_line_error([str(path)], "cut.onnx")


def test_unknown_opset_domain(tmp_path: Path) -> None:
    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")
    path = save(model([node], [tensor("x", shape=[2])], [tensor("y")]), tmp_path)
    _assert_one_line_error([str(path)], "'frob'", "com.example", "unknown opset domain")


def test_graph_cycle(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
        helper.make_node("Identity", ["a"], ["y"], name="out"),
    ]
    path = tmp_path / "cycle.onnx"
    path.write_bytes(model(nodes, [tensor("x", shape=[2])], [tensor("y")]).SerializeToString())
    _assert_one_line_error([str(path)], "graph cycle", "cycle.onnx")


def test_external_data_missing(tmp_path: Path) -> None:
    path = _external_model(tmp_path, "weights.bin")
    _assert_one_line_error([str(path)], "external data file 'weights.bin' is missing", "'w'")


def test_external_data_outside_the_model_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 64)
    (tmp_path / "sub").mkdir()
    path = _external_model(tmp_path / "sub", "../secret.bin")
    _assert_one_line_error([str(path)], "points outside the model's folder")


def test_external_data_absolute_path(tmp_path: Path) -> None:
    path = _external_model(tmp_path, str(tmp_path / "weights.bin"))
    _assert_one_line_error([str(path)], "points outside the model's folder")


def test_external_data_too_short(tmp_path: Path) -> None:
    path = _external_model(tmp_path, "weights.bin")
    (tmp_path / "weights.bin").write_bytes(b"\0" * 8)
    _assert_one_line_error([str(path)], "shorter than offset + length")


def test_unknown_trt_version_is_refused_by_argparse(tmp_path: Path) -> None:
    path = save(_relu_model(), tmp_path)
    done = run_cli("check", str(path), "--static", "--trt-version", "9")
    assert done.returncode == 2 and "--trt-version" in done.stderr and "Traceback" not in done.stderr


def test_input_is_never_written(tmp_path: Path) -> None:
    path = save(_relu_model(), tmp_path)
    before = path.read_bytes()
    assert run_cli("check", str(path), "--static").returncode == 0
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_help_and_static_mode_need_no_parser(tmp_path: Path) -> None:
    done = run_cli("check", "--help")
    assert done.returncode == 0 and "--static" in done.stdout and "--trt-version" in done.stdout
    path = save(_relu_model(), tmp_path)
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stderr
    assert "no TensorRT parser is importable" in done.stdout and "static data, TensorRT 10.16" in done.stdout
