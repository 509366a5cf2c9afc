"""Constant folding of layout-only ops on uint8 constants: ONNX Runtime GenAI's int4 tied embedding
(the quantized table reshaped for the lm_head's MatMulNBits), which TensorRT's parser rejects on
uint8, becomes an initializer; the rewritten model matches the original."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main

N, K, BLOCK = 16, 32, 32  # vocab rows, hidden, MatMulNBits block


def tied_head_model() -> onnx.ModelProto:
    """hidden [B, S, K] -> MatMulNBits over Reshape(table [N, K / 2] uint8 -> [N, 1, K / 2])."""
    rng = np.random.default_rng(0)
    table = rng.integers(0, 256, (N, K // 2), dtype=np.uint8)
    scales = (rng.random((N, K // BLOCK)) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Reshape", ["embed.table", "head.shape"], ["head.B"], name="/lm_head/Reshape"),
        helper.make_node(
            "MatMulNBits",
            ["hidden", "head.B", "head.scales"],
            ["logits"],
            name="/lm_head/MatMulNBits",
            domain="com.microsoft",
            K=K,
            N=N,
            bits=4,
            block_size=BLOCK,
        ),
    ]
    inits = [
        numpy_helper.from_array(table, "embed.table"),
        numpy_helper.from_array(np.array([N, K // BLOCK, BLOCK // 2], np.int64), "head.shape"),
        numpy_helper.from_array(scales, "head.scales"),
    ]
    graph = helper.make_graph(
        nodes,
        "tied_head",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "S", K])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", "S", N])],
        inits,
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def test_uint8_reshape_is_folded_and_the_model_matches(tmp_path: Path, capsys) -> None:
    src, out = tmp_path / "head.onnx", tmp_path / "head.plugins.onnx"
    onnx.save(tied_head_model(), src)
    assert main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["/lm_head/Reshape"]["action"] == "folded", changes
    rewritten = onnx.load(out)
    assert not [n for n in rewritten.graph.node if n.op_type == "Reshape"]
    folded = {t.name: numpy_helper.to_array(t) for t in rewritten.graph.initializer}["head.B"]
    assert folded.dtype == np.uint8 and folded.shape == (N, K // BLOCK, BLOCK // 2)
    dims = ["--dim", "B=2", "--dim", "S=3"]
    assert main(["parity", "--model", str(src), "--rewritten", str(out), "--impl", "numpy", *dims, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass", result


def test_a_float_reshape_is_left_to_tensorrt(tmp_path: Path, capsys) -> None:
    model = tied_head_model()
    table = next(t for t in model.graph.initializer if t.name == "embed.table")
    table.CopyFrom(numpy_helper.from_array(np.zeros((N, K // 2), np.float32), "embed.table"))
    src, out = tmp_path / "float.onnx", tmp_path / "float.plugins.onnx"
    onnx.save(model, src)
    main(["rewrite", str(src), "-o", str(out), "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert "/lm_head/Reshape" not in changes  # not ours: TensorRT imports a float Reshape
