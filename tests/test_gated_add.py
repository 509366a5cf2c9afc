"""GatedAdd (plain mode): the prototype against ONNX Runtime's CPU kernel bit for bit on fresh random
inputs (float32 and float16: the product rounded on its own, in fp16 to fp16, as ONNX Runtime does),
bf16 against ml_dtypes' separate multiply and add, and a Qwen3.5-MoE-style block (MoE output plus
the shared expert's MLP output gated by Sigmoid(MatMul)) through check, rewrite and model parity.
Projected mode (gate_weight) is left by the rewrite with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pyplugins import gated_add as proto
from tests.moe_models import moe_weights, router
from trtplug.cli import main
from trtplug.parity.ort_session import cpu_session
from trtplug.protolib.dtypes import BF16, to_bfloat16

SHAPES = [(2, 5, 64), (9, 32), (3, 7, 5), (4, 1), (1,), (2, 0, 8)]
ELEM = {np.float32: TensorProto.FLOAT, np.float16: TensorProto.FLOAT16}
HIDDEN, EXPERTS, INTER, SHARED_INTER = 32, 4, 24, 40
PLUGINS = {"TrtplugMoE", "TrtplugGatedAdd"}


def ort_gated_add(x: np.ndarray, y: np.ndarray, gate: np.ndarray) -> np.ndarray:
    node = helper.make_node("GatedAdd", ["X", "Y", "gate"], ["output"], domain="com.microsoft")
    info = lambda n: helper.make_tensor_value_info(n, ELEM[x.dtype.type], None)  # noqa: E731
    graph = helper.make_graph([node], "g", [info(n) for n in ("X", "Y", "gate")], [info("output")])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    )
    return cpu_session(model.SerializeToString()).run(None, {"X": x, "Y": y, "gate": gate})[0]


def make_inputs(shape, dtype, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal(shape, dtype=np.float32) * 4 for _ in range(2))
    gate = rng.standard_normal((*shape[:-1], 1), dtype=np.float32) * 3
    return tuple(to_bfloat16(a) if dtype == BF16 else a.astype(dtype) for a in (x, y, gate))


def run_proto(x, y, gate) -> np.ndarray:
    out = np.full(x.shape, np.nan, x.dtype)  # poisoned: every element must be written
    proto.forward(np, [x, y, gate], [out], {})
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_prototype_is_onnxruntime_bit_for_bit(dtype, shape, seed):
    x, y, gate = make_inputs(shape, dtype, seed)
    got, want = run_proto(x, y, gate), ort_gated_add(x, y, gate)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
def test_the_product_is_rounded_on_its_own(dtype, seed):
    """What makes bit parity possible: ONNX Runtime rounds Y * gate to T before the add. One rounding
    of the whole (a fused multiply-add, or fp16 math kept in float32) differs from it."""
    x, y, gate = make_inputs((2, 5, 2048), dtype, seed)
    want = ort_gated_add(x, y, gate)
    wide = [a.astype(np.float64) for a in (x, y, gate)]
    once = (wide[0] + wide[1] * wide[2]).astype(dtype)
    assert (once != want).sum() > 100
    np.testing.assert_array_equal(run_proto(x, y, gate), want)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bfloat16_is_a_bf16_multiply_then_add(shape, seed):
    """ONNX Runtime has no CPU bf16 GatedAdd: ml_dtypes' bf16 Mul then Add (each rounded) is the oracle."""
    x, y, gate = make_inputs(shape, BF16, seed)
    want = x + y * gate
    got = run_proto(x, y, gate)
    assert got.dtype == BF16
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_prototype_refuses_gate_weight():
    x, y, gate = make_inputs((2, 4), np.float32, 0)
    with pytest.raises(ValueError, match="gate_weight"):
        proto.forward(np, [x, y, gate, np.ones((1, 1), np.float32)], [np.empty_like(x)], {})


