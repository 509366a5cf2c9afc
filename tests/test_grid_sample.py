"""GridSample beyond the parity cases: the rewrite per TensorRT target (5-D only before 11.2, bf16
always, mmcv's op everywhere), a 5-D block rewritten and compared at model level against ONNX
Runtime, the ONNX and torch padding orders, the opset-16 mode names, and the mmcv reference
against the prototype on random geometries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.grid_roi_models import volumetric_grid_sample_block
from trtplug.cli import main
from trtplug.parity.impl_base import pyplugin_module
from trtplug.parity.reference import _numpy_reference_module, numpy_reference_path
from trtplug.protolib.grid_sampling import grid_sample
from trtplug.registry import load_registry


def rewrite_report(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {n["node"]: n for n in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize(("target", "rank", "replaced"), [
    ("10.8", 5, True), ("11.0", 5, True), ("11.2", 5, False), ("11.5", 5, False),
    ("10.8", 4, False), ("11.5", 4, False),
])  # fmt: skip
def test_rewrite_replaces_only_what_the_target_rejects(tmp_path: Path, capsys, target: str, rank: int, replaced: bool):
    nodes, rewritten = rewrite_report(
        tmp_path, volumetric_grid_sample_block(rank=rank), capsys, "--trt-version", target
    )
    node = nodes["grid_sample"]
    if replaced:
        assert node["action"] == "replaced"
        assert [n.op_type for n in rewritten.graph.node][2] == "TrtplugGridSample"
    else:
        assert node["action"] == "left" and "imports it natively" in node["reason"]


@pytest.mark.parametrize("target", ["10.8", "11.5"])
def test_bf16_is_replaced_for_tensorrt_even_in_4d(tmp_path: Path, capsys, target: str) -> None:
    """TensorRT's GridSample takes fp32 and fp16 only (check data)."""
    model = volumetric_grid_sample_block(rank=4, elem=TensorProto.BFLOAT16)
    nodes, _ = rewrite_report(tmp_path, model, capsys, "--trt-version", target)
    assert nodes["grid_sample"]["action"] == "replaced"


def test_default_target_tensorrt_rtx_imports_5d(tmp_path: Path, capsys) -> None:
    pytest.importorskip("tensorrt_rtx", reason="the default target is TensorRT-RTX's parser here")
    nodes, _ = rewrite_report(tmp_path, volumetric_grid_sample_block(), capsys)
    assert nodes["grid_sample"]["action"] == "left" and "tensorrt_rtx" in nodes["grid_sample"]["reason"]


def mmcv_model() -> onnx.ModelProto:
    node = helper.make_node(
        "grid_sampler", ["x", "grid"], ["y"], name="mmcv_gs", domain="mmcv",
        interpolation_mode=2, padding_mode=1, align_corners=1,
    )  # fmt: skip
    graph = helper.make_graph(
        [node],
        "mmcv",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 9]),
            helper.make_tensor_value_info("grid", TensorProto.FLOAT, [1, 4, 5, 2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 5])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("mmcv", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


@pytest.mark.parametrize("target", ["10.8", "11.5", None])
def test_mmcv_grid_sampler_is_replaced_for_every_target(tmp_path: Path, capsys, target) -> None:
    options = ["--trt-version", target] if target else []
    nodes, rewritten = rewrite_report(tmp_path, mmcv_model(), capsys, *options)
    assert nodes["mmcv_gs"]["action"] == "replaced"
    (node,) = rewritten.graph.node
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert node.op_type == "TrtplugMmcvGridSampler"
    assert (fields["interpolation_mode"], fields["padding_mode"], fields["align_corners"]) == (2, 1, 1)


# ONNX Runtime has no 5-D cubic: cubic runs on the 4-D block, replaced through --all-covered.
@pytest.mark.parametrize(
    ("mode", "rank", "options"),
    [
        ("linear", 5, ("--trt-version", "10.8")),
        ("nearest", 5, ("--trt-version", "10.8")),
        ("cubic", 4, ("--all-covered",)),
    ],
)
def test_block_rewritten_and_compared_at_model_level(tmp_path: Path, capsys, mode: str, rank: int, options) -> None:
    """The volumetric block rewritten, then ONNX Runtime on the original against the plugin
    node's prototype between ONNX Runtime's Add/Mul/Relu."""
    model = volumetric_grid_sample_block(mode=mode, rank=rank)
    nodes, rewritten = rewrite_report(tmp_path, model, capsys, *options)
    assert nodes["grid_sample"]["action"] == "replaced"
    onnx.checker.check_model(rewritten, full_check=True)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=2", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugGridSample"]


def test_model_parity_catches_a_wrong_plugin(tmp_path: Path, capsys, monkeypatch) -> None:
    rewrite_report(tmp_path, volumetric_grid_sample_block(), capsys, "--trt-version", "10.8")
    module = pyplugin_module(load_registry().get("onnx_grid_sample"))
    real = module.forward

    def align_flipped(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, {**attrs, "align_corners": 1 - attrs["align_corners"]})

    monkeypatch.setattr(module, "forward", align_flipped)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=1"]) != 0


