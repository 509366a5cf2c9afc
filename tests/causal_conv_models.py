"""Short-conv blocks as ONNX Runtime GenAI 0.18's builder writes them around com.microsoft
CausalConvWithState (read off its LFM2 and Qwen3.5 exports), small and with random weights:

    x (batch, seq, H) -> in_proj MatMul (H, 3H) -> Transpose (0, 2, 1) -> Split axis 1 [H, H, H]
      -> b * x -> CausalConvWithState(inputs [bx, weight (H, 1, k), '' or bias, past.0.conv],
         attrs ndim=1, activation, state_window=0) -> c * conv -> Transpose (0, 2, 1)
      -> out_proj MatMul (H, H) -> y

past.0.conv (batch, H, k - 1) is a graph input and present.0.conv a graph output, as in the
exports. LFM2: no bias, activation "none", k 3; Qwen3.5's Gated DeltaNet conv: bias, "silu", k 4.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"


def conv_block(hidden: int = 16, taps: int = 3, bias: bool = False, activation: str = "none") -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    prefix = "/model/layers.0/conv"

    def weight(name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)

    inits = [
        weight("in_proj.weight", (hidden, 3 * hidden)),
        weight("conv.weight", (hidden, 1, taps)),
        weight("out_proj.weight", (hidden, hidden)),
        numpy_helper.from_array(np.array([hidden] * 3, np.int64), "split_sizes"),
    ]
    if bias:
        inits.append(weight("conv.bias", (hidden,)))
    conv_inputs = [f"{prefix}/Mul_1/output_0", "conv.weight", "conv.bias" if bias else "", "past.0.conv"]
    nodes = [
        helper.make_node("MatMul", ["x", "in_proj.weight"], ["proj"]),
        helper.make_node("Transpose", ["proj"], ["proj_t"], perm=[0, 2, 1]),
        helper.make_node("Split", ["proj_t", "split_sizes"], ["gate_b", "gate_c", "xs"], axis=1),
        helper.make_node("Mul", ["gate_b", "xs"], [conv_inputs[0]]),
        helper.make_node(
            "CausalConvWithState",
            conv_inputs,
            [f"{prefix}/CausalConvWithState/output_0", "present.0.conv"],
            name=f"{prefix}/CausalConvWithState",
            domain=MS,
            ndim=1,
            activation=activation,
            state_window=0,
        ),
        helper.make_node("Mul", ["gate_c", f"{prefix}/CausalConvWithState/output_0"], ["gated"]),
        helper.make_node("Transpose", ["gated"], ["gated_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["gated_t", "out_proj.weight"], ["y"]),
    ]
    f32 = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("x", f32, ["batch", "seq", hidden]),
        helper.make_tensor_value_info("past.0.conv", f32, ["batch", hidden, taps - 1]),
    ]
    outputs = [
        helper.make_tensor_value_info("y", f32, ["batch", "seq", hidden]),
        helper.make_tensor_value_info("present.0.conv", f32, ["batch", hidden, taps - 1]),
    ]
    graph = helper.make_graph(nodes, "short_conv", inputs, outputs, initializer=inits)
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)
