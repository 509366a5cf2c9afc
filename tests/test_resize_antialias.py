"""Resize with antialias = 1 beyond the parity cases: the rewrite (only antialias nodes, per
TensorRT target, constant inputs folded into fields, the reasons for nodes left alone), a
torchvision-style preprocessing block (Resize with a sizes input, then Normalize as Sub/Div)
rewritten and compared at model level, the prototype against onnx.reference on random
geometries, and the adapter's shape rules through the plugin host."""

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

MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


def preprocessing_model(mode: str = "linear", size=(224, 224), image=("N", 3, 512, 384)) -> onnx.ModelProto:
    """torchvision.transforms.v2.Resize(size, antialias=True) then Normalize, as exported (opset 18):
    Resize(x, "", "", sizes) with the full output shape, pytorch_half_pixel, then Sub and Div."""
    sizes = np.array([image[0], 3, *size], np.int64) if isinstance(image[0], int) else np.array(size, np.int64)
    attrs = {"axes": [2, 3]} if not isinstance(image[0], int) else {}
    resize = helper.make_node(
        "Resize",
        ["image", "", "", "sizes"],
        ["resized"],
        name="resize",
        mode=mode,
        antialias=1,
        coordinate_transformation_mode="pytorch_half_pixel",
        cubic_coeff_a=-0.75,
        nearest_mode="floor",
        **attrs,
    )
    nodes = [
        resize,
        helper.make_node("Sub", ["resized", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["out"]),
    ]
    inits = [
        numpy_helper.from_array(sizes, "sizes"),
        numpy_helper.from_array(MEAN, "mean"),
        numpy_helper.from_array(STD, "std"),
    ]
    graph = helper.make_graph(
        nodes,
        "preprocess",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(image))],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [image[0], 3, *size])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def two_resizes_model() -> onnx.ModelProto:
    """One antialiased Resize and one plain one (TensorRT's), side by side."""
    scales = numpy_helper.from_array(np.array([1, 1, 0.5, 0.5], np.float32), "scales")
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["a"], name="aa", mode="cubic", antialias=1),
        helper.make_node("Resize", ["x", "", "scales"], ["b"], name="plain", mode="linear"),
    ]
    graph = helper.make_graph(
        nodes,
        "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 32, 30])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3, 16, 15]) for n in "ab"],
        [scales],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)


def rewrite_report(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {n["node"]: n for n in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize("target", ["10.0", "10.8", "10.16", "11.0", "11.5", "10", "11"])
def test_rewrite_replaces_only_the_antialiased_resize(tmp_path: Path, capsys, target: str) -> None:
    nodes, rewritten = rewrite_report(tmp_path, two_resizes_model(), capsys, "--trt-version", target)
    assert nodes["aa"]["action"] == "replaced"
    assert nodes["plain"]["action"] == "left" and "imports it natively" in nodes["plain"]["reason"]
    by_name = {n.name: n for n in rewritten.graph.node}
    assert by_name["aa"].op_type == "TrtplugResizeAntialias" and list(by_name["aa"].input) == ["x"]
    assert by_name["plain"].op_type == "Resize"
    fields = {a.name: helper.get_attribute_value(a) for a in by_name["aa"].attribute}
    assert fields["scales"] == [1.0, 1.0, 0.5, 0.5] and fields["sizes"] == [] and fields["mode"] == b"cubic"
    assert "tensorrt_plugin_shape_input_indices" not in fields  # every shape fact is a field


def test_all_covered_says_why_other_resizes_stay(tmp_path: Path, capsys) -> None:
    model = two_resizes_model()
    extra = [
        helper.make_node("Resize", ["x", "", "scales"], ["c"], name="nearest_aa", antialias=1),
        helper.make_node("Shape", ["x"], ["dyn"]),
        helper.make_node("Resize", ["x", "", "", "dyn"], ["d"], name="runtime_sizes", mode="linear", antialias=1),
    ]
    model.graph.node.extend(extra)
    model.graph.output.extend([helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3, "h", "w"]) for n in "cd"])
    nodes, _ = rewrite_report(tmp_path, model, capsys, "--all-covered")
    assert nodes["aa"]["action"] == "replaced"
    assert "the ONNX default antialias=0 applies" in nodes["plain"]["reason"]
    assert "mode" in nodes["nearest_aa"]["reason"] and "nearest" in nodes["nearest_aa"]["reason"]
    assert "'sizes'" in nodes["runtime_sizes"]["reason"] and "not a constant" in nodes["runtime_sizes"]["reason"]


@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("image", [("N", 3, 512, 384), (2, 3, 333, 517)])
def test_preprocessing_block_rewritten_and_compared(tmp_path: Path, capsys, mode: str, image) -> None:
    """The antialias preprocessing block: rewritten for TensorRT 10.16, then ONNX Runtime on the
    original against the plugin node's prototype between ONNX Runtime's Sub/Div."""
    model = preprocessing_model(mode, image=image)
    nodes, rewritten = rewrite_report(tmp_path, model, capsys, "--trt-version", "10.16")
    assert nodes["resize"]["action"] == "replaced"
    assert [n.op_type for n in rewritten.graph.node] == ["TrtplugResizeAntialias", "Sub", "Div"]
    onnx.checker.check_model(rewritten, full_check=True)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=2", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugResizeAntialias"]


