"""GatherBlockQuantized's rewrite: int4/uint4 tables repacked to the plugin's uint8 form (the
odd-length last axis as one code a byte, uint4's default zero point made explicit) keep model
parity with ONNX Runtime on the original; a bad attribute leaves the node with a named reason.
Models are built here with onnx helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from trtplug.cli import main

pytest.importorskip("onnxruntime", reason="model parity runs the original in ONNX Runtime")


def table_model(shape: tuple[int, ...], kind: int, zero_points: bool, **attrs) -> onnx.ModelProto:
    """ids [n] -> GatherBlockQuantized(4-bit table of `shape`) -> y, scales float32 per block."""
    rng = np.random.default_rng(0)
    low, high = (-8, 8) if kind == TensorProto.INT4 else (0, 16)
    rank = len(shape)
    quantize, block = attrs.get("quantize_axis", 1) % rank, attrs.get("block_size", 128)
    scales_shape = [-(-d // block) if i == quantize else d for i, d in enumerate(shape)]
    codes = rng.integers(low, high, shape)
    inits = [
        helper.make_tensor("table", kind, shape, codes.reshape(-1).tolist()),
        onnx.numpy_helper.from_array(rng.uniform(0.5, 1.5, scales_shape).astype(np.float32), "scales"),
    ]
    inputs = ["table", "ids", "scales"]
    if zero_points:
        inits.append(
            helper.make_tensor("zp", kind, scales_shape, rng.integers(low, high, scales_shape).reshape(-1).tolist())
        )
        inputs.append("zp")
    node = helper.make_node("GatherBlockQuantized", inputs, ["y"], name="embed", domain="com.microsoft", **attrs)
    graph = helper.make_graph(
        [node],
        "embedding",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def rewrite(tmp_path: Path, capsys, model: onnx.ModelProto) -> tuple[Path, Path, dict]:
    source, out = tmp_path / "model.onnx", tmp_path / "out.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered", "--json"]) == 0
    [change] = json.loads(capsys.readouterr().out)["changes"]
    return source, out, change


CASES = {
    "int4_odd_last_axis_gather_axis1": (
        (7, 5),
        TensorProto.INT4,
        True,
        {"gather_axis": 1, "quantize_axis": 0, "block_size": 16},
    ),
    "uint4_default_zero_point": ((9, 32), TensorProto.UINT4, False, {"block_size": 16}),
    "int4_default_zero_point_rank3": ((6, 3, 20), TensorProto.INT4, False, {"quantize_axis": 2, "block_size": 16}),
}


@pytest.mark.parametrize("name", CASES)
def test_four_bit_tables_rewrite_with_model_parity(tmp_path: Path, capsys, name: str) -> None:
    shape, kind, zero_points, attrs = CASES[name]
    source, out, change = rewrite(tmp_path, capsys, table_model(shape, kind, zero_points, **attrs))
    assert change["action"] == "replaced", change["reason"]
    assert any("repacked to uint8" in line for line in change["mapping"])
    [node] = onnx.load(out).graph.node
    bits = next(helper.get_attribute_value(a) for a in node.attribute if a.name == "bits")
    assert bits == (8 if shape[-1] % 2 else 4)
    assert f"bits={bits} (the uint8 repack's)" in change["mapping"]  # not the node's: it has no bits=8
    assert len(node.input) == (3 if kind == TensorProto.INT4 and not zero_points and bits == 4 else 4)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", "n=6", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"


def test_bad_block_size_leaves_the_node_with_the_attribute_named(tmp_path: Path, capsys) -> None:
    model = table_model((4, 32), TensorProto.UINT4, True, block_size=16)
    next(a for a in model.graph.node[0].attribute if a.name == "block_size").i = 24
    _, _, change = rewrite(tmp_path, capsys, model)
    assert change["action"] == "left"
    assert "attribute 'block_size'" in change["reason"] and "24" in change["reason"]
