"""Col2Im beyond the parity cases: the spec's data_copy input role, the rewrite (two shape inputs,
block_shape passed again as a device tensor), the references themselves (onnx.reference against
a loop written from the ONNX definition; ONNX Runtime as a second opinion), the adapter's shape
rules, TensorRT-RTX's parser finding the plugin, and on a GPU the launcher and the plugin (through
the host's shape-input path) against torch F.fold."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view
from tests.test_rewrite_tensorrt_rtx import parse  # noqa: F401  (fixture: the RTX parser in a child process)
from trtplug.cli import main
from trtplug.errors import SpecError
from trtplug.parity.cases import default_attrs
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry
from trtplug.spec import load_spec

SPEC_PATH = Path(__file__).parent.parent / "plugins" / "col2im" / "spec.toml"
# (image, block, dilations, pads, strides): 1-D, 2-D and 3-D, every attribute, odd sizes.
GEOMETRIES = [
    ([9], [3], [1], [0, 0], [1]),
    ([17], [4], [2], [3, 1], [2]),
    ([5, 6], [2, 3], [1, 2], [0, 1, 1, 0], [2, 1]),
    ([13, 10], [3, 3], [2, 1], [2, 1, 1, 0], [3, 2]),
    ([4, 5, 6], [2, 3, 2], [1, 1, 2], [0, 1, 1, 1, 0, 0], [1, 2, 1]),
]


def counts(image, block, dilations, pads, strides) -> list[int]:
    n = len(image)
    return [
        max(0, (image[d] + pads[d] + pads[n + d] - dilations[d] * (block[d] - 1) - 1) // strides[d] + 1)
        for d in range(n)
    ]


def fold_loops(x, image, block, dilations, pads, strides) -> np.ndarray:
    """Col2Im as the ONNX definition states it, one column element at a time, in float64."""
    n = len(image)
    batch, kc, _ = x.shape
    kernel = math.prod(block)
    y = np.zeros((batch, kc // kernel, *image))
    positions = list(itertools.product(*map(range, counts(image, block, dilations, pads, strides))))
    for ki, k in enumerate(itertools.product(*map(range, block))):
        for li, b in enumerate(positions):
            at = [b[d] * strides[d] + k[d] * dilations[d] - pads[d] for d in range(n)]
            if all(0 <= at[d] < image[d] for d in range(n)):
                y[(slice(None), slice(None), *at)] += x[:, ki::kernel, li]
    return y


def col2im_model(x_shape, image, block, **attrs) -> onnx.ModelProto:
    node = helper.make_node("Col2Im", ["x", "image_shape", "block_shape"], ["y"], name="fold", **attrs)
    graph = helper.make_graph(
        [node],
        "col2im",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [x_shape[0], x_shape[1] // math.prod(block), *image])],
        [
            numpy_helper.from_array(np.array(v, np.int64), n)
            for n, v in (("image_shape", image), ("block_shape", block))
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def random_columns(rng, image, block, dilations, pads, strides, batch=2, channels=3) -> np.ndarray:
    length = math.prod(counts(image, block, dilations, pads, strides))
    return rng.standard_normal((batch, channels * math.prod(block), length)).astype(np.float32)


# ---- spec: the data_copy role ---------------------------------------------------------------


def test_spec_passes_block_shape_twice() -> None:
    spec = load_registry().get("col2im")
    assert [t.name for t in spec.plugin_inputs] == ["input", "image_shape", "block_shape"]
    assert [t.name for t in spec.data_copies] == ["block_shape"]
    assert [t.name for t in spec.inputs if t.shape_input] == ["image_shape", "block_shape"]


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("shape_input = true\ndata_copy = true", "data_copy = true", "inputs[2].data_copy", "required shape input"),
        ("data_copy = true", "data_copy = true\noptional = true", "inputs[2].data_copy", "required shape input"),
        ("data_copy = true", 'data_copy = "yes"', "inputs[2].data_copy", "expected bool"),
        ('shape = "dynamic:input"', 'shape = "dynamic:input"\ndata_copy = true', "outputs[0]", "inputs only"),
    ],
)
def test_invalid_data_copy_names_file_and_field(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    text = SPEC_PATH.read_text()
    assert old in text
    path = tmp_path / "col2im" / "spec.toml"
    path.parent.mkdir()
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value) and field in str(info.value) and problem in str(info.value)


# ---- rewrite ---------------------------------------------------------------------------------


def test_rewrite_makes_two_shape_inputs_and_a_device_copy(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "fold.onnx", tmp_path / "fold.plugins.onnx"
    onnx.save(col2im_model([2, 27, 20], [13, 10], [3, 3], dilations=[2, 1], pads=[2, 1, 1, 0], strides=[3, 2]), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    assert "block_shape again as a device tensor" in capsys.readouterr().out
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    (node,) = model.graph.node
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert (node.op_type, node.domain) == ("TrtplugCol2Im", "trtplug")
    assert list(node.input) == ["x", "image_shape", "block_shape", "block_shape"]
    assert fields["tensorrt_plugin_shape_input_indices"] == [1, 2]
    assert (fields["dilations"], fields["pads"], fields["strides"]) == ([2, 1], [2, 1, 1, 0], [3, 2])
    assert fields["plugin_version"] == b"1" and fields["plugin_namespace"] == b"trtplug"
    assert main(["parity", "--model", str(source), "--rewritten", str(out)]) == 0
    assert "pass" in capsys.readouterr().out


def test_rewrite_fills_absent_attributes_with_empty_defaults(tmp_path: Path) -> None:
    source, out = tmp_path / "fold.onnx", tmp_path / "fold.plugins.onnx"
    onnx.save(col2im_model(["N", 12, 16], [5, 5], [2, 2]), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    (node,) = onnx.load(out).graph.node
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert (fields["dilations"], fields["pads"], fields["strides"]) == ([], [], [])


# ---- the references ---------------------------------------------------------------------------


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{len(g[0])}d-{g[0]}")
def test_onnx_reference_and_prototype_match_the_definition(geometry, seed: int) -> None:
    from onnx.reference import ReferenceEvaluator

    image, block, dilations, pads, strides = geometry
    x = random_columns(np.random.default_rng(seed), *geometry)
    expected = fold_loops(x, *geometry)
    model = col2im_model(list(x.shape), image, block, dilations=dilations, pads=pads, strides=strides)
    (got,) = ReferenceEvaluator(model).run(None, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    y = np.full(expected.shape, np.nan, dtype=np.float32)
    attrs = {"dilations": dilations, "pads": pads, "strides": strides}
    pyplugin_module(load_registry().get("col2im")).forward(np, [x, np.array(image), np.array(block)], [y], attrs)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{len(g[0])}d-{g[0]}")
def test_onnx_runtime_second_opinion(geometry, seed: int) -> None:
    """ONNX Runtime CPU agrees, except on 1-D and 3-D inputs with dilations > 1 (1.32 disagrees with
    the definition there; its 2-D path is right), which is why the spec's reference is onnx.reference."""
    ort = pytest.importorskip("onnxruntime")
    image, block, dilations, pads, strides = geometry
    x = random_columns(np.random.default_rng(seed), *geometry)
    model = col2im_model(list(x.shape), image, block, dilations=dilations, pads=pads, strides=strides)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x})
    agrees = np.allclose(got, fold_loops(x, *geometry), rtol=1e-5, atol=1e-5)
    if not agrees and len(image) != 2 and max(dilations) > 1:
        pytest.skip(f"ONNX Runtime {ort.__version__} disagrees with the definition on dilated 1-D/3-D Col2Im")
    assert agrees