def test_model_parity_catches_a_wrong_plugin(tmp_path: Path, capsys, monkeypatch) -> None:
    """The model comparison fails when the plugin's prototype computes something else."""
    model = preprocessing_model()
    rewrite_report(tmp_path, model, capsys)
    module = pyplugin_module(load_registry().get("resize_antialias"))
    real = module.forward

    def without_antialias(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        outputs[0][..., ::2] = 0  # every other column wrong

    monkeypatch.setattr(module, "forward", without_antialias)
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=1"]) != 0


def reference(x: np.ndarray, attrs: dict, scales=None, sizes=None, roi=None) -> np.ndarray:
    """onnx.reference's Resize of x (float32)."""
    from onnx.reference import ReferenceEvaluator

    feeds = {"x": x}
    names = ["x", "", "", ""]
    for i, (name, value, dtype) in enumerate(
        [("roi", roi, np.float32), ("scales", scales, np.float32), ("sizes", sizes, np.int64)]
    ):
        if value is not None:
            names[i + 1], feeds[name] = name, np.asarray(value, dtype)
    while not names[-1]:
        names.pop()
    node = helper.make_node("Resize", names, ["y"], **attrs)
    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), feeds[n].shape)
        for n in names
        if n
    ]
    graph = helper.make_graph([node], "r", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    return ReferenceEvaluator(model).run(None, feeds)[0]


def random_geometry(rng: np.random.Generator, by_scales: bool) -> tuple[tuple[int, ...], dict, dict]:
    rank = int(rng.integers(2, 5))
    shape = tuple(int(v) for v in rng.integers(1, 24, rank))
    axes = sorted(rng.choice(rank, size=int(rng.integers(1, rank + 1)), replace=False).tolist())
    modes = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
    attrs = {
        "mode": str(rng.choice(["linear", "cubic"])),
        "antialias": 1,
        "axes": axes,
        "coordinate_transformation_mode": str(rng.choice(modes)),
        "cubic_coeff_a": float(rng.choice([-0.75, -0.5])),
        "exclude_outside": int(rng.integers(0, 2)),
    }
    if by_scales:
        return shape, attrs, {"scales": [float(np.float32(rng.uniform(0.1, 2.5))) for _ in axes]}
    return shape, attrs, {"sizes": [int(rng.integers(1, 30)) for _ in axes]}


def reference_misplaces_window(prototype, shape, fields: dict) -> bool:
    """onnx.reference picks the window from x + n/2 but weighs it from x: when x lies one ulp
    above an integer (e.g. (10 + 0.5) / 1.4 - 0.5), the sum rounds to the integer and its window
    is one pixel off from its weights. The definition (the n pixels nearest x) is unambiguous
    there; such geometries are redrawn rather than compared with that bug."""
    mode = fields["coordinate_transformation_mode"]
    for p in prototype.plan_axes(shape, fields):
        if not p.is_identity() and p.out_len and p.in_len:
            x, _ = prototype.source_coordinates(p, mode)
            near = np.abs(x - np.round(x))
            if np.any((near > 0) & (near < 1e-9)):
                return True
    return False


@pytest.mark.parametrize("trial", range(12))
def test_prototype_matches_onnx_reference_on_random_geometries(trial: int, seed: int) -> None:
    rng = np.random.default_rng([seed, trial])
    prototype = pyplugin_module(load_registry().get("resize_antialias"))
    shape, attrs, given = random_geometry(rng, trial % 2 == 1)
    while reference_misplaces_window(prototype, shape, {**attrs, **given}):
        shape, attrs, given = random_geometry(rng, trial % 2 == 1)
    x = rng.standard_normal(shape).astype(np.float32)
    expected = reference(x, attrs, **given)
    fields = {**attrs, **given}
    (out_shape,) = prototype.output_shapes([x], fields)
    assert out_shape == expected.shape
    y = np.full(out_shape, np.nan, np.float32)
    prototype.forward(np, [x], [y], fields)
    tol = load_registry().get("resize_antialias").tolerance("float32")  # float32 sums vs float64
    np.testing.assert_allclose(y, expected, rtol=tol.rtol, atol=tol.atol)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"scales": [0.5], "sizes": [3]}, "exactly one of scales and sizes"),
        ({}, "exactly one of scales and sizes"),
        ({"sizes": [3, 3]}, "one value per resized axis"),
    ],
)
def test_prototype_refuses_inconsistent_fields(attrs: dict, message: str) -> None:
    prototype = pyplugin_module(load_registry().get("resize_antialias"))
    with pytest.raises(ValueError, match=message):
        prototype.output_shapes([np.zeros((4, 5), np.float32)], {"mode": "linear", "axes": [1], **attrs})


