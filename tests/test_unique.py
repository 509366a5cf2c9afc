"""Unique (data-dependent output shapes through a size tensor) beyond the parity cases: the spec,
the reference against ONNX Runtime, the rewrite of a Unique node into a TrtplugUnique node whose
size tensor is named, TensorRT-RTX's parser finding the plugin; with the plugin library, the
adapter's shapes (declareSizeTensor) through the plugin host; on a GPU, the launcher's NumPy
float semantics, a CUDA graph replay, and the plugin's actual shapes read from the size tensor."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.device_arrays import offset_view
from trtplug.cli import main
from trtplug.protolib.dtypes import numpy_dtype, to_host
from trtplug.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
FLATTEN = -(2**31)
OUTPUTS = ["Y", "indices", "inverse_indices", "counts"]


def reference_module():
    loader = importlib.util.spec_from_file_location("unique_reference", ROOT / "plugins/unique/reference.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def unique_model(shape, outputs, elem=TensorProto.FLOAT, **attrs) -> onnx.ModelProto:
    node = helper.make_node("Unique", ["x"], outputs, name="uniq", **attrs)
    y_rank = len(shape) if "axis" in attrs else 1
    graph = helper.make_graph(
        [node],
        "unique",
        [helper.make_tensor_value_info("x", elem, shape)],
        [
            helper.make_tensor_value_info(
                n, elem if i == 0 else TensorProto.INT64, [f"d{j}" for j in range(y_rank if i == 0 else 1)]
            )
            for i, n in enumerate(outputs)
            if n
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=9)


def test_spec_declares_the_count_as_a_size_tensor() -> None:
    spec = load_registry().get("unique")
    assert spec.plugin.name == "TrtplugUnique"
    assert [t.name for t in spec.plugin_outputs] == [*OUTPUTS, "unique_count"]
    assert spec.size_tensors[0].type == "int32"
    assert all(t.shape == "dynamic:X" for t in spec.outputs)
    assert {a.name: a.default for a in spec.attributes} == {"axis": FLATTEN, "sorted": 1}


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize(("shape", "axis"), [((6, 7), None), ((5, 40), 1), ((30, 3), 0), ((4, 9, 3), -2)])
@pytest.mark.parametrize("is_sorted", [0, 1])
def test_reference_agrees_with_onnxruntime(dtype, shape, axis, is_sorted, seed) -> None:
    """The reference (onnx.reference, unsorted order corrected) is what ONNX Runtime computes."""
    import onnxruntime as ort

    from trtplug.parity.generators import unique_repeats

    attrs = {"sorted": is_sorted} if axis is None else {"sorted": is_sorted, "axis": axis}
    x = unique_repeats({"X": shape}, attrs, np.random.default_rng(seed))["X"].astype(dtype)
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    model = unique_model(shape, OUTPUTS, elem, **attrs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})
    actual = reference_module().reference({"X": x}, {"axis": FLATTEN, **attrs})
    for name, a, e in zip(OUTPUTS, actual, expected, strict=True):
        np.testing.assert_array_equal(a, e, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("is_sorted", [0, 1])
def test_prototype_nan_and_signed_zero_as_numpy(dtype, is_sorted) -> None:
    """NaNs are one value, sorted last; -0.0 == 0.0, Y holding the first occurrence's sign."""
    from trtplug.parity.impl_base import pyplugin_module

    prototype = pyplugin_module(load_registry().get("unique"))
    x = np.array([np.nan, 1, -0.0, np.nan, 0.0, -np.inf, 1, -np.nan, np.inf], dtype=dtype)
    attrs = {"axis": FLATTEN, "sorted": is_sorted}
    expected = reference_module().reference({"X": x.astype(np.float32)}, attrs)
    outs = [
        np.zeros(shape, dtype=dtype if i == 0 else np.int64)
        for i, shape in enumerate(prototype.output_shapes([x], attrs))
    ]
    prototype.forward(np, [x], outs, attrs)
    for name, a, e in zip(OUTPUTS, outs, expected, strict=True):
        np.testing.assert_array_equal(a, e.astype(a.dtype), err_msg=name)
    assert np.signbit(outs[0][expected[1] == 2]).all()


