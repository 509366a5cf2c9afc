"""MoE test models built with onnx.helper: a lone com.microsoft MoE node, ONNX Runtime GenAI's
gpt-oss FFN block (SkipSimplifiedLayerNormalization -> router MatMul + Add -> Reshape -> MoE), with
the node's inputs and attributes exactly as the builder writes them, and its int4 form (router ->
com.microsoft QMoE -> residual Add)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pyplugins import qmoe

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


def router(
    rng, prefix: str, rows: str, hidden: int, experts: int, dtype=np.float32
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """GenAI's MoE router on `rows` [batch, seq, hidden]: MatMul + Add, Reshape to [-1, E] (output
    "router"); its nodes and initializers."""
    nodes = [
        helper.make_node("MatMul", [rows, "router.MatMul.weight"], ["router_mm"], name=f"{prefix}/router/MatMul"),
        helper.make_node("Add", ["router_mm", "router.Add.bias"], ["router_add"], name=f"{prefix}/router/Add"),
        helper.make_node("Reshape", ["router_add", "shape_minus1_E"], ["router"], name=f"{prefix}/router/Reshape"),
    ]
    inits = [
        numpy_helper.from_array(rng.standard_normal((hidden, experts)).astype(dtype), "router.MatMul.weight"),
        numpy_helper.from_array(rng.standard_normal(experts).astype(dtype), "router.Add.bias"),
        numpy_helper.from_array(np.array([-1, experts], dtype=np.int64), "shape_minus1_E"),
    ]
    return nodes, inits


def gptoss_ffn_model(hidden: int = 64, inter: int = 48, experts: int = 8, attrs: dict | None = None) -> onnx.ModelProto:
    """GenAI's gpt-oss layer tail: residual + attention output through the post-attention
    SkipSimplifiedLayerNormalization, the router (MatMul + Add, Reshape to [-1, E]) and MoE on the
    normalized [batch, seq, hidden] rows; output the MoE result and the residual sum."""
    rng = np.random.default_rng(7)
    weights = moe_weights(rng, experts, hidden, inter, 2 * inter)
    p = "/model/layers.0"
    inits = [numpy_helper.from_array(v, f"model.layers.0.moe.experts.{k}") for k, v in weights.items()]
    inits.append(numpy_helper.from_array((1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32), "norm.weight"))
    norm = f"{p}/post_attention_layernorm/output_0"
    router_nodes, router_inits = router(rng, f"{p}/moe", norm, hidden, experts)
    inits += router_inits
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
        *router_nodes,
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


QMOE_ATTRS = {**GPTOSS_ATTRS, "expert_weight_bits": 4, "block_size": 32}  # GenAI's int4 gpt-oss QMoE
QMOE_INPUT_NAMES = list(qmoe.INPUTS[:8])  # up to fc2_experts_bias


def qmoe_shapes(
    tokens: int,
    hidden: int,
    inter: int,
    experts: int,
    attrs: dict,
    zero_points: bool = False,
    biases: bool = True,
    router_weights: bool = False,
) -> dict[str, tuple[int, ...]]:
    """QMoE's input shapes for `attrs` (bits per projection, block_size, fused swiglu doubling fc1's
    rows (geglu's too); fc3 with swiglu_fusion 0 or when attrs set fc3_expert_weight_bits)."""
    block = int(attrs.get("block_size", 0))
    swiglu = attrs.get("activation_type") == "swiglu"
    gated = attrs.get("activation_type") in ("swiglu", "geglu")  # gate and linear halves in fc1 when fused
    fc1_rows = 2 * inter if gated and attrs.get("swiglu_fusion", 0) else inter
    fc3 = (swiglu and not attrs.get("swiglu_fusion", 0)) or bool(attrs.get("fc3_expert_weight_bits"))
    shapes: dict[str, tuple[int, ...]] = {"input": (tokens, hidden), "router_probs": (tokens, experts)}
    for p, rows, k in (("fc1", fc1_rows, hidden), ("fc2", hidden, inter), ("fc3", inter, hidden)):
        if p == "fc3" and not fc3:
            continue
        bits = int(attrs.get(f"{p}_expert_weight_bits", 0) or attrs.get("expert_weight_bits", 4))
        shapes[f"{p}_experts_weights"] = (experts, rows, k * bits // 8)
        shapes[f"{p}_scales"] = (experts, rows, k // block) if block else (experts, rows)
        if zero_points:
            packed = -(-(k // block) * bits // 8) if block else -(-rows * bits // 8)
            shapes[f"{p}_zero_points"] = (experts, rows, packed) if block else (experts, packed)
        if biases:
            shapes[f"{p}_experts_bias"] = (experts, rows)
    if router_weights:
        shapes["router_weights"] = (tokens, experts)
    return shapes


def qmoe_inputs(rng, shapes: dict[str, tuple[int, ...]], attrs: dict, dtype=np.float32) -> dict[str, np.ndarray]:
    """QMoE inputs of `shapes`: the quantized experts (and router_weights) drawn as the parity
    generator draws them, input and router normal, biases of half unit size; floats in `dtype`."""
    from trtplug.parity.generators import qmoe_inputs as generated

    drawn = generated(shapes, attrs, rng)
    for name, shape in shapes.items():
        if name not in drawn:
            drawn[name] = rng.standard_normal(shape) * (0.5 if name.endswith("bias") else 1.0)
    return {k: v if v.dtype == np.uint8 else v.astype(dtype) for k, v in drawn.items()}


def qmoe_block_model(
    dtype=np.float32,
    hidden: int = 64,
    inter: int = 64,
    experts: int = 8,
    attrs: dict | None = None,
    extra_inputs: tuple[str, ...] = (),
) -> onnx.ModelProto:
    """An int4 gpt-oss MoE block as ONNX Runtime GenAI writes it for its CPU builds: the router
    (MatMul + Add, Reshape to [-1, E]) on the [batch, seq, hidden] rows, QMoE on the same rows,
    and the residual Add of its output; `dtype` float32 or float16 throughout. `extra_inputs`
    names more node inputs (initializers, one float each) after QMoE's 15."""
    attrs = attrs or QMOE_ATTRS
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    rng = np.random.default_rng(11)
    p = "/model/layers.0/moe"
    shapes = qmoe_shapes(0, hidden, inter, experts, attrs)
    weights = {k: v for k, v in qmoe_inputs(rng, shapes, attrs, dtype).items() if k.startswith("fc")}
    inits = [numpy_helper.from_array(v, f"model.layers.0.moe.experts.{k}") for k, v in weights.items()]
    router_nodes, router_inits = router(rng, p, "hidden", hidden, experts, dtype)
    inits += router_inits
    inits += [numpy_helper.from_array(np.ones(1, np.float32), name) for name in extra_inputs]
    expert_inputs = [f"model.layers.0.moe.experts.{n}" if n in weights else "" for n in QMOE_INPUT_NAMES[2:]]
    node_inputs = ["hidden", "router", *expert_inputs]
    if extra_inputs:
        node_inputs += [""] * (15 - len(node_inputs)) + list(extra_inputs)
    nodes = [
        *router_nodes,
        helper.make_node("QMoE", node_inputs, ["moe_out"], name=f"{p}/QMoE", domain="com.microsoft", **attrs),
        helper.make_node("Add", ["hidden", "moe_out"], ["output"], name="/model/layers.0/residual/Add"),
    ]
    dims = ["batch_size", "sequence_length", hidden]
    graph = helper.make_graph(
        nodes,
        "gptoss_qmoe_block",
        [helper.make_tensor_value_info("hidden", elem, dims)],
        [helper.make_tensor_value_info("output", elem, dims)],
        inits,
    )
    return helper.make_model(graph, opset_imports=OPSETS, ir_version=10)


def rewritten_parity(model: onnx.ModelProto, folder, capsys, *dims: str) -> dict:
    """`model` saved in `folder`, rewritten (--all-covered) and held to itself by `parity --model`
    (numpy); the one result's JSON."""
    import json

    from trtplug.cli import main

    src, out = folder / "model.onnx", folder / "model.plugins.onnx"
    onnx.save(model, src)
    assert main(["rewrite", str(src), "-o", str(out), "--all-covered"]) == 0
    capsys.readouterr()
    assert main(["parity", "--model", str(src), "--rewritten", str(out), "--impl", "numpy", *dims, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    return result
