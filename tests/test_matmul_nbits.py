"""MatMulNBits on the CPU beyond the parity cases: the packing order against hand-packed weights,
a decoder MLP slice (three MatMulNBits) rewritten per target and compared at model level with
ONNX Runtime, the rewrite's refusals, and the benchmark workload."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry
from trtplug.shape_rules import apply_rule

HIDDEN, INTERMEDIATE, BLOCK = 64, 96, 32


def pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """Codes (rows, n) packed into bytes low bits first, written out per byte (not the prototype's way)."""
    per_byte = 8 // bits
    rows, count = codes.shape
    out = np.zeros((rows, count // per_byte), dtype=np.uint8)
    for i in range(count):
        out[:, i // per_byte] |= (codes[:, i] << (bits * (i % per_byte))).astype(np.uint8)
    return out


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_prototype_unpacks_low_bits_first(bits: int) -> None:
    rng = np.random.default_rng(bits)
    n, k, block = 5, 40, 16  # K not a multiple of the block: the last block is padded
    blocks = -(-k // block)
    codes = rng.integers(0, 2**bits, (n, blocks * block))
    zero = rng.integers(0, 2**bits, (n, blocks))
    scale = rng.uniform(0.5, 1.5, (n, blocks)).astype(np.float32)
    b = pack(codes, bits).reshape(n, blocks, block * bits // 8)
    zp_codes = np.zeros((n, -(-blocks * bits // 8) * 8 // bits), dtype=np.int64)
    zp_codes[:, :blocks] = zero
    a = rng.standard_normal((3, k)).astype(np.float32)
    expected = np.zeros((3, n))
    for i in range(n):
        for j in range(k):
            w = (codes[i, j] - zero[i, j // block]) * float(scale[i, j // block])
            expected[:, i] += a[:, j].astype(np.float64) * w
    y = np.full((3, n), np.nan, dtype=np.float32)
    attrs = {"K": k, "N": n, "bits": bits, "block_size": block}
    pyplugin_module(load_registry().get("matmul_nbits")).forward(np, [a, b, scale, pack(zp_codes, bits)], [y], attrs)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)  # float32 sums of K products


def test_output_shape_rule_replaces_the_last_dim_with_n() -> None:
    assert apply_rule("matmul_transposed:A,B", {"A": (2, 3, 64), "B": (96, 2, 16)}) == (2, 3, 96)
    assert apply_rule("matmul_transposed:A,B", {"A": (0, 64), "B": (7, 4, 8)}) == (0, 7)


def _trained_scales(rng: np.random.Generator, n: int, blocks: int, k: int) -> np.ndarray:
    """Scales that keep each projection's output of unit size for unit inputs (int4 codes span
    +-8: scale ~ 2 / 16 / sqrt(K)), as in trained layers. Scales near 0.1 made the MLP's output
    ~400 and its float32 sums round by 2.4e-4, past the 1e-4 tolerance on small outputs."""
    return (rng.uniform(0.5, 1.5, (n, blocks)) * 2 / 16 / np.sqrt(k)).astype(np.float32)


def nbits_node(rng: np.random.Generator, name: str, x: str, y: str, k: int, n: int, inits: list) -> onnx.NodeProto:
    """A MatMulNBits node with int4 weights, packed zero points and scales as initializers."""
    blocks = -(-k // BLOCK)
    inits += [
        numpy_helper.from_array(rng.integers(0, 256, (n, blocks, BLOCK // 2), dtype=np.uint8), f"{name}.B"),
        numpy_helper.from_array(_trained_scales(rng, n, blocks, k), f"{name}.scales"),
        numpy_helper.from_array(rng.integers(0, 256, (n, -(-blocks // 2)), dtype=np.uint8), f"{name}.zp"),
    ]
    inputs = [x, f"{name}.B", f"{name}.scales", f"{name}.zp"]
    return helper.make_node(
        "MatMulNBits", inputs, [y], name=name, domain="com.microsoft", K=k, N=n, bits=4, block_size=BLOCK
    )


def mlp_model() -> onnx.ModelProto:
    """ONNX Runtime GenAI's int4 MLP: down(silu(gate(x)) * up(x)), each projection a MatMulNBits."""
    rng = np.random.default_rng(0)
    inits: list = []
    nodes = [
        nbits_node(rng, "gate_proj", "x", "gate", HIDDEN, INTERMEDIATE, inits),
        nbits_node(rng, "up_proj", "x", "up", HIDDEN, INTERMEDIATE, inits),
        helper.make_node("Sigmoid", ["gate"], ["gate_sig"]),
        helper.make_node("Mul", ["gate", "gate_sig"], ["act"]),
        helper.make_node("Mul", ["act", "up"], ["hidden"]),
        nbits_node(rng, "down_proj", "hidden", "y", INTERMEDIATE, HIDDEN, inits),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        inits,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mlp") / "mlp.onnx"
    onnx.save(mlp_model(), path)
    return path


def test_decoder_mlp_rewritten_for_tensorrt_matches_onnxruntime(mlp: Path, tmp_path: Path, capsys) -> None:
    """TensorRT has no MatMulNBits importer (static data, 10.16): all three become plugin nodes,
    and the rewritten model (plugins run by the prototype) matches ONNX Runtime on the original."""
    out = tmp_path / "mlp.plugins.onnx"
    assert main(["rewrite", str(mlp), "-o", str(out), "--trt-version", "10.16", "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert sorted(c["node"] for c in changes if c["action"] == "replaced") == ["down_proj", "gate_proj", "up_proj"]
    plugins = [n for n in onnx.load(out).graph.node if n.domain == "trtplug"]
    assert [n.op_type for n in plugins] == ["TrtplugMatMulNBits"] * 3
    fields = {a.name: helper.get_attribute_value(a) for a in plugins[2].attribute}
    assert (fields["K"], fields["N"], fields["bits"], fields["block_size"]) == (INTERMEDIATE, HIDDEN, 4, BLOCK)
    dims = ["--dim", "batch=2", "--dim", "seq=5"]
    assert main(["parity", "--model", str(mlp), "--rewritten", str(out), "--impl", "numpy", *dims, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass", result


def test_static_check_names_the_plugin(mlp: Path, capsys) -> None:
    assert main(["check", "--static", "--json", str(mlp)]) == 0  # every rejected node is covered
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["node"]: f["plugin"] for f in findings} == dict.fromkeys(
        ["gate_proj", "up_proj", "down_proj"], "TrtplugMatMulNBits"
    )


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [({"weight_prepacked": 1}, "weight_prepacked"), ({"bits": 3}, "bits"), ({"block_size": 8}, "block_size")],
)
def test_rewrite_leaves_nodes_the_plugin_cannot_take(tmp_path: Path, capsys, attrs: dict, reason: str) -> None:
    model = mlp_model()
    node = model.graph.node[0]
    kept = [a for a in node.attribute if a.name not in attrs]
    del node.attribute[:]
    node.attribute.extend([*kept, *(helper.make_attribute(k, v) for k, v in attrs.items())])
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, src)
    main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["gate_proj"]["action"] == "left" and reason in changes["gate_proj"]["reason"]
    assert changes["up_proj"]["action"] == "replaced"


def test_bench_workload_has_the_issue_shape_and_torch_agrees() -> None:
    from trtplug.bench.workload import bench_shapes, make_workload

    spec = load_registry().get("matmul_nbits")
    proto = pyplugin_module(spec)
    shapes = bench_shapes(spec, proto, 8 << 10, 2)
    assert shapes == {"A": (1, 4096), "B": (4096, 128, 16), "scales": (4096, 128)}
    w = make_workload(np, spec, shapes, "float32", 1, seed=0)
    assert (w.case.attrs["K"], w.case.attrs["N"], w.case.attrs["block_size"]) == (4096, 4096, 32)
    y = np.full((1, 4096), np.nan, dtype=np.float32)
    proto.forward(np, w.inputs[0], [y], w.case.attrs)
    torch = pytest.importorskip("torch")
    got = proto.torch_equivalent(torch, [torch.as_tensor(a) for a in w.inputs[0][:3]], w.case.attrs).numpy()
    np.testing.assert_allclose(got, y, rtol=1e-4, atol=1e-2)


def test_tensorrt_rtx_parser_refuses_fp32_activations_and_the_rewrite_follows(
    mlp: Path, tmp_path: Path, capsys
) -> None:
    """TensorRT-RTX has a MatMulNBits importer, but for fp16 A only: its parser rejects this fp32
    MLP, and the rewrite (target: the parser, no --trt-version) replaces all three nodes."""
    pytest.importorskip("tensorrt_rtx")
    main(["check", "--json", str(mlp)])
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"].startswith("tensorrt_rtx")
    assert all("must be FP16" in f["reason"] for f in doc["findings"]) and len(doc["findings"]) == 3
    out = tmp_path / "rtx.onnx"
    assert main(["rewrite", str(mlp), "-o", str(out), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert sorted(c["node"] for c in changes if c["action"] == "replaced") == ["down_proj", "gate_proj", "up_proj"]