@pytest.mark.parametrize("shape", [(0, 12, 16), (2, 0, 16)])
def test_prototype_empty_batch_or_channels(shape) -> None:
    spec = load_registry().get("col2im")
    prototype, attrs = pyplugin_module(spec), default_attrs(spec)  # callers pass every spec attribute
    x, image, block = np.zeros(shape, np.float32), np.array([5, 5]), np.array([2, 2])
    (out_shape,) = prototype.output_shapes([x, image, block], attrs)
    assert out_shape == (shape[0], shape[1] // 4, 5, 5)
    prototype.forward(np, [x, image, block], [np.empty(out_shape, np.float32)], attrs)


def test_prototype_rejects_columns_that_do_not_fit() -> None:
    prototype = pyplugin_module(load_registry().get("col2im"))
    with pytest.raises(ValueError, match="does not fit"):
        prototype.forward(
            np,
            [np.zeros((1, 4, 15), np.float32), np.array([5, 5]), np.array([2, 2])],
            [np.empty((1, 1, 5, 5), np.float32)],
            default_attrs(load_registry().get("col2im")),
        )


# ---- the adapter's shape rules (plugin library through the host, no GPU needed) ---------------

NO_ATTRS = {"dilations": [], "pads": [], "strides": []}


def create(library, **fields):
    plugin = library.create("TrtplugCol2Im", "1", "trtplug", {**NO_ATTRS, **fields})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shapes", "shape_inputs", "expected"),
    [
        ({}, [[2, 12, 16], [2]], [[5, 5], [2, 2]], [2, 3, 5, 5]),
        (
            {"pads": [2, 1, 1, 0], "strides": [3, 2], "dilations": [2, 1]},
            [[2, 27, 20], [2]],
            [[13, 10], [3, 3]],
            [2, 3, 13, 10],
        ),
        ({}, [["N", "CK", "L"], [1]], [[9], [3]], ["N", "floordiv(CK, 3)", 9]),
        ({}, [["N", 12, "L"], [2]], [["H", "W"], ["A", "B"]], ["N", "floordiv(12, (A * B))", "H", "W"]),
    ],
)
def test_output_shape_from_the_shape_inputs(library, fields, shapes, shape_inputs, expected):
    assert create(library, **fields).output_shapes(shapes, shape_inputs) == [expected]


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shapes", "shape_inputs", "message"),
    [
        ({}, [[2, 12, 16], [2]], None, "expected the shape inputs image_shape and block_shape"),
        ({}, [[1, 24, 40], [3]], [[4, 5, 6], [2, 3, 2]], "input dim 2 (L) must be the number of block positions, 45"),
        ({}, [[2, 12, 16], [2]], [[5, 5], [2]], "image_shape has 2 values but block_shape 1"),
        ({}, [[2, 13, 16], [2]], [[5, 5], [2, 2]], "input dim 1 must be a multiple of prod(block_shape) = 4"),
        ({}, [[2, 12, 16], [2]], [[5, 5], [0, 2]], "block_shape values must be >= 1"),
        ({}, [[2, 12], [2]], [[5, 5], [2, 2]], "input must be (N, C * prod(block_shape), L), got rank 2"),
        ({"pads": [1, 1, 1]}, [[2, 12, 16], [2]], [[5, 5], [2, 2]], "pads has 3 values for 2 axes"),
        ({"strides": [1]}, [[2, 12, 16], [2]], [[5, 5], [2, 2]], "strides has 1 values for 2 axes"),
    ],
)
def test_bad_shapes_are_refused(library, fields, shapes, shape_inputs, message):
    with pytest.raises(RuntimeError) as err:
        create(library, **fields).output_shapes(shapes, shape_inputs)
    assert message in str(err.value)


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dilations": [1, 0]}, "attribute 'dilations': element 1 (0) is below the minimum 1"),
        ({"strides": [-1]}, "attribute 'strides': element 0 (-1) is below the minimum 1"),
        ({"pads": [0, -2]}, "attribute 'pads': element 1 (-2) is below the minimum 0"),
    ],
)
def test_bad_fields_are_refused(library, log, fields, message):
    assert library.create("TrtplugCol2Im", "1", "trtplug", {**NO_ATTRS, **fields}) is None
    assert any(message in text for _, text in log())


