"""CumSum / CumProd beyond the parity cases: the family's spec (axis a device input, not a shape
input), the references themselves (onnx.reference and the prototype against loops written from
the ONNX definition, integer wraparound as ONNX's NumPy-based definition has it), the rewrite per
target TensorRT (CumSum only where the target rejects it: a runtime axis or integer x; CumProd
always), and a model whose scan axis is computed by a small subgraph, rewritten and compared with
ONNX Runtime at model level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.cli_helpers import run_main
from tests.conftest import require_built
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry

OPS = {"cum_sum": ("CumSum", 14), "cum_prod": ("CumProd", 26)}
VARIANTS = [(0, 0), (1, 0), (0, 1), (1, 1)]  # (exclusive, reverse)


def scan_loops(x: np.ndarray, axis: int, exclusive: int, reverse: int, product: bool) -> np.ndarray:
    """The ONNX definition, one element at a time, in float64 (or Python ints, wrapped to x's type)."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    length = moved.shape[-1]
    for index in np.ndindex(moved.shape[:-1]):
        acc = 1 if product else 0
        order = range(length - 1, -1, -1) if reverse else range(length)
        for j in order:
            value = moved[index][j].item()
            if exclusive:
                out[(*index, j)] = acc
            acc = acc * value if product else acc + value
            if not exclusive:
                out[(*index, j)] = acc
    if x.dtype.kind == "i":
        bits = 8 * x.dtype.itemsize
        wrap = np.vectorize(lambda v: (v + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1), otypes=[object])
        return np.moveaxis(wrap(out).astype(x.dtype), -1, axis)
    return np.moveaxis(out.astype(np.float64), -1, axis)


def one_node(op: str, x: np.ndarray, axis: np.ndarray, **attrs) -> onnx.ModelProto:
    op_type, opset = OPS[op]
    dtype = helper.np_dtype_to_tensor_dtype(x.dtype)
    graph = helper.make_graph(
        [helper.make_node(op_type, ["x", "axis"], ["y"], **attrs)],
        op,
        [helper.make_tensor_value_info("x", dtype, x.shape)],
        [helper.make_tensor_value_info("y", dtype, x.shape)],
        [numpy_helper.from_array(axis, "axis")],
    )
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(
        graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    )


def run_prototype(op: str, x: np.ndarray, axis: np.ndarray, exclusive: int, reverse: int) -> np.ndarray:
    y = np.full(x.shape, np.nan) if x.dtype.kind == "f" else np.full(x.shape, -7)
    y = y.astype(x.dtype)
    pyplugin_module(load_registry().get(op)).forward(np, [x, axis], [y], {"exclusive": exclusive, "reverse": reverse})
    return y


# ---- spec ------------------------------------------------------------------------------------


def test_family_members_take_the_axis_as_a_device_input() -> None:
    registry = load_registry()
    for op, (op_type, opset) in OPS.items():
        spec = registry.get(op)
        assert spec.folder == "cumulative" and spec.replaces[0].op_type == op_type
        assert spec.replaces[0].covers("", op_type, opset)
        assert [t.name for t in spec.plugin_inputs] == ["x", "axis"]
        assert not any(t.shape_input for t in spec.inputs) and not spec.data_copies
        assert tuple(spec.dtypes_of(spec.inputs[1])) == ("int32", "int64")
    assert not registry.get("cum_sum").replaces[0].covers("", "CumSum", 10)


def test_parity_cases_give_a_0d_axis_and_finite_scans(seed) -> None:
    """A bare `values = { axis = N }` is a 0-D input (onnx.reference refuses any other axis shape);
    the signed_near_one generator keeps 100000-element products finite and non-zero."""
    spec = load_registry().get("cum_prod")
    case = next(c for c in default_cases(spec) if c.name.startswith("length_100000_first_axis"))
    inputs = make_inputs(spec, case, seed)
    assert inputs["axis"].shape == () and int(inputs["axis"]) == 0
    assert inputs["x"].shape == (100000, 2) and bool(np.all(np.abs(np.abs(inputs["x"]) - 1) < 0.2))
    product = np.cumprod(inputs["x"].astype(np.float64), axis=0)
    assert np.isfinite(product).all() and np.abs(product[-1]).min() > 1e-30


# ---- references ------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS)
@pytest.mark.parametrize(("shape", "axis"), [((7,), 0), ((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), -1)])
def test_onnx_reference_and_prototype_match_the_definition(op, exclusive, reverse, shape, axis, seed) -> None:
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng([seed, len(shape), axis + 2])
    x = (rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)).astype(np.float32)
    axis_tensor = np.array(axis, np.int64)
    expected = scan_loops(x, axis, exclusive, reverse, op == "cum_prod")
    (got,) = ReferenceEvaluator(one_node(op, x, axis_tensor, exclusive=exclusive, reverse=reverse)).run(None, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run_prototype(op, x, axis_tensor, exclusive, reverse), expected, rtol=1e-5, atol=1e-5)


