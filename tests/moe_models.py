"""MoE test models built with onnx.helper: a lone com.microsoft MoE node, and ONNX Runtime GenAI's
gpt-oss FFN block (SkipSimplifiedLayerNormalization -> router MatMul + Add -> Reshape -> MoE), with
the node's inputs and attributes exactly as the builder writes them."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
GPTOSS_ATTRS = {
    "activation_alpha": 1.702,
    "activation_beta": 1.0,
    "activation_type": "swiglu",
    "k": 2,
    "normalize_routing_weights": 1,
    "swiglu_fusion": 1,
    "use_sparse_mixer": 0,
    "swiglu_limit": 7.0,
}
INPUT_NAMES = [
    "input",
    "router_probs",
    "fc1_experts_weights",
    "fc1_experts_bias",
    "fc2_experts_weights",
    "fc2_experts_bias",
    "fc3_experts_weights",
    "fc3_experts_bias",
]


def moe_weights(rng, experts: int, hidden: int, inter: int, fc1_rows: int, fc3: bool = False) -> dict[str, np.ndarray]:
    """Weights [E, out, in] of about unit output for unit inputs, and biases."""

    def normal(*shape: int, fan_in: int = 1) -> np.ndarray:
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)

    weights = {
        "fc1_experts_weights": normal(experts, fc1_rows, hidden, fan_in=hidden),
        "fc1_experts_bias": normal(experts, fc1_rows) * 0.5,
        "fc2_experts_weights": normal(experts, hidden, inter, fan_in=inter),
        "fc2_experts_bias": normal(experts, hidden) * 0.5,
    }
    if fc3:
        weights["fc3_experts_weights"] = normal(experts, inter, hidden, fan_in=hidden)
        weights["fc3_experts_bias"] = normal(experts, inter) * 0.5
    return weights


def single_moe_model(weights: dict[str, np.ndarray], attrs: dict, x_shape, router_shape) -> onnx.ModelProto:
    """input and router_probs as graph inputs, the given weights as initializers ('' for the rest)."""
    names = [n if n in weights or n in ("input", "router_probs") else "" for n in INPUT_NAMES]
    while names[-1] == "":
        names.pop()
    node = helper.make_node("MoE", names, ["output"], name="moe", domain="com.microsoft", **attrs)
    graph = helper.make_graph(
        [node],
        "moe",
        [
            helper.make_tensor_value_info("input", TensorProto.FLOAT, list(x_shape)),
            helper.make_tensor_value_info("router_probs", TensorProto.FLOAT, list(router_shape)),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(x_shape))],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=OPSETS, ir_version=10)


def gptoss_ffn_model(hidden: int = 64, inter: int = 48, experts: int = 8, attrs: dict | None = None) -> onnx.ModelProto:
    """GenAI's gpt-oss layer tail: residual + attention output through the post-attention
    SkipSimplifiedLayerNormalization, the router (MatMul + Add, Reshape to [-1, E]) and MoE on the
    normalized [batch, seq, hidden] rows; output the MoE result and the residual sum."""
    rng = np.random.default_rng(7)
    weights = moe_weights(rng, experts, hidden, inter, 2 * inter)
    p = "/model/layers.0"
    inits = [numpy_helper.from_array(v, f"model.layers.0.moe.experts.{k}") for k, v in weights.items()]
    inits += [
        numpy_helper.from_array((1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32), "norm.weight"),
        numpy_helper.from_array(rng.standard_normal((hidden, experts)).astype(np.float32), "router.MatMul.weight"),
        numpy_helper.from_array(rng.standard_normal(experts).astype(np.float32), "router.Add.bias"),
        numpy_helper.from_array(np.array([-1, experts], dtype=np.int64), "shape_minus1_E"),
    ]
    norm = f"{p}/post_attention_layernorm/output_0"
    expert_inputs = [f"model.layers.0.moe.experts.{k}" for k in weights]
    nodes = [
        helper.make_node(
            "SkipSimplifiedLayerNormalization",
            ["residual", "attn_out", "norm.weight"],
            [norm, "", "", "residual_sum"],
            name=f"{p}/post_attention_layernorm/SkipLayerNorm",
            domain="com.microsoft",
            epsilon=1e-5,
        ),
        helper.make_node("MatMul", [norm, "router.MatMul.weight"], ["router_mm"], name=f"{p}/moe/router/MatMul"),
        helper.make_node("Add", ["router_mm", "router.Add.bias"], ["router_add"], name=f"{p}/moe/router/Add"),
        helper.make_node("Reshape", ["router_add", "shape_minus1_E"], ["router"], name=f"{p}/moe/router/Reshape"),
        helper.make_node(
            "MoE",
            [norm, "router", *expert_inputs[:4], "", ""],
            ["moe_out"],
            name=f"{p}/moe/MoE",
            domain="com.microsoft",
            **(attrs or GPTOSS_ATTRS),
        ),
    ]
    dims = ["batch_size", "sequence_length", hidden]
    graph = helper.make_graph(
        nodes,
        "gptoss_ffn",
        [
            helper.make_tensor_value_info("residual", TensorProto.FLOAT, dims),
            helper.make_tensor_value_info("attn_out", TensorProto.FLOAT, dims),
        ],
        [
            helper.make_tensor_value_info("moe_out", TensorProto.FLOAT, dims),
            helper.make_tensor_value_info("residual_sum", TensorProto.FLOAT, dims),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=OPSETS, ir_version=10)
