"""uint8 images through the antialiased Resize (issue 18): torchvision's uint8 preprocessing exports
Resize on uint8. The semantics are onnx.reference's: the interpolation in float64, then rounded
half to even and clamped to 0..255 once (a saturating cast of np.round). Ours computes in float32
(intermediates too), so only an output within float32's error of a .5 may round the other way:
everywhere else the prototype and the kernel's per-output code (host check) must equal the
reference exactly, on outputs poisoned with a value that differs from the expected one.
ONNX Runtime CPU is not the reference here: it rounds and clamps after every pass (PIL-style),
off by 1 on linear and by up to ~24 where a cubic upscale overshoots (the spec says so)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.test_resize_antialias_gpu import onnx_reference
from trtplug.cli import main
from trtplug.parity.cases import default_cases
from trtplug.parity.impl_base import pyplugin_module
from trtplug.parity.runner import prepare
from trtplug.registry import load_registry

SPEC = load_registry().get("resize_antialias")

GEOMETRIES = {
    "down_odd": ((2, 3, 17, 23), {"scales": [1.0, 1.0, 0.5, 0.4]}),
    "down_sizes": ((1, 3, 40, 31), {"sizes": [1, 3, 9, 13]}),
    "up_and_down": ((2, 2, 10, 12), {"scales": [1.0, 1.0, 1.7, 0.3]}),
    "up_only": ((1, 2, 5, 6), {"scales": [1.0, 1.0, 2.5, 3.0]}),
    "nhwc": ((2, 21, 19, 3), {"axes": [1, 2], "sizes": [8, 7]}),
    "rank1": ((57,), {"scales": [0.29]}),
    "rank5": ((1, 2, 9, 10, 11), {"scales": [1.0, 1.0, 0.5, 0.6, 1.3]}),
    "one_pixel": ((2, 3, 9, 7), {"sizes": [2, 3, 1, 1]}),
    "one_element": ((1, 1, 1, 1), {"sizes": [1, 1, 1, 1]}),
    "empty_batch": ((0, 3, 16, 16), {"scales": [1.0, 1.0, 0.3, 0.3]}),
    "align_corners_exclude": (
        (2, 3, 15, 19),
        {"scales": [1.0, 1.0, 0.45, 0.7], "coordinate_transformation_mode": "align_corners", "exclude_outside": 1},
    ),
    "pytorch_half_pixel": (
        (1, 3, 33, 29),
        {"axes": [2, 3], "sizes": [224, 11], "coordinate_transformation_mode": "pytorch_half_pixel"},
    ),
    "tf_crop_and_resize": (
        (1, 2, 20, 24),
        {
            "roi": [-0.1, 0.15, 0.8, 1.2],
            "axes": [2, 3],
            "sizes": [6, 7],
            "coordinate_transformation_mode": "tf_crop_and_resize",
            "extrapolation_value": 200.7,
        },
    ),
}


def uint8_reference(x: np.ndarray, fields: dict) -> np.ndarray:
    """onnx.reference's Resize of the uint8 x, on a uint8 node."""
    from onnx.reference import ReferenceEvaluator

    feeds = {"x": x}
    names = ["x", "", "", ""]
    for i, (name, dtype) in enumerate([("roi", np.float32), ("scales", np.float32), ("sizes", np.int64)]):
        if fields.get(name):
            names[i + 1], feeds[name] = name, np.asarray(fields[name], dtype)
    while not names[-1]:
        names.pop()
    attrs = {k: v for k, v in fields.items() if k not in ("roi", "scales", "sizes")}
    node = helper.make_node("Resize", names, ["y"], **attrs)
    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), feeds[n].shape) for n in feeds
    ]
    graph = helper.make_graph([node], "r", inputs, [helper.make_tensor_value_info("y", TensorProto.UINT8, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    return ReferenceEvaluator(model).run(None, feeds)[0]


def image(shape, seed: int, kind: str) -> np.ndarray:
    """Random bytes, or a random 0/255 pattern (hard edges: a cubic kernel overshoots both ends)."""
    rng = np.random.default_rng(seed)
    if kind == "edges":
        return (rng.integers(0, 2, shape) * 255).astype(np.uint8)
    return rng.integers(0, 256, shape).astype(np.uint8)


def assert_matches_reference(y: np.ndarray, x: np.ndarray, fields: dict) -> None:
    """Equal to onnx.reference except by 1 where its unrounded value is within 1e-3 of a .5."""
    expected = uint8_reference(x, fields)
    unrounded = onnx_reference(x, fields)
    assert y.shape == expected.shape and y.dtype == np.uint8
    near_tie = np.abs(np.abs(unrounded - np.floor(unrounded)) - 0.5) < 1e-3
    diff = np.abs(y.astype(np.int64) - expected.astype(np.int64))
    assert diff.max(initial=0) <= 1 and not (diff[~near_tie] != 0).any(), np.argwhere((diff != 0) & ~near_tie)[:5]


def poisoned(x: np.ndarray, fields: dict) -> np.ndarray:
    """An output differing from the reference at every element (unwritten elements fail)."""
    return (uint8_reference(x, fields).astype(np.int64) + 128).astype(np.uint8)


def prototype_resize(x: np.ndarray, fields: dict) -> np.ndarray:
    y = poisoned(x, fields)
    pyplugin_module(SPEC).forward(np, [x], [y], fields)
    return y


@pytest.mark.parametrize("kind", ["bytes", "edges"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_prototype_matches_onnx_reference(name: str, mode: str, kind: str, seed: int) -> None:
    shape, given = GEOMETRIES[name]
    fields = {"antialias": 1, "mode": mode, **given}
    x = image(shape, seed, kind)
    assert_matches_reference(prototype_resize(x, fields), x, fields)


def test_cubic_overshoot_is_clamped_not_wrapped(seed: int) -> None:
    """The geometry overshoots both ends before the cast: 0 and 255 must come out, not wraps."""
    shape, given = GEOMETRIES["up_only"]
    fields = {"antialias": 1, "mode": "cubic", **given}
    x = image(shape, seed, "edges")
    unrounded = onnx_reference(x, fields)
    assert unrounded.min() < -0.5 and unrounded.max() > 255.5  # the clamp is exercised
    y = prototype_resize(x, fields)
    assert_matches_reference(y, x, fields)
    np.testing.assert_array_equal(y[unrounded < -0.5], 0)
    np.testing.assert_array_equal(y[unrounded > 255.5], 255)


def test_exact_halves_round_to_even(seed: int) -> None:
    """Halving with linear weights (1, 3, 3, 1) / 8 gives exact .5 sums in float32 and float64:
    half to even (np.round) there, where rounding half up would differ."""
    fields = {"antialias": 1, "mode": "linear", "scales": [1.0, 0.5]}
    x = image((64, 96), seed, "bytes")
    unrounded = onnx_reference(x, fields).astype(np.float64)
    halves = unrounded - np.floor(unrounded) == 0.5
    assert halves.sum() > 10 and (np.floor(unrounded[halves]) % 2 == 0).any()  # ties where half-up differs
    np.testing.assert_array_equal(prototype_resize(x, fields), uint8_reference(x, fields))


@pytest.mark.slow
@pytest.mark.parametrize("path", ["element", "table"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_kernel_per_output_code_matches_onnx_reference(tmp_path: Path, mode: str, path: str, seed: int) -> None:
    """The kernels' per-output functions and ResizeStore<uint8_t> (resize_math.cuh) on the host,
    float32 intermediates as runPasses<uint8_t, float> keeps them."""
    from tests.test_resize_antialias_host import build_host_check, run_host

    binary = build_host_check(tmp_path)
    for name, (shape, given) in GEOMETRIES.items():
        for kind in ("bytes", "edges"):
            fields = {"antialias": 1, "mode": mode, **given}
            x = image(shape, seed, kind)
            y, report = run_host(binary, tmp_path, x, fields, path, out="uint8")
            assert y is not None, f"{name}: {report}"
            assert np.array_equal(y, np.round(y)) and y.min(initial=0) >= 0 and y.max(initial=0) <= 255, name
            assert_matches_reference(y.astype(np.uint8), x, fields)
    fields = {"antialias": 1, "mode": "linear", "scales": [1.0, 0.5]}  # exact halves: to even
    x = image((64, 96), seed, "bytes")
    y, report = run_host(binary, tmp_path, x, fields, path, out="uint8")
    assert y is not None, report
    np.testing.assert_array_equal(y, uint8_reference(x, fields))


def test_parity_draws_uint8_images_over_the_whole_range(seed: int) -> None:
    """A uint8 parity run of this float op gets bytes over 0..255 (the float draws cast to a few)."""
    case = next(c for c in default_cases(SPEC) if c.name.startswith("large"))
    inputs, _ = prepare(SPEC, "uint8", case, seed)
    x = inputs["X"]
    assert x.dtype == np.uint8 and x.min() == 0 and x.max() == 255 and np.unique(x).size == 256


def test_rewrite_routes_uint8_resize(tmp_path: Path, capsys) -> None:
    """A uint8 antialiased Resize (torchvision's uint8 preprocessing) becomes the plugin node."""
    node = helper.make_node(
        "Resize", ["image", "", "", "sizes"], ["y"], name="resize", mode="linear", antialias=1, axes=[2, 3]
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, 64, 48])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 3, 20, 15])],
        [numpy_helper.from_array(np.array([20, 15], np.int64), "sizes")],
    )
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9), source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json"]) == 0
    (change,) = json.loads(capsys.readouterr().out)["changes"]
    assert change["action"] == "replaced", change
    (rewritten,) = onnx.load(out).graph.node
    assert rewritten.op_type == "TrtplugResizeAntialias" and list(rewritten.input) == ["image"]
