"""The GELU family and the bias ops on the CPU: specs, parity cases, the NumPy references of the
CUDA-only contrib ops (checked against ONNX Runtime running the same math as standard ops)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from tests.test_spec import VALID, write_op
from trtplug.errors import SpecError
from trtplug.parity.cases import default_cases
from trtplug.parity.reference import reference_unavailable, run_reference
from trtplug.registry import load_registry
from trtplug.shape_rules import apply_rule
from trtplug.spec import load_spec

FAMILY = {
    # key: (plugin, op_type, inputs, reference kind)
    "gelu": ("TrtplugGelu", "Gelu", ["X"], "onnxruntime"),
    "bias_gelu": ("TrtplugBiasGelu", "BiasGelu", ["A", "B"], "onnxruntime"),
    "fast_gelu": ("TrtplugFastGelu", "FastGelu", ["X", "bias"], "onnxruntime"),
    "quick_gelu": ("TrtplugQuickGelu", "QuickGelu", ["X"], "onnxruntime"),
    "bias_split_gelu": ("TrtplugBiasSplitGelu", "BiasSplitGelu", ["X", "bias"], "numpy"),
    "bias_add": ("TrtplugBiasAdd", "BiasAdd", ["X", "bias", "skip"], "numpy"),
}


@pytest.mark.parametrize("key", FAMILY)
def test_spec(key: str) -> None:
    plugin, op_type, inputs, reference = FAMILY[key]
    spec = load_registry().get(key)
    assert (spec.plugin.name, spec.plugin.version, spec.plugin.namespace) == (plugin, "1", "trtplug")
    assert [(r.domain, r.op_type, r.since_version) for r in spec.replaces] == [("com.microsoft", op_type, 1)]
    assert [t.name for t in spec.inputs] == inputs and spec.dtypes == ("float32", "float16", "bfloat16")
    assert spec.reference == reference
    if reference == "numpy":
        assert "CUDA-only" in spec.summary and "CUDA only" in spec.path.read_text()
    assert reference_unavailable(spec) is None


def test_quick_gelu_alpha_defaults_to_the_contrib_value() -> None:
    (alpha,) = load_registry().get("quick_gelu").attributes
    assert (alpha.name, alpha.type, alpha.default) == ("alpha", "float", 1.702)


def ort_has_cpu_kernel(op_type: str, n_inputs: int) -> bool:
    ort = pytest.importorskip("onnxruntime")
    names = ["X", "B", "S"][:n_inputs]
    node = helper.make_node(op_type, names, ["Y"], domain="com.microsoft")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=10)
    try:
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # NOT_IMPLEMENTED: no CPU kernel
        assert "NOT_IMPLEMENTED" in str(exc) or "implementation" in str(exc)
        return False
    return True


@pytest.mark.parametrize("key", FAMILY)
def test_reference_kind_matches_onnxruntime_cpu_coverage(key: str) -> None:
    """ONNX Runtime CPU is the oracle exactly where it has the op; NumPy only where it has not."""
    _, op_type, inputs, reference = FAMILY[key]
    assert ort_has_cpu_kernel(op_type, len(inputs)) == (reference == "onnxruntime")


def run_standard_ops(nodes: list, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """ONNX Runtime CPU on a graph of standard ops (float32: its CPU Erf has no float64), output "Y"."""
    ort = pytest.importorskip("onnxruntime")
    graph = helper.make_graph(
        nodes,
        "decomposition",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {k: v.astype(np.float32) for k, v in inputs.items()})[0]


def bias_split_gelu_as_standard_ops() -> list:
    const = helper.make_tensor("c", TensorProto.FLOAT, [], [1 / math.sqrt(2)])
    half = helper.make_tensor("h", TensorProto.FLOAT, [], [0.5])
    one = helper.make_tensor("o", TensorProto.FLOAT, [], [1.0])
    return [
        helper.make_node("Add", ["X", "bias"], ["V"]),
        helper.make_node("Split", ["V"], ["L", "R"], axis=-1, num_outputs=2),
        helper.make_node("Constant", [], ["c"], value=const),
        helper.make_node("Constant", [], ["h"], value=half),
        helper.make_node("Constant", [], ["o"], value=one),
        helper.make_node("Mul", ["R", "c"], ["Rs"]),
        helper.make_node("Erf", ["Rs"], ["E"]),
        helper.make_node("Add", ["E", "o"], ["E1"]),
        helper.make_node("Mul", ["R", "h"], ["Rh"]),
        helper.make_node("Mul", ["Rh", "E1"], ["G"]),
        helper.make_node("Mul", ["L", "G"], ["Y"]),
    ]


@pytest.mark.parametrize("key", ["bias_split_gelu", "bias_add"])
def test_numpy_reference_agrees_with_standard_ops_in_onnxruntime(key: str, seed: int) -> None:
    spec = load_registry().get(key)
    nodes = (
        bias_split_gelu_as_standard_ops()
        if key == "bias_split_gelu"
        else [helper.make_node("Add", ["X", "bias"], ["V"]), helper.make_node("Add", ["V", "skip"], ["Y"])]
    )
    rng = np.random.default_rng(seed)
    shapes = {"X": (2, 3, 10), "bias": (10,), "skip": (2, 3, 10)}
    inputs = {t.name: (rng.standard_normal(shapes[t.name]) * 3).astype(np.float32) for t in spec.inputs}
    case = next(c for c in default_cases(spec) if c.name == "odd")
    (actual,) = run_reference(spec, case, inputs)
    expected = run_standard_ops(nodes, inputs)
    assert actual.shape == expected.shape
    assert actual.dtype == np.float64  # the reference keeps float64; ONNX Runtime computed in float32
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_bias_split_gelu_cases_keep_edges_and_even_widths() -> None:
    spec = load_registry().get("bias_split_gelu")
    cases = {c.name: c for c in default_cases(spec)}
    assert {"empty", "empty_last", "one", "odd", "typical", "large"} <= set(cases)
    for case in cases.values():
        x = case.shapes["X"]
        assert len(x) == 3 and x[-1] % 2 == 0 and case.shapes["bias"] == (x[-1],)
    assert math.prod(apply_rule("half_last_dim:X", cases["one"].shapes)) == 1
    assert apply_rule("half_last_dim:X", cases["odd"].shapes) == (3, 5, 17)  # odd half: the scalar kernel path


def test_default_shapes_unchanged_without_parity_cases() -> None:
    names = [c.name for c in default_cases(load_registry().get("gelu"))]
    assert names == ["empty", "empty_last", "one", "odd", "typical", "large", "strided"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[[parity.cases]]\nname = "odd"\nshapes = { X = [3, -1] }\n', "parity\\.cases\\[0\\]\\.shapes\\.X"),
        ('[[parity.cases]]\nname = "odd"\nshapes = { Z = [3] }\n', "names no input"),
    ],
)
def test_bad_parity_cases_name_file_and_field(tmp_path: Path, table: str, problem: str) -> None:
    path = write_op(tmp_path, "thing", VALID.format(name="ThingPlugin") + table)
    with pytest.raises(SpecError, match=problem) as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_numpy_reference_file_is_required(tmp_path: Path) -> None:
    path = write_op(tmp_path, "thing", VALID.format(name="ThingPlugin").replace('"onnxruntime"', '"numpy"'))
    spec = load_spec(path)
    assert "reference.py: missing" in reference_unavailable(spec)
    (path.parent / "reference.py").write_text("def reference(inputs, attrs):\n    return [inputs['X'] * 2]\n")
    case = default_cases(spec)[0]
    (y,) = run_reference(spec, case, {"X": np.ones((2, 3), np.float16)})
    assert reference_unavailable(spec) is None and y.dtype == np.float32 and (y == 2).all()  # fp16 upcast first
