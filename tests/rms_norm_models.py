"""Small models with RMS norms as real exporters write them, built with onnx helpers: a
GenAI-style decoder slice (ONNX Runtime's default-domain SimplifiedLayerNormalization) and an
opset-23 ai.onnx RMSNormalization."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 64


def _weight(rng: np.random.Generator, name: str, shape: tuple[int, ...], offset: float = 0.0) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.1 + offset).astype(np.float32), name)


def decoder_slice(rng: np.random.Generator) -> onnx.ModelProto:
    """input_layernorm -> q/gate projections -> residual add -> final norm (which also returns
    inv_std_var), the layout ONNX Runtime GenAI's model builder writes for Llama/Qwen2 (fp32 CPU)."""
    nodes = [
        helper.make_node(
            "SimplifiedLayerNormalization",
            ["hidden", "ln_weight"],
            ["ln_out"],
            name="layers.0/input_layernorm/SimplifiedLayerNorm",
            axis=-1,
            epsilon=1e-6,
            stash_type=1,
        ),
        helper.make_node("MatMul", ["ln_out", "proj_weight"], ["proj"], name="layers.0/attn/o_proj/MatMul"),
        helper.make_node("Add", ["hidden", "proj"], ["residual"], name="layers.0/residual_add"),
        helper.make_node(
            "SimplifiedLayerNormalization",
            ["residual", "final_weight"],
            ["logits_in", "final_inv_std_var"],
            name="final_norm/SimplifiedLayerNorm",
            epsilon=1e-5,
        ),
    ]
    dims = ["batch_size", "sequence_length"]
    graph = helper.make_graph(
        nodes,
        "decoder_slice",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [*dims, HIDDEN])],
        [
            helper.make_tensor_value_info("logits_in", TensorProto.FLOAT, [*dims, HIDDEN]),
            helper.make_tensor_value_info("final_inv_std_var", TensorProto.FLOAT, [*dims, 1]),
        ],
        [
            _weight(rng, "ln_weight", (HIDDEN,), 1.0),
            _weight(rng, "proj_weight", (HIDDEN, HIDDEN)),
            _weight(rng, "final_weight", (HIDDEN,), 1.0),
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def rms_normalization(rng: np.random.Generator, **attrs: object) -> onnx.ModelProto:
    """One opset-23 RMSNormalization over the last two axes of an fp16 (batch, 8, 4, 16) input."""
    node = helper.make_node("RMSNormalization", ["x", "scale"], ["y"], name="rms", **attrs)
    shape = ["batch", 8, 4, 16]
    scale = numpy_helper.from_array((rng.standard_normal((4, 16)) * 0.1 + 1).astype(np.float16), "scale")
    graph = helper.make_graph(
        [node],
        "rms",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, shape)],
        [scale],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
