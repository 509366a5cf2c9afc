"""Model parity on bf16 models (ONNX Runtime GenAI's bf16 CUDA builds): ONNX Runtime's CPU provider
has no bf16 MatMul/Mul and its Python API takes and returns no bf16 array, so both models run
widened (trtplug/parity/bf16_cpu.py): each op in float32 between bf16 roundings, float32 at
ONNX Runtime's boundary. Built with onnx.helper: an RMS-norm block as GenAI writes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main
from trtplug.parity.bf16_cpu import widen
from trtplug.parity.impl_base import pyplugin_module
from trtplug.protolib.dtypes import BF16
from trtplug.registry import load_registry

HIDDEN = 16
BF = TensorProto.BFLOAT16


def bf16_block(seed: int = 0) -> onnx.ModelProto:
    """x (bf16) -> SimplifiedLayerNormalization -> MatMul -> Mul -> y (bf16) and logits (float32)."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((HIDDEN, HIDDEN)).astype(BF16), "W")
    scale = numpy_helper.from_array((1 + 0.1 * rng.standard_normal(HIDDEN)).astype(BF16), "gamma")
    nodes = [
        helper.make_node("SimplifiedLayerNormalization", ["x", "gamma"], ["normed"], axis=-1, epsilon=1e-6),
        helper.make_node("MatMul", ["normed", "W"], ["proj"]),
        helper.make_node("Mul", ["proj", "x"], ["y"]),
        helper.make_node("Cast", ["proj"], ["logits"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "bf16_block",
        [helper.make_tensor_value_info("x", BF, ["batch", "seq", HIDDEN])],
        [
            helper.make_tensor_value_info("y", BF, ["batch", "seq", HIDDEN]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
        ],
        initializer=[weight, scale],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


@pytest.fixture
def models(tmp_path: Path) -> tuple[Path, Path]:
    source, out = tmp_path / "block.onnx", tmp_path / "block.plugins.onnx"
    onnx.save(bf16_block(), source)
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    assert "TrtplugSimplifiedLayerNorm" in [n.op_type for n in onnx.load(out).graph.node]
    return source, out


def test_onnxruntime_alone_cannot_run_the_original() -> None:
    ort = pytest.importorskip("onnxruntime")
    with pytest.raises(Exception, match="Could not find an implementation"):
        ort.InferenceSession(bf16_block().SerializeToString(), providers=["CPUExecutionProvider"])


def test_widening_keeps_casts_and_makes_the_boundary_float32() -> None:
    model = bf16_block()
    widened, inner = widen(model)
    assert widened == ["y"]
    assert [v.type.tensor_type.elem_type for v in model.graph.input] == [TensorProto.FLOAT]
    assert all(v.type.tensor_type.elem_type == TensorProto.FLOAT for v in model.graph.output)
    matmul = next(n for n in model.graph.node if n.op_type == "MatMul")
    assert all(name.endswith("float32_1") for name in matmul.input[:1])  # the island's upcast
    assert "normed" in inner and "y" not in inner


def test_model_parity_passes_in_bf16(models, capsys) -> None:
    source, out = models
    for seq in ("1", "5"):
        capsys.readouterr()
        code = main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", f"seq={seq}", "--seed", "3"])
        report = capsys.readouterr().out
        assert code == 0, report
        assert "bf16 ops computed in float32" in report


def test_a_wrong_bf16_plugin_fails_model_parity(models, capsys, monkeypatch) -> None:
    source, out = models
    family = pyplugin_module(load_registry().get("simplified_layer_norm"))
    real = family.forward

    def off_by_five_percent(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        outputs[0][...] = outputs[0] * 1.05

    monkeypatch.setattr(family, "forward", off_by_five_percent)
    code = main(["parity", "--model", str(source), "--rewritten", str(out), "--seed", "3"])
    assert code != 0, capsys.readouterr().out