@pytest.mark.pluginlib
def test_types_formats_and_round_trip(library):
    plugin = create(library, pads=[1, 1, 1, 1])
    assert plugin.output_types(["float16", "int64"]) == ["float16"]
    with pytest.raises(RuntimeError, match="block_shape \\(device copy\\) must be int64, got int32"):
        plugin.output_types(["float32", "int32"])
    with pytest.raises(RuntimeError, match="input must be float32, float16 or bfloat16, got int32"):
        plugin.output_types(["int32", "int64"])
    assert plugin.supports_format_combination(["float32", "int64", "float32"])
    assert not plugin.supports_format_combination(["float32", "int32", "float32"])
    assert not plugin.supports_format_combination(["float16", "int64", "float32"])
    assert plugin.round_trip().fields_to_serialize() == {**NO_ATTRS, "pads": [1, 1, 1, 1]}


def test_tensorrt_rtx_parser_creates_the_plugin(parse, tmp_path: Path) -> None:  # noqa: F811
    source, out = tmp_path / "fold.onnx", tmp_path / "fold.plugins.onnx"
    onnx.save(col2im_model([2, 18, 20], [9, 8], [3, 3], pads=[1, 1, 1, 1], strides=[2, 2]), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    log = parse(out)
    assert "Searching for plugin: TrtplugCol2Im, plugin_version: 1, plugin_namespace: trtplug" in log, log
    assert "Successfully created plugin: TrtplugCol2Im" in log, log


# ---- on a GPU: the launcher and the plugin against torch F.fold and the definition ------------

# (N, C, image, block, dilation, padding, stride) as F.fold takes them.
FOLD_CASES = [
    (2, 3, (9, 8), (3, 3), 1, 1, 2),
    (1, 4, (13, 10), (3, 2), (2, 1), (2, 1), (3, 2)),
    (3, 5, (7, 13), (1, 5), 1, 0, 1),
]


def onnx_attrs(dilation, padding, stride) -> tuple[list[int], list[int], list[int]]:
    def pair(v):
        return list(v) if isinstance(v, tuple) else [v, v]

    return pair(dilation), pair(padding) * 2, pair(stride)


def check_against_fold(ext, cp, torch, case, dtype) -> None:
    n, c, image, block, dilation, padding, stride = case
    dilations, pads, strides = onnx_attrs(dilation, padding, stride)
    length = math.prod(counts(image, block, dilations, pads, strides))
    x = torch.randn(n, c * math.prod(block), length, device="cuda").to(getattr(torch, dtype))
    fold = torch.nn.functional.fold
    expected = fold(x.float(), image, block, dilation=dilation, padding=padding, stride=stride).cpu().numpy()
    y = cp.full((n, c, *image), cp.nan, dtype=dtype)
    ext.col2im(
        [cp.asarray(x), cp.asarray(image, dtype=cp.int64), cp.asarray(block, dtype=cp.int64)],
        [y],
        {"dilations": dilations, "pads": pads, "strides": strides},
    )
    tol = 1e-5 if dtype == "float32" else 2e-3
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float32), expected, rtol=tol, atol=tol)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("case", FOLD_CASES, ids=lambda c: f"{c[2]}-{c[3]}")
def test_launcher_matches_torch_fold(ext, cp, dtype, case):
    check_against_fold(ext, cp, pytest.importorskip("torch"), case, dtype)


