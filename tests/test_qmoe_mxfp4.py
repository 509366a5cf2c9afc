"""QMoE with MXFP4 experts (quant_type "fp4"), as ONNX Runtime GenAI's builder writes gpt-oss with
--extra_options moe_quant_type=mxfp4 (its CUDA builds; ONNX Runtime runs them on CUDA only): 17
inputs, FP4 E2M1 codes [E, K, N / 2] (even output column in the low nibble), FLOAT8E8M0 block
scales [E, N, K / 32], float32 per-expert global scales (inputs 15, 16). The reference's float64
dequantization and the prototype's float32 one against weights encoded here from known values; a
NaN scale (E8M0 255); the rewrite reading the E8M0 initializers as uint8 copies; and a GenAI-style
gpt-oss MoE block rewritten and held to float MoE on its dequantized weights at model level."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pyplugins import qmoe
from tests.moe_models import GPTOSS_ATTRS, OPSETS, rewritten_parity, router
from trtplug.cli import main
from trtplug.parity.reference import _numpy_reference_module
from trtplug.registry import builtin_plugins_dir

REFERENCE = _numpy_reference_module(builtin_plugins_dir() / "qmoe" / "reference.py")
# The node's attributes as GenAI 0.18's builder writes them for gpt-oss (moe_quant_type=mxfp4).
MXFP4_ATTRS = {**GPTOSS_ATTRS, "expert_weight_bits": 4, "block_size": 32, "quant_type": "fp4"}
MAGNITUDES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def encode(rng, experts: int, n: int, k: int, unit: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random MXFP4 weights: (codes [E, K, N / 2], E8M0 bytes [E, N, K / 32], the values [E, N, K]
    they stand for, float64), packed here from the format's definition; `unit`: scales within one
    of 1 / (2.9 sqrt(K)) (random E2M1 values have rms ~2.9), else over 2^-9..2^4."""
    sign = rng.integers(0, 2, (experts, n, k))
    magnitude = rng.integers(0, 8, (experts, n, k))
    centre = 127 - round(np.log2(2.9 * np.sqrt(k)))
    low, high = (centre - 1, centre + 2) if unit else (118, 132)
    exponents = rng.integers(low, high, (experts, n, k // 32))
    values = np.where(sign, -1.0, 1.0) * MAGNITUDES[magnitude] * np.repeat(np.exp2(exponents - 127.0), 32, axis=2)
    codes = (sign * 8 + magnitude).transpose(0, 2, 1)  # [E, K, N]
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    return packed, exponents.astype(np.uint8), values


def test_dequantization_decodes_the_encoded_values() -> None:
    rng = np.random.default_rng(0)
    packed, scales, values = encode(rng, 3, 10, 64)
    glob = np.array([1.0, 0.5, 3.0], np.float32)
    inputs = {"fc1_experts_weights": packed, "fc1_scales": scales, "fc1_global_scale": glob}
    expected = values * glob[:, None, None]
    np.testing.assert_array_equal(REFERENCE.dequantize(inputs, MXFP4_ATTRS, "fc1"), expected)
    for e in range(3):
        np.testing.assert_array_equal(qmoe.dequantize_mxfp4(np, packed[e], scales[e], glob[e]), expected[e])
    np.testing.assert_array_equal(qmoe.dequantize_mxfp4(np, packed[0], scales[0], None), values[0])


def test_e8m0_extremes() -> None:
    """E8M0: 2^(e - 127), 0 the subnormal 2^-127, 255 NaN."""
    scales = np.array([[0, 127], [254, 255]], np.uint8)
    decoded = REFERENCE.e8m0(scales)
    assert decoded[0, 0] == 2.0**-127 and decoded[0, 1] == 1.0 and decoded[1, 0] == 2.0**127
    assert np.isnan(decoded[1, 1])


def _case(rng, tokens: int, hidden: int, inter: int, experts: int, glob: bool = True) -> dict[str, np.ndarray]:
    fc1, s1, _ = encode(rng, experts, 2 * inter, hidden, unit=True)
    fc2, s2, _ = encode(rng, experts, hidden, inter, unit=True)
    inputs = {
        "input": rng.standard_normal((tokens, hidden)).astype(np.float32),
        "router_probs": rng.standard_normal((tokens, experts)).astype(np.float32),
        "fc1_experts_weights": fc1,
        "fc1_scales": s1,
        "fc1_experts_bias": (rng.standard_normal((experts, 2 * inter)) * 0.5).astype(np.float32),
        "fc2_experts_weights": fc2,
        "fc2_scales": s2,
        "fc2_experts_bias": (rng.standard_normal((experts, hidden)) * 0.5).astype(np.float32),
    }
    if glob:
        inputs["fc1_global_scale"] = rng.uniform(0.5, 2.0, experts).astype(np.float32)
        inputs["fc2_global_scale"] = rng.uniform(0.5, 2.0, experts).astype(np.float32)
    return inputs


def _prototype(inputs: dict[str, np.ndarray], attrs: dict) -> np.ndarray:
    ordered = [inputs.get(n) for n in qmoe.INPUTS]
    out = np.empty_like(inputs["input"])
    qmoe.forward(np, ordered, [out], attrs)
    return out


def test_a_nan_scale_makes_the_outputs_it_reaches_nan() -> None:
    """E8M0 255 is NaN (OCP Microscaling): one fc2 block of expert 1 NaN makes that output column
    NaN for the tokens routed to expert 1, and nothing else; prototype and reference agree."""
    rng = np.random.default_rng(5)
    inputs = _case(rng, 12, 64, 32, 3)
    inputs["fc2_scales"][1, 7, 0] = 255
    expected = REFERENCE.reference(inputs, MXFP4_ATTRS)[0]
    actual = _prototype(inputs, MXFP4_ATTRS)
    nan = np.isnan(expected)
    assert nan.any() and not nan.all()
    np.testing.assert_array_equal(np.isnan(actual), nan)
    assert set(np.argwhere(nan)[:, 1]) == {7}
    np.testing.assert_allclose(actual[~nan], expected[~nan], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("glob", [True, False])
def test_prototype_matches_reference(glob: bool) -> None:
    rng = np.random.default_rng(2)
    inputs = _case(rng, 9, 96, 64, 5, glob)
    assert REFERENCE.path(inputs, MXFP4_ATTRS) == "moe"  # ONNX Runtime's float MoE on the dequantized weights
    np.testing.assert_allclose(
        _prototype(inputs, MXFP4_ATTRS), REFERENCE.reference(inputs, MXFP4_ATTRS)[0], atol=1e-4, rtol=1e-4
    )


def test_node_problem_names_the_mxfp4_layout() -> None:
    shapes = {"input": [1, 64], "fc1_experts_weights": [4, 64, 64], "fc2_experts_weights": [4, 64, 32]}
    assert qmoe.node_problem(shapes, MXFP4_ATTRS) is None
    raw = {**shapes, "fc1_experts_weights": [4, 128, 32]}  # the integer layout [E, N, K / 2]
    assert "MXFP4 layout [E, K, N / 2]" in qmoe.node_problem(raw, MXFP4_ATTRS)
    odd = {"input": [1, 48], "fc1_experts_weights": [4, 48, 48], "fc2_experts_weights": [4, 48, 24]}
    assert "multiples of 32" in qmoe.node_problem(odd, MXFP4_ATTRS)


def e8m0_initializer(values: np.ndarray, name: str) -> onnx.TensorProto:
    """A FLOAT8E8M0 initializer from its bytes (as GenAI's builder writes the scales)."""
    return helper.make_tensor(name, TensorProto.FLOAT8E8M0, values.shape, values.tobytes(), raw=True)


def mxfp4_block_model(dtype=np.float32, hidden: int = 64, inter: int = 64, experts: int = 5) -> onnx.ModelProto:
    """GenAI's gpt-oss MoE block in its mxfp4 form (node structure copied from a moe_quant_type=mxfp4
    build): the router (MatMul + Add, Reshape to [-1, E]), QMoE with 17 inputs (codes, FLOAT8E8M0
    scales, biases; 8-14 empty; float32 global scales at 15 and 16), the residual Add."""
    rng = np.random.default_rng(17)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    prefix, w = "/model/layers.0/moe", "model.layers.0.moe.experts"
    case = _case(rng, 1, hidden, inter, experts)
    inits = [
        numpy_helper.from_array(case["fc1_experts_weights"], f"{w}.gate_up_proj.qweight"),
        e8m0_initializer(case["fc1_scales"], f"{w}.gate_up_proj.scales"),
        numpy_helper.from_array(case["fc1_experts_bias"].astype(dtype), f"{w}.gate_up_proj.bias"),
        numpy_helper.from_array(case["fc2_experts_weights"], f"{w}.down_proj.qweight"),
        e8m0_initializer(case["fc2_scales"], f"{w}.down_proj.scales"),
        numpy_helper.from_array(case["fc2_experts_bias"].astype(dtype), f"{w}.down_proj.bias"),
        numpy_helper.from_array(case["fc1_global_scale"], f"{w}.gate_up_proj.global_scales"),
        numpy_helper.from_array(case["fc2_global_scale"], f"{w}.down_proj.global_scales"),
    ]
    router_nodes, router_inits = router(rng, prefix, "hidden", hidden, experts, dtype)
    names = [i.name for i in inits]
    node_inputs = ["hidden", "router", *names[:6], *[""] * 7, *names[6:]]
    nodes = [
        *router_nodes,
        helper.make_node(
            "QMoE", node_inputs, ["moe_out"], name=f"{prefix}/QMoE", domain="com.microsoft", **MXFP4_ATTRS
        ),
        helper.make_node("Add", ["hidden", "moe_out"], ["output"], name="/model/layers.0/residual/Add"),
    ]
    dims = ["batch_size", "sequence_length", hidden]
    graph = helper.make_graph(
        nodes,
        "gptoss_mxfp4_block",
        [helper.make_tensor_value_info("hidden", elem, dims)],
        [helper.make_tensor_value_info("output", elem, dims)],
        inits + router_inits,
    )
    return helper.make_model(graph, opset_imports=OPSETS, ir_version=11)


def test_rewrite_reads_the_e8m0_scales_as_uint8(tmp_path: Path, capsys) -> None:
    """TensorRT has no E8M0 type (its parser refuses the initializer): the plugin node reads uint8
    copies of the same bytes, and the FLOAT8E8M0 initializers leave the graph."""
    model = mxfp4_block_model()
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, src)
    assert main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["/model/layers.0/moe/QMoE"]["action"] == "replaced"
    rewritten = onnx.load(out)
    assert not [t.name for t in rewritten.graph.initializer if t.data_type == TensorProto.FLOAT8E8M0]
    (node,) = [n for n in rewritten.graph.node if n.op_type == "TrtplugQMoE"]
    assert len(node.input) == 17
    inits = {t.name: t for t in rewritten.graph.initializer}
    originals = {t.name: t for t in model.graph.initializer}
    for i in (3, 6):
        copy = inits[node.input[i]]
        assert copy.data_type == TensorProto.UINT8
        original = originals[node.input[i].removesuffix("_uint8")]
        assert numpy_helper.to_array(copy).tobytes() == original.raw_data
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["quant_type"] == b"fp4" and fields["block_size"] == 32


def test_rewrite_refuses_float_scales_for_mxfp4(tmp_path: Path, capsys) -> None:
    """MXFP4 scales are E8M0 bytes; float scales (an int4 build's) under quant_type fp4 are refused
    at rewrite time, naming the input, rather than by the engine build."""
    model = mxfp4_block_model()
    for scales in [t for t in model.graph.initializer if t.name.endswith("proj.scales")]:
        values = np.frombuffer(scales.raw_data, np.uint8).reshape(tuple(scales.dims))
        scales.CopyFrom(numpy_helper.from_array(values.astype(np.float32), scales.name))
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, src)
    assert main(["rewrite", str(src), "-o", str(out), "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    refused = changes["/model/layers.0/moe/QMoE"]
    assert refused["action"] != "replaced"
    assert "fc1_scales is float32" in refused["reason"] and "E8M0" in refused["reason"]


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("tokens", [1, 7])
def test_gptoss_mxfp4_block_matches_float_moe_on_its_dequantized_weights(
    tmp_path: Path, capsys, dtype, tokens: int
) -> None:
    """ONNX Runtime runs MXFP4 QMoE on CUDA only: model parity's reference runs the node as ONNX
    Runtime's float MoE on the weights QMoE's reference dequantizes (trtplug/parity/qmoe_exact.py),
    and the rewritten block (the prototype) matches it at a decode step and a prompt."""
    from trtplug.parity.qmoe_exact import exact_qmoe, has_approximate_qmoe

    model = mxfp4_block_model(dtype)
    assert has_approximate_qmoe(model)
    exact = onnx.ModelProto()
    exact.CopyFrom(model)
    assert exact_qmoe(exact, None) == 1
    (moe,) = [n for n in exact.graph.node if n.op_type == "MoE"]
    weights = {t.name: numpy_helper.to_array(t) for t in exact.graph.initializer}
    assert weights[moe.input[2]].dtype == dtype  # the activations' type, not the scales'
    dims = ("--dim", "batch_size=1", "--dim", f"sequence_length={tokens}", "--seed", "4")
    result = rewritten_parity(model, tmp_path, capsys, *dims)
    assert result["status"] == "pass", result
    assert "1 QMoE as float MoE on their dequantized weights" in json.dumps(result)