# ---- the adapter's shape rules (plugin library through the host, no GPU needed) ---------------

FIELDS = {"antialias": 1, "mode": "linear"}
PLUGIN = ("trtplug", "TrtplugResizeAntialias")


@pytest.fixture
def library(library):
    """The plugin library, when it was built with this op (a stale build skips with the reason)."""
    if PLUGIN not in {(c["namespace"], c["name"]) for c in library.creators()}:
        pytest.skip("libtrtplug_plugins.so predates TrtplugResizeAntialias: rebuild it (scripts/setup.sh)")
    return library


def create(library, **fields):
    plugin = library.create("TrtplugResizeAntialias", "1", "trtplug", {**FIELDS, **fields})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shape", "expected"),
    [
        ({"sizes": [224, 224], "axes": [2, 3]}, ["N", 3, "H", "W"], ["N", 3, 224, 224]),
        ({"scales": [1.0, 1.0, 0.5, 0.25]}, ["N", 3, "H", 64], ["N", 3, "floordiv(H, 2)", 16]),
        ({"scales": [1.0, 2.0]}, ["N", "W"], ["N", "(W * 2)"]),
        ({"scales": [0.3], "axes": [3]}, [2, 3, 10, 9], [2, 3, 10, 2]),
        ({"sizes": [10, 10], "axes": [2, 3], "keep_aspect_ratio_policy": "not_larger"}, [1, 2, 30, 20], [1, 2, 10, 7]),
    ],
)
def test_output_shapes(library, fields, shape, expected):
    assert create(library, **fields).output_shapes([shape], None) == [expected]


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shape", "message"),
    [
        ({"scales": [1.0, 1.0, 0.3, 0.3]}, ["N", 3, "H", "W"], "needs a constant input dim"),
        (
            {"sizes": [5, 5], "axes": [2, 3], "keep_aspect_ratio_policy": "not_smaller"},
            [1, 3, "H", 8],
            "needs X's resized dims constant",
        ),
        ({"sizes": [5, 5]}, [1, 3, 8, 8], "one value per resized axis"),
        ({"sizes": [5], "scales": [0.5]}, [8], "exactly one of scales and sizes"),
        ({"sizes": [5], "axes": [3]}, [1, 8], "out of range"),
    ],
)
def test_bad_fields_or_shapes_are_refused(library, fields, shape, message):
    with pytest.raises(RuntimeError, match=message):
        create(library, **fields).output_shapes([shape], None)


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "message"),
    [({"antialias": 0}, "attribute 'antialias'"), ({"mode": "nearest"}, "attribute 'mode'")],
)
def test_fields_the_spec_forbids_are_refused(library, log, fields, message):
    assert library.create("TrtplugResizeAntialias", "1", "trtplug", {**FIELDS, "sizes": [2], **fields}) is None
    assert any(message in text for _, text in log())


@pytest.mark.pluginlib
def test_types_formats_and_round_trip(library):
    plugin = create(library, scales=[1.0, 0.5])
    assert plugin.output_types(["float16"]) == ["float16"]
    assert plugin.output_types(["bfloat16"]) == ["bfloat16"]
    assert plugin.output_types(["uint8"]) == ["uint8"]
    with pytest.raises(RuntimeError, match="X must be float32, float16, bfloat16 or uint8, got int32"):
        plugin.output_types(["int32"])
    assert plugin.supports_format_combination(["uint8", "uint8"])
    assert not plugin.supports_format_combination(["uint8", "float32"])
    assert plugin.supports_format_combination(["float32", "float32"])
    assert not plugin.supports_format_combination(["float16", "float32"])
    assert plugin.round_trip().fields_to_serialize()["scales"] == [1.0, 0.5]


@pytest.mark.parametrize(("mode", "filter_name"), [("linear", "BILINEAR"), ("cubic", "BICUBIC")])
@pytest.mark.parametrize("size", [(20, 13), (200, 13), (50, 50)])
def test_prototype_with_exclude_outside_is_pillows_resize(mode: str, filter_name: str, size) -> None:
    """A second, independent reference: Pillow's reducing resize (which torch's antialias=True
    follows) is ONNX's antialiased Resize with exclude_outside = 1 and cubic_coeff_a = -0.5."""
    image = pytest.importorskip("PIL.Image")
    x = np.random.default_rng(7).standard_normal((97, 61)).astype(np.float32)
    expected = np.asarray(image.fromarray(x, mode="F").resize(size[::-1], getattr(image, filter_name)))
    fields = {"mode": mode, "antialias": 1, "sizes": list(size), "exclude_outside": 1, "cubic_coeff_a": -0.5}
    y = np.full(size, np.nan, np.float32)
    pyplugin_module(load_registry().get("resize_antialias")).forward(np, [x], [y], fields)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
