"""Build the example model: a BERT-style feed-forward block as ONNX Runtime's transformer
optimizer leaves it (MatMul -> com.microsoft FastGelu with bias -> MatMul -> Add), plus a
bias-less FastGelu. TensorRT's parser has no importer for FastGelu; trtplug's plugin covers it.

    python examples/make_example_model.py [-o examples/models/bert_ffn_fastgelu.onnx]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, INTERMEDIATE = 64, 256


def build(seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)

    nodes = [
        helper.make_node("MatMul", ["hidden", "w_in"], ["ffn_in"], name="ffn_in_matmul"),
        helper.make_node("FastGelu", ["ffn_in", "b_in"], ["ffn_act"], name="ffn_fastgelu", domain="com.microsoft"),
        helper.make_node("MatMul", ["ffn_act", "w_out"], ["ffn_out"], name="ffn_out_matmul"),
        helper.make_node("Add", ["ffn_out", "hidden"], ["residual"], name="residual_add"),
        helper.make_node("FastGelu", ["residual"], ["output"], name="head_fastgelu", domain="com.microsoft"),
    ]
    graph = helper.make_graph(
        nodes,
        "bert_ffn_fastgelu",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        initializer=[
            weight("w_in", HIDDEN, INTERMEDIATE),
            weight("b_in", INTERMEDIATE),
            weight("w_out", INTERMEDIATE, HIDDEN),
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="trtplug-example", ir_version=9)
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "-o", "--output", type=Path, default=Path(__file__).resolve().parent / "models" / "bert_ffn_fastgelu.onnx"
    )
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build(), args.output)
    print(args.output)


if __name__ == "__main__":
    main()
