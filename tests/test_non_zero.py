"""NonZero beyond the parity cases, on the CPU: the prototype against onnx.reference, ONNX Runtime
and the ONNX conformance cases (every type, rank 0 to 5, NaN and -0.0, empty and odd shapes), the
0-D case where ONNX Runtime departs from ONNX, and the plugin's shape rule, types and formats
through the plugin host. The CUDA launcher and the plugin's enqueue: tests/test_non_zero_gpu.py;
the rewrite per target on a Faster R-CNN-like graph: tests/test_faster_rcnn_nonzero.py."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from trtplug.parity.ort_session import cpu_session
from trtplug.protolib.dtypes import numpy_dtype
from trtplug.prototypes import pyplugin_module
from trtplug.registry import load_registry

DTYPES = ["float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool"]
SHAPES = [(1,), (0,), (7,), (1001,), (5, 0), (33, 17), (7, 5, 3), (3, 1, 5, 7), (2, 3, 1, 4, 5)]
ORT_TYPES = {"float32", "float16", "uint8", "int32", "int64", "bool"}  # ONNX Runtime 1.32's CPU NonZero


def prototype():
    return pyplugin_module(load_registry().get("non_zero"))


def nonzero_model(elem: int, opset: int = 13) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"])],
        "non_zero",
        [helper.make_tensor_value_info("x", elem, None)],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def run_prototype(x: np.ndarray) -> np.ndarray:
    """The prototype on `x` (bf16 upcast to float32, as parity hands it), its output poisoned first."""
    proto = prototype()
    x = x.astype(np.float32) if str(x.dtype) == "bfloat16" else x
    (shape,) = proto.output_shapes([x], {})
    y = np.full(shape, -7, dtype=np.int64)
    proto.forward(np, [x], [y], {})
    assert proto.size_tensor_values([y], {}) == [shape[1]]
    return y


def run_onnx_reference(x: np.ndarray) -> np.ndarray:
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(nonzero_model(helper.np_dtype_to_tensor_dtype(x.dtype))).run(None, {"x": x})[0]


def run_onnxruntime(x: np.ndarray) -> np.ndarray:
    model = nonzero_model(helper.np_dtype_to_tensor_dtype(x.dtype))
    return cpu_session(model.SerializeToString()).run(None, {"x": x})[0]


def sparse(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Mostly zeros; floats also hold -0.0 (zero), NaN and -inf (non-zero)."""
    ints = np.where(rng.random(shape) < 0.3, rng.integers(-3, 4, shape), 0)
    if not dtype.startswith(("float", "bfloat")):
        return ints.astype(numpy_dtype(dtype))  # -3 wraps to 253 in uint8: still non-zero
    values = ints.astype(np.float32)
    flat = values.reshape(-1)
    if flat.size:
        flat[rng.integers(0, flat.size, 3)] = [-0.0, np.nan, -np.inf]
    return values.astype(numpy_dtype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_prototype_agrees_with_onnx_reference_and_onnxruntime(dtype: str, shape: tuple, seed: int) -> None:
    x = sparse(np.random.default_rng([seed, len(shape), sum(shape)]), shape, dtype)
    got = run_prototype(x)
    np.testing.assert_array_equal(got, run_onnx_reference(x))
    if dtype in ORT_TYPES:
        np.testing.assert_array_equal(got, run_onnxruntime(x))
    assert got.shape == (len(shape), int((x != 0).sum()))


def test_nan_is_non_zero_and_negative_zero_is_zero() -> None:
    x = np.array([[0.0, -0.0, np.nan], [1e-45, -np.inf, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(run_prototype(x), [[0, 1, 1], [2, 0, 1]])
    np.testing.assert_array_equal(run_prototype(x), run_onnxruntime(x))


@pytest.mark.parametrize("value", [0.0, 3.0, np.nan])
def test_scalar_gives_zero_rows_as_onnx_says(value: float) -> None:
    """A 0-D X: ONNX's shape inference and onnx.reference give [0, N] (N = 1 when it is non-zero);
    ONNX Runtime 1.32 reads it as [1] and gives [1, N]. The plugin follows ONNX (its spec says so)."""
    x = np.array(value, dtype=np.float32)
    count = int(value != 0)
    assert run_prototype(x).shape == run_onnx_reference(x).shape == (0, count)
    ort = run_onnxruntime(x)
    assert ort.shape == (1, count), "ONNX Runtime now follows ONNX on 0-D NonZero: update the spec comment"


def test_shape_inference_gives_rank_rows() -> None:
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    dims = onnx.shape_inference.infer_shapes(model).graph.output[0].type.tensor_type.shape.dim
    assert dims[0].dim_value == 0 and not dims[1].HasField("dim_value")


def test_conformance_cases() -> None:
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in collect_testcases(None) if "nonzero" in c.name and c.data_sets]
    assert cases, "the installed onnx has no NonZero conformance case"
    for case in cases:
        for inputs, expected in case.data_sets:
            np.testing.assert_array_equal(run_prototype(inputs[0]), expected[0], err_msg=case.name)


def test_generated_parity_inputs_are_mostly_zeros_in_every_type(seed: int) -> None:
    from trtplug.parity.cases import default_cases
    from trtplug.parity.runner import prepare

    spec = load_registry().get("non_zero")
    case = next(c for c in default_cases(spec) if c.name == "rank3")
    for dtype in spec.dtypes:
        x = prepare(spec, dtype, case, seed)[0]["X"]
        assert str(x.dtype) == dtype and 0 < int((x != 0).sum()) < x.size // 2, dtype


# ---- the adapter through the plugin host (needs the plugin library, no GPU) -------------------


def create(library):
    from tests.conftest import require_creators

    require_creators(library, "TrtplugNonZero")
    plugin = library.create("TrtplugNonZero", "1", "trtplug", {})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("shape", "bounds"),
    [([4, 6], [(2, 24), ()]), ([], [(0, 1), ()]), ([0, 3], [(2, 0), ()]), ([2, 3, 1, 4, 5], [(5, 120), ()])],
)
def test_output_is_rank_by_a_size_tensor(library, shape, bounds):
    plugin = create(library)
    assert [tuple(b) for b in plugin.output_bounds([shape])] == bounds
    assert plugin.output_shapes([shape]) == [[len(shape), "size_tensor(1)"], []]


@pytest.mark.pluginlib
def test_types_and_formats(library):
    plugin = create(library)
    for dtype in DTYPES:
        assert plugin.output_types([dtype]) == ["int64", "int32"]
        assert plugin.supports_format_combination([dtype, "int64", "int32"])
    assert not plugin.supports_format_combination(["float32", "int32", "int32"])
    assert not plugin.supports_format_combination(["float32", "int64", "int64"])  # size tensors are int32
    assert plugin.round_trip().fields_to_serialize() == {}