@pytest.mark.parametrize(
    ("shapes", "bad"),
    [
        ([(2, 4), (2, 4), (2, 4)], "gate (2, 4)"),
        ([(2, 4), (2, 4), (1, 1)], "gate (1, 1)"),
        ([(2, 4), (2, 4), (2,)], "gate (2,)"),
        ([(2, 4), (2, 3), (2, 1)], "Y (2, 3)"),
        ([(2, 0), (2, 0), (2, 1)], "X (2, 0)"),
    ],
    ids=["gate_last_dim_4", "gate_leading_dims_differ", "gate_rank_1", "y_shape", "c_0"],
)
def test_prototype_refuses_shapes(shapes, bad):
    x, y, gate = (np.zeros(s, np.float32) for s in shapes)
    with pytest.raises(ValueError, match="GatedAdd takes X") as err:
        proto.forward(np, [x, y, gate], [np.empty_like(x)], {})
    assert bad in str(err.value)


def qwen3_5_moe_block(gate_weight: bool = False) -> onnx.ModelProto:
    """A Qwen3.5-MoE-style sparse block in the form ONNX Runtime GenAI 0.18's builder combines it,
    GatedAdd(moe_output, shared_expert_output, shared_gate): the routed experts (router MatMul + Add
    -> MoE, SwiGLU experts), the shared expert's SwiGLU MLP and its gate Sigmoid(MatMul(hidden, [H, 1])).
    Sizes, weights and the MoE attributes are small stand-ins, not copied from an export. With
    `gate_weight`, the projected form instead: GatedAdd(..., hidden, gate.weight [H, 1])."""
    rng = np.random.default_rng(11)
    p = "/model/layers.0/mlp"
    weights = moe_weights(rng, EXPERTS, HIDDEN, INTER, 2 * INTER)
    experts = ["fc1_experts_weights", "fc2_experts_weights"]
    router_nodes, inits = router(rng, p, "hidden", HIDDEN, EXPERTS)
    inits += [numpy_helper.from_array(weights[k], f"experts.{k}") for k in experts]

    def weight(name: str, rows: int, cols: int) -> str:
        inits.append(
            numpy_helper.from_array((rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32), name)
        )
        return name

    # SwiGLU experts, gate and up rows interleaved in fc1 (swiglu_fusion 1): silu(gate) * up with
    # ONNX Runtime's defaults alpha 1, beta 0 and no limit.
    moe_attrs = {"activation_type": "swiglu", "swiglu_fusion": 1, "k": 2, "normalize_routing_weights": 1}
    expert_inputs = ["experts.fc1_experts_weights", "", "experts.fc2_experts_weights"]
    shared = f"{p}/shared_expert"
    nodes = [
        *router_nodes,
        helper.make_node(
            "MoE",
            ["hidden", "router", *expert_inputs],
            ["moe_out"],
            name=f"{p}/MoE",
            domain="com.microsoft",
            **moe_attrs,
        ),
        helper.make_node(
            "MatMul", ["hidden", weight("gate_proj", HIDDEN, SHARED_INTER)], ["g"], name=f"{shared}/gate_proj/MatMul"
        ),
        helper.make_node("Sigmoid", ["g"], ["g_sig"], name=f"{shared}/act_fn/Sigmoid"),
        helper.make_node("Mul", ["g", "g_sig"], ["g_act"], name=f"{shared}/act_fn/Mul"),
        helper.make_node(
            "MatMul", ["hidden", weight("up_proj", HIDDEN, SHARED_INTER)], ["u"], name=f"{shared}/up_proj/MatMul"
        ),
        helper.make_node("Mul", ["g_act", "u"], ["gu"], name=f"{shared}/Mul"),
        helper.make_node(
            "MatMul",
            ["gu", weight("down_proj", SHARED_INTER, HIDDEN)],
            ["shared_out"],
            name=f"{shared}/down_proj/MatMul",
        ),
    ]
    gate_w = weight("shared_expert_gate.weight", HIDDEN, 1)
    if gate_weight:
        gated_inputs = ["moe_out", "shared_out", "hidden", gate_w]
    else:
        nodes += [
            helper.make_node("MatMul", ["hidden", gate_w], ["gate_logit"], name=f"{p}/shared_expert_gate/MatMul"),
            helper.make_node("Sigmoid", ["gate_logit"], ["shared_gate"], name=f"{p}/shared_expert_gate/Sigmoid"),
        ]
        gated_inputs = ["moe_out", "shared_out", "shared_gate"]
    nodes.append(helper.make_node("GatedAdd", gated_inputs, ["mlp_out"], name=f"{p}/GatedAdd", domain="com.microsoft"))
    dims = ["batch_size", "sequence_length", HIDDEN]
    graph = helper.make_graph(
        nodes,
        "qwen3_5_moe_block",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("mlp_out", TensorProto.FLOAT, dims)],
        inits,
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


