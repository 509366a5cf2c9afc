"""DFT beyond the parity cases: the rewrite per TensorRT target (only the nodes TensorRT's 11.2+
importer rejects: not fp16, axis other than -2, lengths not a power of two), constant dft_length
and axis inputs folded into fields, a non-constant one left alone with its reason, model-level
parity of a rewritten graph, and the prototype against onnx.reference on random geometries
(inverse onesided, the irfft, included)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry


def dft_model(opset: int, elem=TensorProto.FLOAT, shape=(2, 16, 1), axis: int = -2, length: int | None = None):
    """One DFT node (name "dft"): opset 17 takes axis as an attribute, 20 as a constant input."""
    inits, names, attrs = [], ["x", ""], {}
    if length is not None:
        inits.append(numpy_helper.from_array(np.array(length, np.int64), "n"))
        names[1] = "n"
    if opset >= 20:
        inits.append(numpy_helper.from_array(np.array(axis, np.int64), "axis"))
        names.append("axis")
    else:
        attrs["axis"] = axis
    node = helper.make_node("DFT", names, ["y"], name="dft", **attrs)
    graph = helper.make_graph(
        [node, helper.make_node("Identity", ["y"], ["out"])],
        "dft",
        [helper.make_tensor_value_info("x", elem, list(shape))],
        [helper.make_tensor_value_info("out", elem, [f"d{i}" for i in range(len(shape))])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def rewrite(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {n["node"]: n for n in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize(
    ("opset", "elem", "shape", "axis", "length", "native_since_11_2"),
    [
        (20, TensorProto.FLOAT16, (2, 16, 1), -2, None, True),
        (17, TensorProto.FLOAT16, (2, 16, 1), -2, 32, True),
        (20, TensorProto.FLOAT, (2, 16, 1), -2, None, False),  # fp32
        (17, TensorProto.FLOAT16, (2, 16, 1), 1, None, False),  # axis 1
        (20, TensorProto.FLOAT16, (2, 12, 1), -2, None, False),  # length 12
        (20, TensorProto.FLOAT16, (2, 16, 1), -2, 24, False),  # dft_length 24
    ],
)
@pytest.mark.parametrize("target", ["10.16", "11.2", "11.5"])
def test_rewrite_replaces_what_the_target_rejects(
    tmp_path: Path, capsys, opset, elem, shape, axis, length, native_since_11_2, target
) -> None:
    nodes, rewritten = rewrite(tmp_path, dft_model(opset, elem, shape, axis, length), capsys, "--trt-version", target)
    node = next(n for n in rewritten.graph.node if n.name == "dft")
    if native_since_11_2 and target != "10.16":
        assert nodes["dft"]["action"] == "left" and "imports it natively" in nodes["dft"]["reason"]
        assert node.op_type == "DFT"
        return
    assert nodes["dft"]["action"] == "replaced"
    assert node.op_type == ("TrtplugDft" if opset >= 20 else "TrtplugDft17") and list(node.input) == ["x"]
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["axis"] == axis and fields["dft_length"] == (length or 0)


def test_runtime_dft_length_is_left_alone_with_its_reason(tmp_path: Path, capsys) -> None:
    model = dft_model(20)
    model.graph.input.append(helper.make_tensor_value_info("len", TensorProto.INT64, []))
    model.graph.node[0].input[1] = "len"
    nodes, _ = rewrite(tmp_path, model, capsys, "--all-covered")
    assert nodes["dft"]["action"] == "left"
    assert "'dft_length'" in nodes["dft"]["reason"] and "not a constant" in nodes["dft"]["reason"]


@pytest.mark.parametrize("opset", [17, 20])
def test_rewritten_model_matches_onnx_runtime(tmp_path: Path, capsys, opset: int) -> None:
    """A complex DFT along axis 1 of odd length 15, padded to 20: the plugin node's prototype
    against the original model at model level."""
    nodes, rewritten = rewrite(tmp_path, dft_model(opset, shape=(3, 15, 2), axis=1, length=20), capsys)
    assert nodes["dft"]["action"] == "replaced"
    onnx.checker.check_model(rewritten)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"


def reference(x: np.ndarray, attrs: dict, length: int | None, opset: int = 20) -> np.ndarray:
    from onnx.reference import ReferenceEvaluator

    feeds, names = {"x": x}, ["x"]
    if length is not None:
        feeds["n"], names = np.array(length, np.int64), ["x", "n"]
    node = helper.make_node("DFT", names, ["y"], **attrs)
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), None) for n in names]
    graph = helper.make_graph([node], "r", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return ReferenceEvaluator(model).run(None, feeds)[0]


@pytest.mark.parametrize("seed", range(12))
def test_prototype_matches_onnx_reference_on_random_geometries(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 5))
    shape = [int(v) for v in rng.integers(1, 20, rank - 1)] + [int(rng.integers(1, 3))]
    axis = int(rng.integers(0, rank - 1)) - (rank if rng.integers(0, 2) else 0)
    attrs = {"inverse": int(rng.integers(0, 2)), "onesided": int(rng.integers(0, 2)), "axis": axis}
    length = int(rng.integers(1, 40)) if rng.integers(0, 2) else None
    x = rng.standard_normal(shape).astype(np.float32)
    expected = reference(x, {"axis": axis, "inverse": attrs["inverse"], "onesided": attrs["onesided"]}, length, 17)
    prototype = pyplugin_module(load_registry().get("dft_17"))
    fields = {**attrs, "dft_length": length or 0}
    (out_shape,) = prototype.output_shapes([x], fields)
    assert out_shape == expected.shape
    got = np.full(out_shape, np.nan, np.float32)
    prototype.forward(np, [x], [got], fields)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_axis_naming_the_complex_axis_is_refused() -> None:
    prototype = pyplugin_module(load_registry().get("dft_20"))
    with pytest.raises(ValueError, match="axis -1 is out of range"):
        prototype.output_shapes([np.zeros((2, 8, 2), np.float32)], {"inverse": 0, "onesided": 0, "axis": -1})
