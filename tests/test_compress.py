"""Compress beyond the parity cases: data-dependent output shapes through a size tensor.

CPU: the plugin's shape rule (a declared size tensor bounded by min(axis length, condition
length)), the rewrite naming the size-tensor output, model-level parity of a rewritten model,
TensorRT-RTX's parser creating the plugin. GPU: the plugin host's size-tensor run path (outputs
at their upper bounds, actual shapes read back) and the launcher's count check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.device_arrays import host_values, offset_view
from tests.test_rewrite_tensorrt_rtx import parse  # noqa: F401  (fixture)
from trtplug.cli import main
from trtplug.protolib.dtypes import to_host

FLATTENED = -(2**31)


def create(library, axis=FLATTENED):
    plugin = library.create("TrtplugCompress", "1", "trtplug", {"axis": axis})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("axis", "shapes", "expected"),
    [
        (FLATTENED, [[4, 5], [20]], [["size_tensor(1)"], []]),
        (1, [[4, 5, 6], [3]], [[4, "size_tensor(1)", 6], []]),
        (-1, [["N", 7], [7]], [["N", "size_tensor(1)"], []]),
    ],
)
def test_output_shape_is_a_size_tensor(library, axis, shapes, expected):
    assert create(library, axis).output_shapes(shapes) == expected


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("axis", "shapes", "bounds"),
    [
        (FLATTENED, [[4, 5], [20]], [(20,), ()]),
        (FLATTENED, [[4, 5], [7]], [(7,), ()]),
        (0, [[9, 2], [30]], [(9, 2), ()]),
    ],
)
def test_upper_bound_is_the_selectable_count(library, axis, shapes, bounds):
    assert create(library, axis).output_bounds(shapes) == bounds


@pytest.mark.pluginlib
def test_types_and_rejections(library):
    plugin = create(library, 0)
    assert plugin.output_types(["float16", "bool"]) == ["float16", "int32"]
    with pytest.raises(RuntimeError, match="condition must be bool"):
        plugin.output_types(["float32", "int32"])
    with pytest.raises(RuntimeError, match="axis 2 out of range for rank 2"):
        create(library, 2).output_shapes([[3, 4], [3]])
    with pytest.raises(RuntimeError, match="condition must be 1-D"):
        plugin.output_shapes([[3, 4], [3, 1]])
    assert plugin.round_trip().fields_to_serialize() == {"axis": 0}


def compress_model(axis: int | None) -> onnx.ModelProto:
    extra = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["row_max"], axes=[1], keepdims=0, name="rowmax"),
        helper.make_node("Greater", ["row_max", "t"], ["mask"], name="keep"),
        helper.make_node("Compress", ["x", "mask"], ["kept"], name="compress", **extra),
        helper.make_node("Relu", ["kept"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "compress",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"] if axis is None else ["n", 5])],
        [helper.make_tensor("t", TensorProto.FLOAT, [], [0.5])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=9)


def rewritten(tmp_path: Path, axis: int | None) -> tuple[Path, Path]:
    source, out = tmp_path / "compress.onnx", tmp_path / "compress.plugins.onnx"
    onnx.save(compress_model(axis), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    return source, out


@pytest.mark.parametrize("axis", [None, 0])
def test_rewrite_names_the_size_tensor_and_keeps_parity(tmp_path: Path, capsys, axis) -> None:
    source, out = rewritten(tmp_path, axis)
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    node = next(n for n in model.graph.node if n.op_type == "TrtplugCompress")
    assert node.output[0] == "kept" and node.output[1] == "compress_output_count"
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["axis"] == (FLATTENED if axis is None else axis)
    count = next(v for v in model.graph.value_info if v.name == "compress_output_count")
    assert count.type.tensor_type.elem_type == TensorProto.INT32 and len(count.type.tensor_type.shape.dim) == 0
    report = capsys.readouterr().out
    if axis is None:  # the sentinel default stands for the absent attribute, and the report says so
        assert "absent on the node" in report
    assert main(["parity", "--model", str(source), "--rewritten", str(out)]) == 0
    assert "pass" in capsys.readouterr().out


def test_parser_creates_the_plugin_with_its_size_tensor(parse, tmp_path: Path) -> None:  # noqa: F811
    _, out = rewritten(tmp_path, 0)
    log = parse(out)
    assert "Successfully created plugin: TrtplugCompress" in log, log


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("dtype", "axis"), [("float16", 1), ("int64", FLATTENED), ("float32", -1), ("bfloat16", FLATTENED)]
)
def test_host_runs_at_upper_bounds_and_reads_the_count(library, dtype, axis):
    import cupy as cp

    rng = np.random.default_rng(3)
    x = host_values(rng.integers(-50, 50, (5, 9, 4)), dtype)
    length = x.size if axis == FLATTENED else x.shape[axis]
    condition = rng.integers(0, 2, length - 1).astype(bool)  # one short: the last slice is dropped
    expected = np.compress(condition, x, axis=None if axis == FLATTENED else axis)
    plugin = create(library, axis)
    bounds = plugin.output_bounds([x.shape, condition.shape])
    y = offset_view(cp, host_values(np.full(bounds[0], 77), dtype))
    count = cp.full((), -1, dtype=cp.int32)
    shapes = plugin.run([offset_view(cp, x), cp.asarray(condition)], [y, count])
    assert shapes == [expected.shape, ()] and int(count) == expected.shape[0 if axis == FLATTENED else axis]
    np.testing.assert_array_equal(to_host(cp, y).ravel()[: expected.size].reshape(expected.shape), expected)
    with pytest.raises(ValueError, match="upper bounds"):
        too_small = offset_view(cp, host_values(np.zeros(expected.shape), dtype))
        plugin.run([offset_view(cp, x), cp.asarray(condition)], [too_small, count])


@pytest.mark.gpu
def test_launcher_count_mismatch_is_reported(ext):
    import cupy as cp

    from trtplug.protolib.size_tensors import check_counts

    x = cp.arange(12, dtype=cp.float32).reshape(3, 4)
    condition = cp.asarray([True, False, True])
    y, count = cp.full((2, 4), cp.nan, dtype=cp.float32), cp.full((1,), -1, dtype=cp.int32)
    ext.compress([x, condition], [y, count], {"axis": 0})
    np.testing.assert_array_equal(cp.asnumpy(y), [[0, 1, 2, 3], [8, 9, 10, 11]])
    check_counts(cp, count, [2], "compress")
    with pytest.raises(RuntimeError, match=r"hold \[2\].*give \[3\]"):
        check_counts(cp, count, [3], "compress")
    with pytest.raises(ValueError, match="condition must be a 1-D bool"):
        ext.compress([x, condition.astype(cp.int32)], [y, count], {"axis": 0})
    with pytest.raises(ValueError, match="compress: axis out of range"):
        ext.compress([x, condition], [y, count], {"axis": 2})
    # The glue: only the spec's attributes, each of its type.
    with pytest.raises(ValueError, match="compress: unknown attribute 'axes'"):
        ext.compress([x, condition], [y, count], {"axes": 0})
    with pytest.raises(ValueError, match="compress: outputs 'output_count' is required"):
        ext.compress([x, condition], [y])


@pytest.mark.gpu
def test_launcher_takes_an_empty_outer_axis_with_long_slices(ext):
    """x (0, 4, 512) along axis 1: the slices are long enough for the whole-slice kernel, of which
    there are none to copy (it once launched 0 blocks and failed); the count is still written."""
    import cupy as cp

    x = cp.zeros((0, 4, 512), dtype=cp.float32)
    y, count = cp.zeros((0, 3, 512), dtype=cp.float32), cp.full((1,), -1, dtype=cp.int32)
    ext.compress([x, cp.asarray([True, False, True, True])], [y, count], {"axis": 1})
    assert int(count[0]) == 3
