"""Small ONNX models for the `check` tests, built with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT


def model(nodes, inputs, outputs, initializers=(), opsets=(("", 18),), functions=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    opset_imports = [helper.make_opsetid(d, v) for d, v in opsets]
    return helper.make_model(graph, opset_imports=opset_imports, functions=list(functions))


def tensor(name: str, dtype: int = FLOAT, shape=None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def conv_net(rng: np.random.Generator) -> onnx.ModelProto:
    """Conv -> BatchNorm -> Relu -> MaxPool -> Conv -> GlobalAveragePool -> Flatten -> Gemm, dynamic batch."""
    w1 = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w1")
    bn = [numpy_helper.from_array(rng.random(8).astype(np.float32) + 0.5, n) for n in ("s", "b", "m", "v")]
    w2 = numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), "w2")
    fc = numpy_helper.from_array(rng.standard_normal((10, 16)).astype(np.float32), "fc")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("BatchNormalization", ["c1", "s", "b", "m", "v"], ["n1"], name="bn1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1, name="fc"),
    ]
    return model(nodes, [tensor("x", shape=["N", 3, 16, 16])], [tensor("y", shape=["N", 10])], [w1, *bn, w2, fc])


def reduce_with_axes(constant_axes: bool) -> onnx.ModelProto:
    """ReduceSum whose axes are an initializer (TensorRT imports it) or a network input (it does not)."""
    nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0, name="reduce")]
    x = tensor("x", shape=[2, 3, 4])
    if constant_axes:
        axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
        return model(nodes, [x], [tensor("y")], [axes])
    return model(nodes, [x, tensor("axes", TensorProto.INT64, [1])], [tensor("y")])


def save(m: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> Path:
    path = folder / name
    onnx.save(m, str(path))
    return path