@pytest.mark.gpu
@pytest.mark.parametrize("case", [(16, 64, (128, 128), (3, 3), 1, 1, 1), (16, 64, (128, 128), (3, 3), 1, 1, 2)])
def test_large_launcher_matches_torch_fold(ext, cp, case):
    check_against_fold(ext, cp, pytest.importorskip("torch"), case, "float32")


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_plugin_reads_block_shape_from_its_device_copy(library, cp, dtype):
    geometry = ([9, 8], [3, 3], [1, 1], [1, 1, 1, 1], [2, 2])
    x = host_values(random_columns(np.random.default_rng(0), *geometry, batch=1, channels=2), dtype)
    plugin = create(library, pads=[1, 1, 1, 1], strides=[2, 2])
    _, y = poisoned_view(cp, (1, 2, 9, 8), dtype)
    plugin.run([offset_view(cp, x), cp.asarray([3, 3], dtype=cp.int64)], [y], shape_inputs=[[9, 8], [3, 3]])
    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}[dtype]
    expected = fold_loops(x.astype(np.float32), *geometry)
    np.testing.assert_allclose(as_float64(y), expected, rtol=tol, atol=tol)
    # A device copy that disagrees with the shape inputs (20 block positions, not 6): NaN, no stray read.
    plugin.run([offset_view(cp, x), cp.asarray([1, 9], dtype=cp.int64)], [y], shape_inputs=[[9, 8], [3, 3]])
    assert np.isnan(as_float64(y)).all()
    with pytest.raises(RuntimeError, match="block positions"):
        plugin.run([offset_view(cp, x), cp.asarray([3, 3], dtype=cp.int64)], [y], shape_inputs=[[9, 8], [3, 2]])


@pytest.mark.gpu
@pytest.mark.pluginlib
def test_empty_batch_runs_nothing(ext, library, cp):
    x, block = cp.zeros((0, 12, 16), dtype=cp.float32), cp.asarray([2, 2], dtype=cp.int64)
    y = cp.empty((0, 3, 5, 5), dtype=cp.float32)
    image = cp.asarray([5, 5], dtype=cp.int64)
    ext.col2im([x, image, block], [y])
    create(library).run([x, block], [y], shape_inputs=[[5, 5], [2, 2]])
    with pytest.raises(ValueError, match="multiple of its channels"):
        ext.col2im([cp.zeros((1, 13, 16), dtype=cp.float32), image, block], [cp.empty((1, 3, 5, 5), dtype=cp.float32)])


@pytest.mark.gpu
def test_binding_rejects_what_the_spec_forbids(ext, cp):
    """The glue checks the spec's value rules (strides >= 1, pads >= 0) before any launch."""
    x, block = cp.zeros((1, 12, 16), dtype=cp.float32), cp.asarray([2, 2], dtype=cp.int64)
    image = cp.asarray([5, 5], dtype=cp.int64)
    y = cp.full((1, 3, 5, 5), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="col2im: attribute 'strides'"):
        ext.col2im([x, image, block], [y], {"strides": [0, 1]})
    with pytest.raises(ValueError, match="col2im: attribute 'pads'"):
        ext.col2im([x, image, block], [y], {"pads": [0, -1, 0, 0]})
    with pytest.raises(ValueError, match="col2im: strides has 1 values for 2 axes"):
        ext.col2im([x, image, block], [y], {"strides": [1]})
    with pytest.raises(ValueError, match="col2im: image_shape must be int64"):
        ext.col2im([x, image[:1], block], [y])
    assert bool(cp.isnan(y).all())