def onnxruntime_grid_sample(x: np.ndarray, grid: np.ndarray, opset: int, **attrs) -> np.ndarray:
    """ONNX Runtime's CPU GridSample (onnx.reference knows only opset 20's mode names)."""
    ort = pytest.importorskip("onnxruntime")

    node = helper.make_node("GridSample", ["x", "grid"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("x", "grid")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x, "grid": grid})[0]


@pytest.mark.parametrize(("old", "new"), [("bilinear", "linear"), ("bicubic", "cubic"), ("nearest", "nearest")])
def test_opset16_mode_names_are_opset20s(old: str, new: str) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 6, 7)).astype(np.float32)
    grid = (rng.standard_normal((1, 4, 3, 2)) * 0.8).astype(np.float32)
    expected = onnxruntime_grid_sample(x, grid, 16, mode=old, padding_mode="reflection")
    y = np.empty_like(expected)
    pyplugin_module(load_registry().get("onnx_grid_sample")).forward(
        np, [x, grid], [y], {"mode": old, "padding_mode": "reflection", "align_corners": 0}
    )
    np.testing.assert_allclose(y, expected, atol=1e-5)
    np.testing.assert_array_equal(grid_sample(np, x, grid, new, "reflection", False, "onnx"), y)


def test_onnx_and_torch_orders_differ_only_where_documented() -> None:
    """Bicubic with border padding just outside the image: ONNX clamps the coordinate to the
    edge pixel, torch pads each tap (the edge value is weighted by the taps that fall outside)."""
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 1, 6) ** 2
    grid = np.array([[[[-1.1, 0.0]]]], np.float32)  # x = -0.8 (align_corners 0): outside [-0.5, 5.5]
    onnx_y = grid_sample(np, x, grid, "cubic", "border", False, "onnx")
    torch_y = grid_sample(np, x, grid, "cubic", "border", False, "torch")
    assert onnx_y.item() == pytest.approx(0.0)  # the edge pixel exactly
    assert torch_y.item() != pytest.approx(0.0)
    for mode in ("linear", "nearest"):
        assert grid_sample(np, x, grid, mode, "border", False, "onnx") == grid_sample(
            np, x, grid, mode, "border", False, "torch"
        )


@pytest.mark.parametrize("align", [0, 1])
def test_onnxruntime_pads_bicubic_border_taps_as_torch(align: int) -> None:
    """Where the references disagree: ONNX Runtime's bicubic with border padding pads each tap as
    torch does; onnx.reference (the plugin's reference, and the ONNX conformance data's) clamps
    the coordinate first. Elsewhere the two orders agree."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 6, 7)).astype(np.float32)
    grid = (rng.standard_normal((1, 4, 3, 2)) * 0.8).astype(np.float32)
    ort_y = onnxruntime_grid_sample(x, grid, 20, mode="cubic", padding_mode="border", align_corners=align)
    np.testing.assert_allclose(grid_sample(np, x, grid, "cubic", "border", bool(align), "torch"), ort_y, atol=1e-5)
    assert np.abs(grid_sample(np, x, grid, "cubic", "border", bool(align), "onnx") - ort_y).max() > 1e-2


@pytest.mark.parametrize("trial", range(6))
def test_mmcv_prototype_matches_the_numpy_reference_on_random_geometries(trial: int) -> None:
    rng = np.random.default_rng(100 + trial)
    rank = 4 + trial % 2
    spatial = tuple(int(v) for v in rng.integers(1, 9, rank - 2))
    out = tuple(int(v) for v in rng.integers(1, 6, rank - 2))
    x = rng.standard_normal((2, 3, *spatial)).astype(np.float32)
    grid = (rng.standard_normal((2, *out, rank - 2)) * 1.5).astype(np.float32)
    spec = load_registry().get("mmcv_grid_sampler")
    reference = _numpy_reference_module(numpy_reference_path(spec)).reference
    for mode in range(3):
        for padding in range(3):
            attrs = {"interpolation_mode": mode, "padding_mode": padding, "align_corners": trial % 3 == 0}
            (expected,) = reference({"X": x, "grid": grid}, attrs)
            y = np.empty(expected.shape, np.float32)
            pyplugin_module(spec).forward(np, [x, grid], [y], attrs)
            np.testing.assert_allclose(y, expected, atol=2e-5, err_msg=str(attrs))


def test_grid_with_the_wrong_coordinate_count_is_refused() -> None:
    x = np.zeros((1, 1, 4, 4, 4), np.float32)
    with pytest.raises(ValueError, match="last dimension 2 must equal X's spatial rank 3"):
        grid_sample(np, x, np.zeros((1, 2, 2, 2), np.float32), "linear", "zeros", False, "onnx")