# Integer scans wrap around: ONNX's definition is NumPy's cumsum/cumprod in x's type.
OVERFLOW = {
    "int32": np.array([2**31 - 1, 1, 1, -(2**31), -1, 7], np.int32),
    "int64": np.array([2**63 - 1, 1, 2**40, -(2**63), -1, 3], np.int64),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", OVERFLOW)
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS)
def test_integer_overflow_wraps_around(op, dtype, exclusive, reverse) -> None:
    from onnx.reference import ReferenceEvaluator

    x = np.stack([OVERFLOW[dtype], OVERFLOW[dtype][::-1] * 3])
    axis = np.array(1, np.int32)
    expected = scan_loops(x, 1, exclusive, reverse, op == "cum_prod")
    with np.errstate(over="ignore"):
        (got,) = ReferenceEvaluator(one_node(op, x, axis, exclusive=exclusive, reverse=reverse)).run(None, {"x": x})
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(run_prototype(op, x, axis, exclusive, reverse), expected)


@pytest.mark.parametrize("axis", [2, -3, 5])
def test_prototype_names_an_out_of_range_axis(axis) -> None:
    with pytest.raises(ValueError, match=f"axis {axis} is out of range for rank 2"):
        run_prototype("cum_sum", np.zeros((2, 3), np.float32), np.array(axis), 0, 0)


# ---- rewrite per target ----------------------------------------------------------------------


def scan_model(op_type: str, axis_from: str, dtype: int = TensorProto.FLOAT, **attrs) -> onnx.ModelProto:
    """x [N, 4, 6] scanned along axis 1; the axis an initializer ("constant") or computed at run
    time by a small subgraph ("runtime": rank(x) - 2, as exporters write a negative dim)."""
    nodes, inits = [], []
    if axis_from == "constant":
        inits.append(numpy_helper.from_array(np.array(1, np.int64), "axis"))
    else:
        inits.append(numpy_helper.from_array(np.array(2, np.int64), "two"))
        nodes += [
            helper.make_node("Shape", ["x"], ["shape"], name="shape"),
            helper.make_node("Size", ["shape"], ["rank"], name="rank"),
            helper.make_node("Sub", ["rank", "two"], ["axis"], name="axis"),
        ]
    nodes += [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node(op_type, ["r", "axis"], ["y"], name="scan", **attrs),
    ]
    graph = helper.make_graph(
        nodes,
        "scan",
        [helper.make_tensor_value_info("x", dtype, ["N", 4, 6])],
        [helper.make_tensor_value_info("y", dtype, ["N", 4, 6])],
        inits,
    )
    opset = 26 if op_type == "CumProd" else 14
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(
        graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    )


def rewrite(tmp_path: Path, model: onnx.ModelProto, *options: str) -> tuple[onnx.ModelProto, str]:
    source, out = tmp_path / "scan.onnx", tmp_path / "scan.plugins.onnx"
    onnx.save(model, source)
    result = run_main("rewrite", str(source), "-o", str(out), *options)
    assert result.returncode == 0, result.stderr
    return onnx.load(out), result.stdout


