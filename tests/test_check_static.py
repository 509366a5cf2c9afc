"""`trtplug check --static`: the shipped capability data, its conditions, and its agreement with
the real TensorRT-RTX parser on the ONNX conformance node cases (known disagreements are listed in
the data file; a new one fails)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from tests.check_models import conv_net, model, reduce_with_axes, save, tensor
from trtplug.check.backend import available_backends
from trtplug.check.extract import ModelContext
from trtplug.check.runner import check_model
from trtplug.check.static import VERSIONS, StaticJudge, load_data, op_table, rtx_plugin_of
from trtplug.check.walk import infer_types, walk
from trtplug.cli import main


def _static(path: Path, version: str = "10") -> list[tuple[str, str]]:
    report = check_model(path, static=True, trt_version=version)
    assert report.mode == "static"
    return [(f.node, f.reason) for f in report.findings]


def test_every_fact_names_a_known_source() -> None:
    data = load_data()
    assert data["schema_version"] == 1
    for version in VERSIONS:
        table = op_table(version)
        assert len(table) > 150 and "Conv" in table and table["BitwiseAnd"]["supported"] is False
    for op, conditions in data["conditions"].items():
        for condition in conditions:
            assert condition.get("source", data["default_source"]) in data["sources"], op


def test_a_conv_net_reports_nothing(tmp_path: Path, seed: int, capsys) -> None:
    path = save(conv_net(np.random.default_rng(seed)), tmp_path)
    assert _static(path) == [] and _static(path, "11") == []
    assert main(["check", str(path), "--static", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "static" and doc["engine"] == "static data, TensorRT 10.16" and doc["nodes"] == 9


def test_constant_input_condition(tmp_path: Path) -> None:
    assert _static(save(reduce_with_axes(True), tmp_path, "c.onnx")) == []
    [(node, reason)] = _static(save(reduce_with_axes(False), tmp_path, "d.onnx"))
    assert node == "reduce" and "axes must be an initializer" in reason and "matrix-10" in reason


@pytest.mark.parametrize(
    ("op", "attrs", "fragment"),
    [
        ("Resize", {"antialias": 1}, "antialiasing"),
        ("Resize", {"mode": "cubic"}, "nearest and linear"),
        ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}, "dilations"),
        ("AveragePool", {"kernel_shape": [2, 2], "dilations": [1, 2]}, "dilations"),
    ],
)
def test_attribute_conditions(tmp_path: Path, op: str, attrs: dict, fragment: str) -> None:
    inputs = ["x", "", "scales"] if op == "Resize" else ["x"]
    node = helper.make_node(op, inputs, ["y"], name="n", **attrs)
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 2, 2])
    m = model([node], [tensor("x", shape=[1, 3, 8, 8])], [tensor("y")], [scales] if op == "Resize" else [])
    [(name, reason)] = _static(save(m, tmp_path))
    assert name == "n" and fragment in reason
    allowed = {k: (0 if k == "antialias" else "linear" if k == "mode" else v) for k, v in attrs.items()}
    allowed = {k: ([1] * len(v) if k == "dilations" else v) for k, v in allowed.items()}
    node = helper.make_node(op, inputs, ["y"], name="n", **allowed)
    m = model([node], [tensor("x", shape=[1, 3, 8, 8])], [tensor("y")], [scales] if op == "Resize" else [])
    assert _static(save(m, tmp_path, "ok.onnx")) == []


def test_dtype_and_version_differences(tmp_path: Path) -> None:
    node = helper.make_node("Swish", ["x"], ["y"], name="swish")
    m = model([node], [tensor("x", shape=[4])], [tensor("y")], opsets=(("", 24),))
    path = save(m, tmp_path)
    assert [n for n, _ in _static(path, "10")] == ["swish"] and _static(path, "11") == []
    node = helper.make_node("Sin", ["x"], ["y"], name="sin")
    ints = [tensor(n, TensorProto.INT32, [4]) for n in "xy"]
    [(name, reason)] = _static(save(model([node], ints[:1], ints[1:]), tmp_path, "sin.onnx"))
    assert name == "sin" and "does not support int32" in reason
    node = helper.make_node("Neg", ["x"], ["y"], name="neg")
    shorts = [tensor(n, TensorProto.INT16, [4]) for n in "xy"]
    [(name, reason)] = _static(save(model([node], shorts[:1], shorts[1:]), tmp_path, "neg.onnx"))
    assert "no int16 tensors" in reason


def _single_node_cases():
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [c for c in collect_testcases(None) if len(c.model.graph.node) == 1 and not c.name.endswith("_expanded")]


@pytest.mark.skipif("tensorrt_rtx" not in available_backends(), reason="tensorrt-rtx is not installed")
def test_static_data_agrees_with_the_tensorrt_rtx_parser_on_conformance_cases() -> None:
    from trtplug.check.pool import run_jobs

    cases = _single_node_cases()
    verdicts = run_jobs([(c.model.SerializeToString(), None) for c in cases], "tensorrt_rtx")
    known = load_data()["known_disagreements"]
    found = {}
    for case, verdict in zip(cases, verdicts, strict=True):
        inferred = infer_types(case.model, [])
        judge = StaticJudge("10", ModelContext.of(inferred, Path(".")))
        # TensorRT-RTX ships no plugin library: ops TensorRT imports through it are rejections there,
        # and so are those its importer builds from a plugin it does not ship (rtx_plugin: NonZero).
        static_rejects = any(
            judge.judge(site) or judge.plugin_library(site) or rtx_plugin_of(site.node.op_type)
            for site in walk(inferred)
        )
        parser_rejects = bool(verdict.errors or verdict.aborted)
        if static_rejects != parser_rejects:
            found[case.name] = "static rejects" if static_rejects else "parser rejects"
    new = {name: who for name, who in found.items() if not known.get(name, "").startswith(who)}
    fixed = sorted(set(known) - set(found))
    assert not new, "new static-vs-parser disagreements (fix the data or list them):\n" + "\n".join(
        f'{name} = "{who}: ..."' for name, who in sorted(new.items())
    )
    assert not fixed, f"listed disagreements that no longer occur (remove them): {fixed}"
    assert len(cases) > 1000 and len(found) < len(cases) // 8