def rewrite(tmp_path: Path, model: onnx.ModelProto) -> onnx.ModelProto:
    source, out = tmp_path / "unique.onnx", tmp_path / "unique.plugins.onnx"
    onnx.save(model, source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    return onnx.load(out)


def fields(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def test_rewrite_names_every_output_and_the_size_tensor(tmp_path: Path) -> None:
    """A Unique using Y only: the plugin still produces the four outputs and the count, all named."""
    rewritten = rewrite(tmp_path, unique_model([4, 6], ["y"]))
    onnx.checker.check_model(rewritten, full_check=True)
    (node,) = rewritten.graph.node
    assert (node.op_type, node.domain) == ("TrtplugUnique", "trtplug")
    assert len(node.output) == 5 and node.output[0] == "y" and all(node.output)
    assert len(set(node.output)) == 5
    assert node.output[4].endswith("unique_count")
    assert fields(node) == {"axis": FLATTEN, "sorted": 1, "plugin_version": b"1", "plugin_namespace": b"trtplug"}


def test_rewrite_keeps_axis_and_sorted_with_model_parity(tmp_path: Path, capsys) -> None:
    source = unique_model([5, 8], ["y", "", "inv", "counts"], axis=-1, sorted=0)
    rewritten = rewrite(tmp_path, source)
    (node,) = rewritten.graph.node
    assert list(node.output[:4]) == ["y", node.output[1], "inv", "counts"] and node.output[1]
    assert fields(node)["axis"] == -1 and fields(node)["sorted"] == 0
    capsys.readouterr()
    code = main(
        ["parity", "--model", str(tmp_path / "unique.onnx"), "--rewritten", str(tmp_path / "unique.plugins.onnx")]
    )
    assert code == 0, capsys.readouterr().out


def test_rewrite_leaves_unsupported_dtypes(tmp_path: Path, capsys) -> None:
    rewritten = rewrite(tmp_path, unique_model([4], ["y"], TensorProto.INT8))
    assert rewritten.graph.node[0].op_type == "Unique"
    assert "int8" in capsys.readouterr().out


@pytest.mark.pluginlib
def test_tensorrt_rtx_parser_finds_the_plugin(tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import require_built
    from tests.test_rewrite_tensorrt_rtx import PARSE, rtx_python
    from trtplug import native

    library = native.plugin_library_path()
    require_built("libtrtplug_plugins.so", library is not None, native.native_status()["plugin_library"])
    python = rtx_python()
    if python is None:
        pytest.skip("no Python with tensorrt_rtx here")
    rewrite(tmp_path, unique_model([4, 6], ["y", "i", "v", "c"], axis=1))
    done = subprocess.run(
        [python, "-c", PARSE, str(library), str(tmp_path / "unique.plugins.onnx")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = done.stdout + done.stderr
    assert "Searching for plugin: TrtplugUnique, plugin_version: 1, plugin_namespace: trtplug" in log, log
    assert "Successfully created plugin: TrtplugUnique" in log, log


# ---- the adapter through the plugin host (needs the plugin library) ---------------------------


def create(library, axis=FLATTEN, is_sorted=1):
    plugin = library.create("TrtplugUnique", "1", "trtplug", {"axis": axis, "sorted": is_sorted})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("axis", "shape", "bounds"),
    [
        (FLATTEN, [4, 6], [(24,), (24,), (24,), (24,), ()]),
        (FLATTEN, [], [(1,), (1,), (1,), (1,), ()]),
        (1, [4, 6, 2], [(4, 6, 2), (6,), (6,), (6,), ()]),
        (-3, [5, 6, 2], [(5, 6, 2), (5,), (5,), (5,), ()]),
    ],
)
def test_upper_bounds_from_the_size_tensor(library, axis, shape, bounds):
    plugin = create(library, axis)
    assert [tuple(b) for b in plugin.output_bounds([shape])] == bounds
    symbolic = plugin.output_shapes([shape])
    assert "size_tensor(4)" in str(symbolic[1][0]) and symbolic[4] == []


@pytest.mark.pluginlib
def test_types_fields_and_rejections(library, log):
    plugin = create(library, 0, 0)
    for dtype in ("float32", "float16", "bfloat16", "int32", "int64"):
        assert plugin.output_types([dtype]) == [dtype, "int64", "int64", "int64", "int32"]
    with pytest.raises(RuntimeError, match="got uint8"):
        plugin.output_types(["uint8"])
    assert plugin.round_trip().fields_to_serialize() == {"axis": 0, "sorted": 0}
    with pytest.raises(RuntimeError, match="axis 2 out of range for X of rank 2"):
        create(library, 2).output_bounds([[3, 4]])
    assert library.create("TrtplugUnique", "1", "trtplug", {"axis": FLATTEN, "sorted": 2}) is None
    assert "attribute 'sorted': 2 is not one of 0, 1" in str(log())


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("dtypes", "supported"),
    [
        (["float16", "float16", "int64", "int64", "int64", "int32"], True),
        (["bfloat16", "bfloat16", "int64", "int64", "int64", "int32"], True),
        (["bfloat16", "float16", "int64", "int64", "int64", "int32"], False),
        (["int64", "int64", "int64", "int64", "int64", "int32"], True),
        (["float32", "float16", "int64", "int64", "int64", "int32"], False),
        (["float32", "float32", "int64", "int64", "int64", "int64"], False),  # size tensors are int32
        (["int32", "int32", "int32", "int64", "int64", "int32"], False),
        (["uint8", "uint8", "int64", "int64", "int64", "int32"], False),
    ],
)
def test_format_combinations(library, dtypes, supported):
    assert create(library).supports_format_combination(dtypes) is supported


# ---- GPU ----------------------------------------------------------------------------------


def run_launcher(ext, cp, x: np.ndarray, axis=FLATTEN, is_sorted=True):
    """The launcher on host `x` (bf16 as ml_dtypes.bfloat16), outputs shaped by the reference and
    filled with 7 first; returns the outputs on the host, the device count and the reference."""
    attrs = {"axis": axis, "sorted": int(is_sorted)}
    expected = reference_module().reference({"X": x.astype(np.float32) if x.dtype.kind != "i" else x}, attrs)
    outs = [np.full(e.shape, 7, dtype=x.dtype if i == 0 else np.int64) for i, e in enumerate(expected)]
    count = np.full((1,), -1, dtype=np.int32)
    device_outs = [offset_view(cp, o) for o in outs]
    device_count = cp.asarray(count)
    ext.unique([offset_view(cp, x)], [*device_outs, device_count], attrs)
    return [to_host(cp, o) for o in device_outs], int(device_count[0]), expected


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("is_sorted", [True, False])
def test_launcher_nan_and_signed_zero_as_numpy(ext, cp, dtype, is_sorted):
    """NaNs are one value, sorted last; -0.0 == 0.0, Y holding the first occurrence's sign."""
    x = np.array([np.nan, 1, -0.0, np.nan, 0.0, -np.inf, 1, -np.nan, np.inf]).astype(numpy_dtype(dtype))
    outs, count, expected = run_launcher(ext, cp, x, is_sorted=is_sorted)
    assert count == 5
    for name, a, e in zip(OUTPUTS, outs, expected, strict=True):
        # bf16 NaNs compare equal only through float32 (NumPy's NaN-aware equality knows its own floats)
        is_bf16 = str(a.dtype) == "bfloat16"
        got, want = (a.astype(np.float32), e.astype(a.dtype).astype(np.float32)) if is_bf16 else (a, e.astype(a.dtype))
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert np.signbit(outs[0].astype(np.float32)[expected[1] == 2]).all()  # the zero group's first occurrence is -0.0


@pytest.mark.gpu
def test_launcher_replays_in_a_cuda_graph(ext, cp):
    """No host synchronisation inside: the whole launch (scratch included) captures into a graph."""
    x = cp.asarray(np.array([5, 3, 5, 1, 3, 5], dtype=np.int32))
    outs = [cp.empty(6, dtype=cp.int32)] + [cp.empty(6, dtype=cp.int64) for _ in range(3)]
    count = cp.zeros((1,), dtype=cp.int32)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        ext.unique([x], [*outs, count], {}, stream)
        graph = stream.end_capture()
    with stream:  # new values before the replay, ordered before it on the replay's stream
        x[...] = cp.asarray(np.array([9, 9, 2, 2, 2, 7], dtype=np.int32))
    graph.launch(stream)
    stream.synchronize()
    assert int(count[0]) == 3
    np.testing.assert_array_equal(cp.asnumpy(outs[0][:3]), [2, 7, 9])
    np.testing.assert_array_equal(cp.asnumpy(outs[3][:3]), [3, 1, 2])


@pytest.mark.gpu
def test_launcher_rejects_bad_arguments(ext, cp):
    x = cp.zeros((3, 4), dtype=cp.float32)
    i64 = cp.zeros(3, dtype=cp.int64)
    count = cp.zeros(1, dtype=cp.int32)
    with pytest.raises(ValueError, match="axis out of range"):
        ext.unique([x], [x, i64, i64, i64, count], {"axis": 2})
    with pytest.raises(ValueError, match="must be int64"):
        ext.unique([x], [x, i64.astype(cp.int32), i64, i64, count], {"axis": 0})
    with pytest.raises(ValueError, match="unique_count must be an int32"):
        ext.unique([x], [x, i64, i64, i64, i64], {"axis": 0})
    small = cp.zeros(ext.unique_workspace_bytes(x, 0) - 1, dtype=cp.uint8)
    with pytest.raises(ValueError, match="workspace smaller"):
        ext.unique([x], [x, i64, i64, i64, count], {"axis": 0}, None, small)
    # The glue's checks: spec names, required tensors, value rules, unknown attributes.
    with pytest.raises(ValueError, match="outputs 'unique_count' is required"):
        ext.unique([x], [x, i64, i64, i64], {"axis": 0})
    with pytest.raises(ValueError, match="attribute 'sorted'"):
        ext.unique([x], [x, i64, i64, i64, count], {"sorted": 2})
    with pytest.raises(ValueError, match="unknown attribute 'bogus'"):
        ext.unique([x], [x, i64, i64, i64, count], {"bogus": 1})


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize(("axis", "shape"), [(FLATTEN, (7, 9)), (1, (3, 40, 2))])
def test_plugin_reports_actual_shapes_through_the_size_tensor(library, cp, axis, shape):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, shape).astype(np.float32)
    expected = reference_module().reference({"X": x}, {"axis": axis, "sorted": 1})
    plugin = create(library, axis).round_trip()
    bounds = plugin.output_bounds([list(shape)])
    dtypes = ["float32", "int64", "int64", "int64", "int32"]
    outs = [cp.full(tuple(b), -5, dtype=d) for b, d in zip(bounds, dtypes, strict=True)]
    actual = plugin.run([cp.asarray(x)], outs)
    assert [tuple(a) for a in actual[:4]] == [e.shape for e in expected]
    assert int(outs[4]) == expected[1].size
    for out, e in zip(outs, expected, strict=False):
        np.testing.assert_array_equal(cp.asnumpy(out).ravel()[: e.size].reshape(e.shape), e)