def scan_node(model: onnx.ModelProto) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.name == "scan" or n.op_type.startswith(("Trtplug", "Cum")))


@pytest.mark.parametrize("version", ["10.0", "10.8", "11.5"])
def test_constant_float_axis_is_left_to_tensorrt(tmp_path, version) -> None:
    model, report = rewrite(tmp_path, scan_model("CumSum", "constant"), "--trt-version", version)
    assert scan_node(model).op_type == "CumSum"
    assert "imports it natively" in report and "0 replaced" in report
    model, _ = rewrite(tmp_path, scan_model("CumSum", "constant"), "--all-covered")
    assert scan_node(model).op_type == "TrtplugCumSum"


@pytest.mark.parametrize("version", ["10.0", "10.8", "11.5"])
@pytest.mark.parametrize(
    ("op_type", "axis_from", "dtype"),
    [
        ("CumSum", "runtime", TensorProto.FLOAT),  # the axis is no initializer
        ("CumSum", "constant", TensorProto.INT32),  # TensorRT's CumSum takes float x only
        ("CumProd", "constant", TensorProto.FLOAT),  # opset 26: no importer anywhere
    ],
)
def test_rejected_scans_become_plugin_nodes(tmp_path, version, op_type, axis_from, dtype) -> None:
    model, report = rewrite(
        tmp_path, scan_model(op_type, axis_from, dtype, exclusive=1, reverse=1), "--trt-version", version
    )
    onnx.checker.check_model(model, full_check=True)
    node = scan_node(model)
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert (node.op_type, node.domain) == (f"Trtplug{op_type}", "trtplug") and "1 replaced" in report
    assert list(node.input) == ["r", "axis"]  # the axis stays a tensor input: no shape-input indices
    assert "tensorrt_plugin_shape_input_indices" not in fields
    assert (fields["exclusive"], fields["reverse"]) == (1, 1)
    assert fields["plugin_version"] == b"1" and fields["plugin_namespace"] == b"trtplug"


def test_a_value_outside_the_rules_is_left_alone_with_the_reason(tmp_path) -> None:
    model, report = rewrite(tmp_path, scan_model("CumProd", "constant", exclusive=2), "--trt-version", "11.5")
    assert scan_node(model).op_type == "CumProd"
    assert "exclusive" in report and "0 replaced" in report


@pytest.mark.parametrize("op_type", ["CumSum", "CumProd"])
@pytest.mark.parametrize(("exclusive", "reverse"), VARIANTS)
def test_runtime_axis_model_keeps_its_numbers(tmp_path, op_type, exclusive, reverse) -> None:
    """The scan over an axis computed by Shape -> Size -> Sub, rewritten for TensorRT 10.8, then
    ONNX Runtime on the original against the rewritten model with the plugin run by trtplug."""
    model = scan_model(op_type, "runtime", exclusive=exclusive, reverse=reverse)
    rewritten, _ = rewrite(tmp_path, model, "--trt-version", "10.8")
    assert scan_node(rewritten).op_type == f"Trtplug{op_type}"
    source, out = tmp_path / "scan.onnx", tmp_path / "scan.plugins.onnx"
    result = run_main("parity", "--model", str(source), "--rewritten", str(out), "--dim", "N=3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pass" in result.stdout and f"Trtplug{op_type}" in result.stdout


# ---- the adapter (plugin library through the host, no GPU needed) -----------------------------

FIELDS = {"exclusive": 0, "reverse": 1}


def create(library, name: str, fields: dict):
    """library.create, skipped (failed under TRTPLUG_REQUIRE_NATIVE=1) where the built library
    predates the scan plugins."""
    try:
        return library.create(name, "1", "trtplug", fields)
    except KeyError as err:
        require_built(name, False, f"{err} (rebuild: scripts/setup.sh)")


@pytest.mark.pluginlib
@pytest.mark.parametrize("name", ["TrtplugCumSum", "TrtplugCumProd"])
def test_plugin_shapes_types_formats_and_round_trip(library, name) -> None:
    plugin = create(library, name, FIELDS)
    assert plugin is not None
    assert plugin.output_shapes([["N", 4, 6], []], None) == [["N", 4, 6]]
    assert plugin.output_shapes([[7], [1]], None) == [[7]]  # a one-element axis vector is accepted
    for dtype in ("float32", "float16", "bfloat16", "int32", "int64"):
        assert plugin.output_types([dtype, "int64"]) == [dtype]
        assert plugin.supports_format_combination([dtype, "int32", dtype])
    assert not plugin.supports_format_combination(["float32", "float32", "float32"])
    assert not plugin.supports_format_combination(["float32", "int64", "float16"])
    assert plugin.round_trip().fields_to_serialize() == FIELDS


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("types", "shapes", "message"),
    [
        (["int8", "int64"], None, "x: unsupported type int8"),
        (["float32", "float32"], None, "axis must be int32 or int64, got float32"),
        (None, [[], []], "x must have rank >= 1"),
        (None, [[3, 4], [2]], "axis must be a 0-D tensor, got rank 1"),
    ],
)
def test_plugin_refuses_bad_inputs(library, types, shapes, message) -> None:
    plugin = create(library, "TrtplugCumSum", FIELDS)
    with pytest.raises(RuntimeError, match=message):
        plugin.output_types(types) if types else plugin.output_shapes(shapes, None)


