"""The RMS-norm family (plugins/rms_norm): ONNX Runtime's default-domain
SimplifiedLayerNormalization and ai.onnx RMSNormalization. Spec and axis rules, the prototype
against ONNX Runtime CPU, the rewrite of a GenAI-style decoder slice with model-level parity, and
the per-target rewrite of RMSNormalization (TensorRT imports it from 10.15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.rms_norm_models import decoder_slice, rms_normalization
from trtplug.cli import main
from trtplug.parity.cases import hinted_cases
from trtplug.parity.impl_base import output_specs, pyplugin_module
from trtplug.registry import load_registry
from trtplug.shape_rules import apply_rule, check_rule

MEMBERS = {"simplified_layer_norm": "TrtplugSimplifiedLayerNorm", "rms_normalization": "TrtplugRMSNormalization"}


@pytest.mark.parametrize(("key", "plugin"), MEMBERS.items())
def test_members_are_ops_of_one_folder(key: str, plugin: str) -> None:
    spec = load_registry().get(key)
    assert spec.folder == "rms_norm" and spec.plugin.name == plugin
    assert [(r.domain, r.op_type) for r in spec.replaces] in (
        [("", "SimplifiedLayerNormalization")],
        [("", "RMSNormalization")],
    )
    assert [a.name for a in spec.attributes][:3] == ["axis", "epsilon", "stash_type"]


def test_axis_rules_follow_the_axis_attribute() -> None:
    shapes = {"X": (2, 3, 4, 5)}
    assert apply_rule("from_axis_of:X", shapes, {"axis": -2}) == (4, 5)
    assert apply_rule("from_axis_of:X", shapes, {"axis": 1}) == (3, 4, 5)
    assert apply_rule("reduced_from_axis:X", shapes, {"axis": -2}) == (2, 3, 1, 1)
    assert apply_rule("reduced_from_axis:X", shapes, {"axis": 0}) == (1, 1, 1, 1)
    assert check_rule("reduced_from_axis:X", ["X", "scale"]) is None
    with pytest.raises(ValueError, match="axis attribute"):
        apply_rule("from_axis_of:X", shapes)
    with pytest.raises(ValueError, match="out of range"):
        apply_rule("from_axis_of:X", shapes, {"axis": 4})


def test_parity_cases_cover_edges_and_shape_scale_and_stats_by_axis() -> None:
    spec = load_registry().get("simplified_layer_norm")
    cases = {c.name: c for c in hinted_cases(spec)}
    assert {"empty", "one", "h7", "odd_1001", "qwen_896", "llama_4096", "large"} <= set(cases)
    axis = cases["axis_minus2"]
    assert axis.shapes["scale"] == (6, 40)
    assert [s for _, s, _ in output_specs(spec, axis, "float16")] == [(3, 5, 6, 40), (3, 5, 1, 1)]
    assert [d for _, _, d in output_specs(spec, axis, "float16")] == ["float16", "float32"]
    assert cases["scale_leading_ones"].shapes["scale"] == (1, 1, 64)


def _ort_simplified_layer_norm(x: np.ndarray, scale: np.ndarray, axis: int, epsilon: float) -> list[np.ndarray]:
    import onnxruntime as ort

    node = helper.make_node("SimplifiedLayerNormalization", ["x", "s"], ["y", "inv"], axis=axis, epsilon=epsilon)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape), helper.make_tensor_value_info("s", 1, None)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None), helper.make_tensor_value_info("inv", 1, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x, "s": scale})


@pytest.mark.parametrize("axis", [-1, -2, 1, 0])
def test_prototype_matches_onnxruntime_with_inv_std_var(axis: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((3, 4, 5, 7)) * 3).astype(np.float32)
    scale = rng.standard_normal(x.shape[axis:]).astype(np.float32)
    y_ref, inv_ref = _ort_simplified_layer_norm(x, scale, axis, 1e-5)
    outputs = [np.full(x.shape, np.nan, np.float32), np.full(inv_ref.shape, np.nan, np.float32)]
    prototype = pyplugin_module(load_registry().get("simplified_layer_norm"))
    prototype.forward(np, [x, scale], outputs, {"axis": axis, "epsilon": 1e-5})
    np.testing.assert_allclose(outputs[0], y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outputs[1], inv_ref, rtol=1e-5, atol=1e-6)
    assert inv_ref.shape == apply_rule("reduced_from_axis:X", {"X": x.shape}, {"axis": axis})


def _rewrite(source: Path, out: Path, capsys: pytest.CaptureFixture, *args: str) -> dict[str, dict]:
    assert main(["rewrite", str(source), "-o", str(out), "--json", *args]) == 0
    return {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}


def _model_parity(source: Path, rewritten: Path, capsys: pytest.CaptureFixture, *dims: str) -> dict:
    dim_args = [a for d in dims for a in ("--dim", d)]
    args = ["--model", str(source), "--rewritten", str(rewritten), "--impl", "numpy", *dim_args, "--json"]
    code = main(["parity", *args])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 0, result
    return result


def test_decoder_slice_rewrite_and_model_parity(tmp_path: Path, capsys, seed: int) -> None:
    source = tmp_path / "decoder.onnx"
    onnx.save(decoder_slice(np.random.default_rng(seed)), source)
    out = tmp_path / "decoder.plugins.onnx"
    changes = _rewrite(source, out, capsys, "--trt-version", "10.16")
    norms = [n.name for n in onnx.load(source).graph.node if n.op_type == "SimplifiedLayerNormalization"]
    assert {name: changes[name]["action"] for name in norms} == dict.fromkeys(norms, "replaced")
    rewritten = onnx.load(out)
    onnx.checker.check_model(rewritten, full_check=True)
    plugins = [n for n in rewritten.graph.node if n.domain == "trtplug"]
    assert [n.op_type for n in plugins] == ["TrtplugSimplifiedLayerNorm"] * 2
    counts = [next(a.i for a in n.attribute if a.name == "num_outputs") for n in plugins]
    assert counts == [1, 2]  # the final norm's inv_std_var is a graph output
    result = _model_parity(source, out, capsys, "batch_size=2", "sequence_length=5")
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugSimplifiedLayerNorm"]


@pytest.mark.parametrize(("version", "action"), [("10.14", "replaced"), ("10.15", "left"), ("10.16", "left")])
def test_rms_normalization_is_replaced_only_before_10_15(tmp_path: Path, capsys, version: str, action: str) -> None:
    source = tmp_path / "rms.onnx"
    onnx.save(rms_normalization(np.random.default_rng(0), axis=-2, epsilon=1e-6), source)
    out = tmp_path / f"rms.{version}.onnx"
    change = _rewrite(source, out, capsys, "--trt-version", version)["rms"]
    assert change["action"] == action, change
    op_types = [n.op_type for n in onnx.load(out).graph.node]
    if action == "left":
        assert f"TensorRT {version} imports it natively" in change["reason"]
        assert op_types == ["RMSNormalization"]
    else:
        assert op_types == ["TrtplugRMSNormalization"]


def test_rewritten_rms_normalization_matches_onnxruntime(tmp_path: Path, capsys) -> None:
    source = tmp_path / "rms.onnx"
    onnx.save(rms_normalization(np.random.default_rng(1), axis=-2, epsilon=1e-6), source)
    out = tmp_path / "rms.plugins.onnx"
    _rewrite(source, out, capsys, "--trt-version", "10.14")
    result = _model_parity(source, out, capsys, "batch=3")
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugRMSNormalization"]


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [({"stash_type": 0}, "stash_type"), ({"axis": 4}, "axis 4 is out of range")],
    ids=["stash_type", "axis"],
)
def test_bad_attribute_leaves_the_node_with_the_reason(tmp_path: Path, capsys, attrs: dict, reason: str) -> None:
    source = tmp_path / "rms.onnx"
    onnx.save(rms_normalization(np.random.default_rng(2), **attrs), source)
    change = _rewrite(source, tmp_path / "out.onnx", capsys, "--trt-version", "10.14")["rms"]
    assert change["action"] != "replaced" and reason in change["reason"], change


@pytest.mark.parametrize("key", MEMBERS)
def test_bench_workload_is_rows_of_llama_hidden(key: str) -> None:
    from trtplug.bench.workload import bench_shapes, make_workload

    spec = load_registry().get(key)
    shapes = bench_shapes(spec, pyplugin_module(spec), 1 << 22, 2)
    assert shapes == {"X": (512, 4096), "scale": (4096,)}
    workload = make_workload(np, spec, shapes, "float16", 1, seed=0)
    assert [o.shape for o in workload.outputs] == [(512, 4096)]  # Y only: inv_std_var is optional
    assert workload.nbytes == 2 * (2 * 512 * 4096 + 4096)


def test_rewrite_types_inv_std_var_by_the_node_axis() -> None:
    """The plugin node's output types (value_info for strict shape inference) follow its axis."""
    from trtplug.graph_rewrites.plugin_node import types_from_rules

    spec = load_registry().get("simplified_layer_norm")
    shapes = {"X": ("batch", "seq", 4, 64), "scale": (4, 64)}
    types = types_from_rules(spec, ["y", "inv"], {"T": "float16"}, shapes, {"axis": -2})
    assert types["y"].shape == ("batch", "seq", 4, 64) and types["inv"].shape == ("batch", "seq", 1, 1)
    assert types["inv"].elem_type == TensorProto.FLOAT
    assert types_from_rules(spec, ["y", "inv"], {"T": "float16"}, shapes)["inv"].shape is None  # no axis: unknown
