"""ONNX Runtime's default-domain contrib ops (ONNX Runtime GenAI's SimplifiedLayerNormalization):
models ONNX Runtime loads are rewritten, not refused by the ONNX checker; an op neither ONNX nor
ONNX Runtime knows, or one that breaks ONNX Runtime's schema, is refused naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.rewrite_models import const, io
from trtplug.cli import main

HIDDEN = 16


def genai_block(norm_inputs=("x", "gamma"), norm_op="SimplifiedLayerNormalization") -> onnx.ModelProto:
    """The shape of an ONNX Runtime GenAI decoder layer's norms and MLP activation: a default-domain
    SimplifiedLayerNormalization, com.microsoft SkipSimplifiedLayerNormalization and FastGelu."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node(norm_op, list(norm_inputs), ["n1"], name="input_layernorm", epsilon=1e-6, axis=-1),
        helper.make_node("MatMul", ["n1", "w"], ["h"], name="proj"),
        helper.make_node(
            "SkipSimplifiedLayerNormalization", ["h", "x", "gamma"], ["n2"], domain="com.microsoft", name="post_norm"
        ),
        helper.make_node("FastGelu", ["n2", "b"], ["y"], domain="com.microsoft", name="mlp_act"),
    ]
    inits = [const("w", rng.standard_normal((HIDDEN, HIDDEN)) * 0.2), const("gamma", np.ones(HIDDEN))]
    inits.append(const("b", rng.standard_normal(HIDDEN)))
    graph = helper.make_graph(nodes, "genai", [io("x")], [io("y")], initializer=inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


def save(model: onnx.ModelProto, tmp_path: Path) -> Path:
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return path


def test_onnx_checker_alone_refuses_the_model_onnxruntime_loads(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = genai_block()
    with pytest.raises(onnx.checker.ValidationError, match="SimplifiedLayerNormalization"):
        onnx.checker.check_model(model)
    ort.InferenceSession(str(save(model, tmp_path)), providers=["CPUExecutionProvider"])  # ORT loads it


def test_rewrite_accepts_onnxruntime_default_domain_ops(tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    path = save(genai_block(), tmp_path)
    before = path.read_bytes()
    out = tmp_path / "out.onnx"
    # Excluded, the default-domain node stays (a plugin covers it now): its domain must come back.
    args = ["rewrite", str(path), "-o", str(out), "--json", "--exclude", "SimplifiedLayerNormalization"]
    assert main(args) == 0
    rewritten = onnx.load(out)
    ops = [(n.domain, n.op_type) for n in rewritten.graph.node]
    assert ("", "SimplifiedLayerNormalization") in ops  # left as it is: the original domain restored
    assert not any(n.domain == "trtplug.unchecked" for n in rewritten.graph.node)
    assert {i.domain for i in rewritten.opset_import}.isdisjoint({"trtplug.unchecked"})
    assert "TrtplugFastGelu" in {n.op_type for n in rewritten.graph.node}
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"norm_op": "NoSuchNorm"}, "node 'input_layernorm': no ONNX or ONNX Runtime op 'NoSuchNorm'"),
        (
            {"norm_inputs": ("x", "gamma", "gamma")},
            "node 'input_layernorm' (SimplifiedLayerNormalization) has 3 inputs",
        ),
    ],
)
def test_rewrite_refuses_ops_onnxruntime_does_not_define(tmp_path: Path, capsys, kwargs, message) -> None:
    pytest.importorskip("onnxruntime")
    path = save(genai_block(**kwargs), tmp_path)
    out = tmp_path / "out.onnx"
    assert main(["rewrite", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