@pytest.fixture
def block(tmp_path: Path) -> Path:
    path = tmp_path / "qwen3_5_moe_block.onnx"
    onnx.save(qwen3_5_moe_block(), path)
    return path


def test_check_covers_the_block(block: Path, capsys) -> None:
    main(["check", str(block), "--static", "--trt-version", "10.16", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["uncovered"] in (0, [])
    assert {f["plugin"] for f in doc["findings"]} == PLUGINS


@pytest.mark.parametrize(("batch", "seq"), [(2, 5), (1, 1)], ids=["prompt", "decode"])
def test_rewrite_and_model_parity(block: Path, tmp_path: Path, capsys, batch: int, seq: int) -> None:
    out = tmp_path / "out.onnx"
    assert main(["rewrite", str(block), "-o", str(out)]) == 0
    rewritten = onnx.load(out).graph.node
    assert {n.op_type for n in rewritten} >= PLUGINS
    [node] = [n for n in rewritten if n.op_type == "TrtplugGatedAdd"]
    assert list(node.input) == ["moe_out", "shared_out", "shared_gate"] and list(node.output) == ["mlp_out"]
    capsys.readouterr()
    dims = [f"--dim=batch_size={batch}", f"--dim=sequence_length={seq}"]
    assert main(["parity", "--model", str(block), "--rewritten", str(out), *dims, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["reference"] == "onnxruntime", result
    assert set(result["plugins"]) == PLUGINS
    assert [o["output"] for o in result["outputs"]] == ["mlp_out"]


def test_projected_mode_is_left_with_the_reason(tmp_path: Path, capsys) -> None:
    """gate_weight (CUDA/bf16-only in ONNX Runtime, no CPU kernel to check it against) is refused."""
    src, out = tmp_path / "projected.onnx", tmp_path / "out.onnx"
    onnx.save(qwen3_5_moe_block(gate_weight=True), src)
    main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    left = changes["/model/layers.0/mlp/GatedAdd"]
    assert left["action"] == "left", left
    assert "4 inputs, TrtplugGatedAdd takes at most 3 (X, Y, gate)" in left["reason"], left
    assert changes["/model/layers.0/mlp/MoE"]["action"] == "replaced"
    assert [n.op_type for n in onnx.load(out).graph.node].count("GatedAdd") == 1
    main(["check", str(src), "--static", "--trt-version", "10.16", "--json"])
    [finding] = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["op_type"] == "GatedAdd"]
    assert finding["plugin"] is None and "takes at most 3 (X, Y, gate)" in finding["reason"], finding


def test_a_trailing_empty_gate_weight_is_plain_mode(tmp_path: Path, capsys) -> None:
    """GatedAdd(X, Y, gate, "") leaves gate_weight out, as ONNX reads it: the rewrite replaces it."""
    model = qwen3_5_moe_block()
    [node] = [n for n in model.graph.node if n.op_type == "GatedAdd"]
    node.input.append("")
    src, out = tmp_path / "trailing.onnx", tmp_path / "out.onnx"
    onnx.save(model, src)
    assert main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["/model/layers.0/mlp/GatedAdd"]["action"] == "replaced"
    [plugin] = [n for n in onnx.load(out).graph.node if n.op_type == "TrtplugGatedAdd"]
    assert list(plugin.input) == ["moe_out", "shared_out", "shared_gate"]
