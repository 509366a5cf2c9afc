"""Types after contrib ops: ONNX inference knows no com.microsoft op and MultiHeadAttention's spec rule
is "dynamic:" (computed from several inputs), so the rewrite wrote its plugin output without a shape
and every node after it was judged untyped (ONNX Runtime's BERT optimizer with MultiHeadAttention:
nine MatMuls rejected by `check` on the rewritten model). ONNX Runtime's symbolic inference now
types them (graph_rewrites/ort_shapes.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from graph_rewrites.ort_shapes import _weightless
from trtplug.cli import main


def _mha_then_matmul() -> onnx.ModelProto:
    seq = ["batch", "seq", 64]
    weight = numpy_helper.from_array(np.eye(64, dtype=np.float32), "w")
    nodes = [
        helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["attn"], domain="com.microsoft", num_heads=4),
        helper.make_node("MatMul", ["attn", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mha",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, seq) for n in ("q", "k", "v")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[weight],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _shape(model: onnx.ModelProto, name: str) -> list | None:
    for value in (*model.graph.value_info, *model.graph.output):
        if value.name == name and value.type.tensor_type.HasField("shape"):
            return [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]
    return None


def test_the_plugin_output_after_a_dynamic_rule_keeps_its_shape(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "mha.onnx", tmp_path / "mha.plugins.onnx"
    onnx.save(_mha_then_matmul(), source)
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [c["action"] for c in changes if c["op"].endswith("MultiHeadAttention")] == ["replaced"]
    model = onnx.load(out)
    assert _shape(model, "attn") == ["batch", "seq", 64]
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    assert _shape(inferred, "y") == ["batch", "seq", 64]  # the MatMul after it is typed again


def test_large_weights_become_inputs_of_their_shape_for_the_tool() -> None:
    model = _mha_then_matmul()
    big = numpy_helper.from_array(np.zeros((128, 64), np.float32), "big")
    model.graph.initializer.append(big)
    light = _weightless(model)
    assert [t.name for t in light.graph.initializer] == ["w"]  # 4096 elements: kept with its values
    [entry] = [v for v in light.graph.input if v.name == "big"]
    assert [d.dim_value for d in entry.type.tensor_type.shape.dim] == [128, 64]
    assert len(model.graph.initializer) == 2  # the model itself is untouched


def test_incomplete_inference_keeps_its_types_and_writes_no_file(tmp_path: Path, monkeypatch) -> None:
    """ONNX Runtime's `infer_shapes` raises on an op it cannot type, after saving the partial model
    with uuid-named external data into the working directory; the loop is run here instead."""
    from graph_rewrites.ort_shapes import ort_symbolic_types
    from graph_rewrites.tensor_types import _type_of

    model = _mha_then_matmul()
    model.graph.node.append(helper.make_node("TrtplugUnknown", ["y"], ["z"], domain="trtplug"))
    model.opset_import.append(helper.make_opsetid("trtplug", 1))
    monkeypatch.chdir(tmp_path)
    types = ort_symbolic_types(model, _type_of)
    assert types["attn"].shape == ("batch", "seq", 64) and types["y"].shape == ("batch", "seq", 64)
    assert list(tmp_path.iterdir()) == []
