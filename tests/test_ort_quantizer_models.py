"""rewrite and model parity on what ONNX Runtime's own weight quantizer writes.

ONNX Runtime's `matmul_nbits_quantizer` turns float MatMuls into com.microsoft MatMulNBits, in the
forms int4 deployments download: RTN with and without zero points, other block sizes, 8 bits, an
accuracy_level, HQQ's float zero points. Quantizing Gather as well (as int4 embeddings do) writes
com.microsoft GatherBlockQuantized over a uint4 (zero points) or int4 (symmetric) table, which the
rewrite repacks to uint8 for TrtplugGatherBlockQuantized and reports so.
The float model is built here with onnx helpers; the quantizer's output is the model under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main

quantizer = pytest.importorskip(
    "onnxruntime.quantization.matmul_nbits_quantizer", reason="ONNX Runtime's quantizer (needs onnx-ir)"
)

HIDDEN, INNER, VOCAB = 64, 128, 50


def float_model(with_embedding: bool = False) -> onnx.ModelProto:
    """x [batch, 64] (or token ids [batch]) -> MatMul 64x128 -> Relu -> MatMul 128x64 -> y."""
    rng = np.random.default_rng(0)
    weights = {
        "w1": rng.standard_normal((HIDDEN, INNER)).astype(np.float32) / 8,
        "w2": rng.standard_normal((INNER, HIDDEN)).astype(np.float32) / 8,
    }
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="up"),
        helper.make_node("Relu", ["h"], ["r"], name="act"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="down"),
    ]
    source = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", HIDDEN])
    if with_embedding:
        weights["table"] = rng.standard_normal((VOCAB, HIDDEN)).astype(np.float32)
        nodes.insert(0, helper.make_node("Gather", ["table", "ids"], ["x"], name="embed"))
        source = helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch"])
    graph = helper.make_graph(
        nodes,
        "mlp",
        [source],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", HIDDEN])],
        [numpy_helper.from_array(w, name) for name, w in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def quantized(tmp_path: Path, name: str, config, model: onnx.ModelProto | None = None, **kwargs) -> Path:
    """The quantizer's output for `config`, saved as tmp_path/name.onnx."""
    quant = quantizer.MatMulNBitsQuantizer(model or float_model(), algo_config=config, **kwargs)
    quant.process()
    path = tmp_path / f"{name}.onnx"
    quant.model.save_model_to_file(str(path), use_external_data_format=False)
    return path


def rtn(bits: int, block: int, symmetric: bool, accuracy_level: int | None = None):
    return quantizer.DefaultWeightOnlyQuantConfig(
        block_size=block, is_symmetric=symmetric, accuracy_level=accuracy_level, bits=bits
    )


def hqq():
    pytest.importorskip("torch", reason="ONNX Runtime's HQQ quantizer runs on torch")
    return quantizer.HQQWeightOnlyQuantConfig(block_size=32, bits=4)


CONFIGS = {
    "rtn4_block32_zero_points": lambda: rtn(4, 32, False),
    "rtn4_block64_symmetric_accuracy4": lambda: rtn(4, 64, True, 4),
    "rtn8_block32": lambda: rtn(8, 32, False),
    "hqq4_block32_float_zero_points": hqq,
}


@pytest.mark.parametrize("name", CONFIGS)
def test_quantized_matmuls_rewrite_with_model_parity(tmp_path: Path, capsys, name: str) -> None:
    source, out = quantized(tmp_path, name, CONFIGS[name]()), tmp_path / "out.onnx"
    assert [n.op_type for n in onnx.load(source).graph.node].count("MatMulNBits") == 2
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    ops = [n.op_type for n in onnx.load(out).graph.node]
    assert ops.count("TrtplugMatMulNBits") == 2 and "MatMulNBits" not in ops
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "batch=3", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"


EMBEDDING_CONFIGS = {
    "uint4_zero_points_axis1": (32, False, 1),
    "int4_symmetric_axis1": (64, True, 1),
    "uint4_zero_points_axis0": (16, False, 0),  # quantized along the gathered axis
}


@pytest.mark.parametrize("name", EMBEDDING_CONFIGS)
def test_quantized_embedding_rewrites_with_model_parity(tmp_path: Path, capsys, name: str) -> None:
    block, symmetric, axis = EMBEDDING_CONFIGS[name]
    config = quantizer.DefaultWeightOnlyQuantConfig(
        block_size=block,
        is_symmetric=symmetric,
        bits=4,
        op_types_to_quantize=("MatMul", "Gather"),
        quant_axes=(("MatMul", 0), ("Gather", axis)),
    )
    source, out = quantized(tmp_path, name, config, float_model(with_embedding=True)), tmp_path / "out.onnx"
    assert "GatherBlockQuantized" in [n.op_type for n in onnx.load(source).graph.node]
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    [gather] = [c for c in changes if c["op"] == "com.microsoft::GatherBlockQuantized"]
    assert gather["action"] == "replaced" and any("repacked to uint8" in line for line in gather["mapping"])
    model = onnx.load(out)
    ops = [n.op_type for n in model.graph.node]
    assert "TrtplugGatherBlockQuantized" in ops and "GatherBlockQuantized" not in ops
    four_bit = {TensorProto.INT4, TensorProto.UINT4}
    assert not [t.name for t in model.graph.initializer if t.data_type in four_bit]
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "batch=5", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"