@pytest.mark.pluginlib
def test_plugin_creator_refuses_a_value_the_spec_forbids(library, log) -> None:
    create(library, "TrtplugCumProd", FIELDS)  # skips where the library predates the plugin
    assert create(library, "TrtplugCumProd", {"exclusive": 2, "reverse": 0}) is None
    assert any("exclusive" in text for _, text in log())


def tile_status_bytes(dtype: str, n: int) -> int:
    """The one-pass 1-D scan's status: a 64-bit word per 16 KiB tile of x (two for int64)."""
    itemsize = {"float32": 4, "float16": 2, "bfloat16": 2, "int32": 4, "int64": 8}[dtype]
    return -(-n * itemsize // 16384) * (16 if dtype == "int64" else 8)


@pytest.mark.pluginlib
@pytest.mark.parametrize("name", ["TrtplugCumSum", "TrtplugCumProd"])
def test_plugin_asks_for_a_workspace_only_for_a_1d_x(library, name) -> None:
    """getWorkspaceSize: the tile status of x's largest shape (the counter and a spare tile or two
    on top) for a 1-D x; nothing for other ranks, whose paths need no scratch."""
    plugin = create(library, name, FIELDS)

    def size(dtype: str, shape: list[int], largest: list[int] | None = None) -> int:
        shapes = [[shape, [], shape], None if largest is None else [largest, [], largest]]
        return plugin.workspace_size([dtype, "int64", dtype], *shapes)

    for dtype in ("float32", "float16", "bfloat16", "int32", "int64"):
        for n in (1, 4097, 1 << 20, (1 << 26) + 3):
            assert 0 <= size(dtype, [n]) - tile_status_bytes(dtype, n) <= 64, (dtype, n)
        assert size(dtype, [7], [1 << 20]) == size(dtype, [1 << 20])  # sized for the largest shape
        for shape in ([4, 1 << 20], [1 << 20, 1], [2, 3, 4], [0]):
            assert size(dtype, shape) == 0, (dtype, shape)


@pytest.mark.pluginlib
def test_binding_workspace_bytes_match_the_plugin(ext, library) -> None:
    plugin = create(library, "TrtplugCumSum", FIELDS)
    for dtype, shape in (("float32", [1 << 20]), ("int64", [12345]), ("bfloat16", [3]), ("float16", [8, 9])):
        expected = plugin.workspace_size([dtype, "int32", dtype], [shape, [], shape])
        assert ext.cumulative_workspace_bytes(dtype, shape) == expected
