"""Pattern rules: decomposed erf-GELU (with/without bias) and LayerNorm after a residual Add
(fused and decomposed forms, with/without bias) -> the plugin covering the canonical contrib op.
Each test asserts op types after the rewrite, the checker, model-level numerics, and the
reason reported for non-matches."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.rewrite_models import (
    F16,
    assert_parity,
    const,
    fixture_registry,
    io,
    linear_gelu_model,
    linear_tanh_gelu_model,
    model,
    op_types,
    residual_layer_norm_model,
    rewrite,
    tanh_gelu_nodes,
    torch_gelu_nodes,
)
from trtplug.registry import load_registry

GELUS = ("test_gelu", "test_bias_gelu")


@pytest.mark.parametrize("variant", ["div", "mul", "half_first"])
def test_biased_erf_gelu_becomes_bias_gelu_plugin(variant: str, seed: int) -> None:
    original = linear_gelu_model(variant, bias=True)
    rewritten, result = rewrite(original, fixture_registry(*GELUS))
    assert op_types(rewritten) == ["MatMul", "TrtplugTestBiasGelu", "MatMul"]
    fused = [c for c in result.changes if c.action == "fused"]
    assert len(fused) == 1 and fused[0].rule == "erf_gelu" and fused[0].op == "com.microsoft::BiasGelu"
    plugin = rewritten.graph.node[1]
    assert list(plugin.input) == ["h", "b1"] and list(plugin.output) == ["act"] and plugin.domain == "trtplug_test"
    assert not {"g_sqrt2", "g_rsqrt2", "g_one", "g_half"} & {t.name for t in rewritten.graph.initializer}
    assert_parity(original, rewritten, fixture_registry(*GELUS), seed)


def test_erf_gelu_without_bias_becomes_gelu_plugin(seed: int) -> None:
    original = linear_gelu_model("div", bias=False)
    rewritten, _ = rewrite(original, fixture_registry(*GELUS))
    assert op_types(rewritten) == ["MatMul", "TrtplugTestGelu", "MatMul"]
    assert_parity(original, rewritten, fixture_registry(*GELUS), seed)


def test_fp16_gelu(seed: int) -> None:
    """fp16 end to end; no MatMul around the GELU, whose fp16 rounding (ORT vs NumPy) would
    exceed the plugin's fp16 tolerance on its own."""
    gelu, consts = torch_gelu_nodes("xb", "y")
    inits = [const(c.name, numpy_helper.to_array(c), np.float16) for c in consts]
    inits.append(const("bias", np.linspace(-1, 1, 16), np.float16))
    nodes = [helper.make_node("Add", ["x", "bias"], ["xb"], name="bias_add"), *gelu]
    original = model(nodes, [io("x", F16)], [io("y", F16)], inits)
    rewritten, _ = rewrite(original, fixture_registry(*GELUS))
    assert op_types(rewritten) == ["TrtplugTestBiasGelu"]
    assert_parity(original, rewritten, fixture_registry(*GELUS), seed)


def test_without_bias_gelu_plugin_the_bias_add_stays(seed: int) -> None:
    original = linear_gelu_model("div", bias=True)
    rewritten, _ = rewrite(original, fixture_registry("test_gelu"))
    assert op_types(rewritten) == ["MatMul", "Add", "TrtplugTestGelu", "MatMul"]
    assert_parity(original, rewritten, fixture_registry("test_gelu"), seed)


def test_no_plugin_leaves_subgraph_untouched_with_reason() -> None:
    original = linear_gelu_model("div", bias=True)
    rewritten, result = rewrite(original, fixture_registry("fast_gelu"))
    assert rewritten == original
    [left] = [c for c in result.changes if c.rule == "erf_gelu"]
    assert left.action == "left" and "no registered plugin covers com.microsoft::BiasGelu" in left.reason
    assert "com.microsoft::Gelu" in left.reason


def test_intermediate_read_elsewhere_blocks_the_fusion() -> None:
    gelu, consts = torch_gelu_nodes("x", "y")
    spy = helper.make_node("Relu", ["g_e"], ["spy"], name="spy")  # reads erf's output
    original = model([*gelu, spy], [io("x")], [io("y"), io("spy")], consts)
    rewritten, result = rewrite(original, fixture_registry(*GELUS))
    assert rewritten == original
    [left] = [c for c in result.changes if c.rule == "erf_gelu"]
    assert "intermediate tensor 'g_e' is also read outside the pattern" in left.reason


def test_wrong_constants_are_not_gelu() -> None:
    gelu, consts = torch_gelu_nodes("x", "y")
    consts[1] = const("g_one", 2.0)  # erf(x/sqrt2) + 2: not GELU
    original = model(gelu, [io("x")], [io("y")], consts)
    rewritten, result = rewrite(original, fixture_registry(*GELUS))
    assert rewritten == original
    assert [c.reason for c in result.changes if c.rule] == ["erf(x / sqrt2) is not followed by + 1"]
    consts[0] = const("g_sqrt2", 2.0)  # erf(x / 2): the anchor is no GELU at all, nothing to report
    rewritten, result = rewrite(model(gelu, [io("x")], [io("y")], consts), fixture_registry(*GELUS))
    assert op_types(rewritten)[1] == "Erf" and not result.changes


def test_excluded_rule_is_reported() -> None:
    rewritten, result = rewrite(linear_gelu_model(), fixture_registry(*GELUS), exclude=["erf_gelu"])
    assert "Erf" in op_types(rewritten)
    assert {c.action for c in result.changes} == {"excluded"}


@pytest.mark.parametrize("form", ["fused", "decomposed", "decomposed18"])
@pytest.mark.parametrize("bias", [False, True])
def test_residual_layer_norm_becomes_skip_layer_norm(form: str, bias: bool, seed: int) -> None:
    original = residual_layer_norm_model(form, bias=bias)
    registry = fixture_registry("test_skip_layer_norm")
    rewritten, result = rewrite(original, registry)
    assert op_types(rewritten) == ["MatMul", "TrtplugTestSkipLayerNorm"]
    node = rewritten.graph.node[1]
    prefix = "" if form == "fused" else "ln_"
    expected = ["attn", "residual", f"{prefix}gamma", f"{prefix}beta"]
    assert list(node.input) == [*expected, "attn_b"] if bias else expected
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["epsilon"] == pytest.approx(1e-5) and fields["num_outputs"] == 1
    [fused] = [c for c in result.changes if c.action == "fused"]
    assert fused.rule == "skip_layer_norm" and len(fused.nodes) == (2 if form == "fused" else 10) + bias
    assert_parity(original, rewritten, registry, seed)


def test_residual_sum_read_elsewhere_is_wired_to_fourth_output(seed: int) -> None:
    original = residual_layer_norm_model("decomposed", bias=True, sum_used=True)
    registry = fixture_registry("test_skip_layer_norm")
    rewritten, _ = rewrite(original, registry)
    node = next(n for n in rewritten.graph.node if n.op_type == "TrtplugTestSkipLayerNorm")
    assert node.output[0] == "y" and node.output[3] == "sum" and all(node.output[1:3])
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["num_outputs"] == 4
    assert_parity(original, rewritten, registry, seed)


def test_layer_norm_without_residual_add_is_left_to_tensorrt() -> None:
    ln = helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["y"], name="ln")
    gamma, beta = const("gamma", np.ones(16)), const("beta", np.zeros(16))
    original = model([ln], [io("x")], [io("y")], [gamma, beta])
    rewritten, result = rewrite(original, fixture_registry("test_skip_layer_norm"))
    assert rewritten == original and not result.changes


def test_broadcasting_residual_add_is_refused() -> None:
    add = helper.make_node("Add", ["x", "r"], ["s"], name="add")
    ln = helper.make_node("LayerNormalization", ["s", "gamma", "beta"], ["y"], name="ln")
    inits = [const("gamma", np.ones(16)), const("beta", np.zeros(16))]
    original = model([add, ln], [io("x"), io("r", shape=(1, 1, 16))], [io("y")], inits)
    rewritten, result = rewrite(original, fixture_registry("test_skip_layer_norm"))
    assert rewritten == original
    assert "different or unknown shapes" in result.changes[0].reason


def test_ort_optimizer_contrib_ops_are_replaced(seed: int) -> None:
    """com.microsoft Gelu/SkipLayerNormalization as the transformer optimizer leaves them."""
    nodes = [
        helper.make_node(
            "SkipLayerNormalization",
            ["x", "r", "gamma", "beta"],
            ["n", "", "", "s"],
            domain="com.microsoft",
            name="sln",
            epsilon=1e-6,
        ),
        helper.make_node("Gelu", ["n"], ["g"], domain="com.microsoft", name="gelu"),
        helper.make_node("Add", ["g", "s"], ["y"], name="out"),
    ]
    inits = [const("gamma", np.linspace(0.5, 1.5, 16)), const("beta", np.linspace(-1, 1, 16))]
    original = model(nodes, [io("x"), io("r")], [io("y")], inits)
    registry = fixture_registry("test_gelu", "test_skip_layer_norm")
    rewritten, result = rewrite(original, registry)
    assert op_types(rewritten) == ["TrtplugTestSkipLayerNorm", "TrtplugTestGelu", "Add"]
    assert [c.action for c in result.changes] == ["replaced", "replaced"]
    sln = rewritten.graph.node[0]
    assert sln.output[3] == "s" and sln.output[1] and sln.output[2]  # unnamed middle outputs get names
    assert_parity(original, rewritten, registry, seed)


@pytest.mark.parametrize("cube", ["pow", "mul"])
@pytest.mark.parametrize("bias", [True, False])
def test_tanh_gelu_becomes_the_fast_gelu_plugin(cube: str, bias: bool, seed: int) -> None:
    """GPT-2's gelu_new, end to end onto the real TrtplugFastGelu."""
    original = linear_tanh_gelu_model(bias, cube)
    registry = load_registry()
    rewritten, result = rewrite(original, registry)
    assert op_types(rewritten) == ["MatMul", "TrtplugFastGelu"]
    assert list(rewritten.graph.node[1].input) == (["h", "b1"] if bias else ["h"])
    [fused] = [c for c in result.changes if c.action == "fused"]
    assert fused.rule == "tanh_gelu" and len(fused.nodes) == 8 + (cube == "mul") + bias
    assert_parity(original, rewritten, registry, seed)


def test_tanh_gelu_with_wrong_cubic_coefficient_is_not_matched() -> None:
    gelu, consts = tanh_gelu_nodes("x", "y")
    consts[1] = const("t_k", 0.5)
    original = model(gelu, [io("x")], [io("y")], consts)
    rewritten, result = rewrite(original, load_registry())
    assert rewritten == original and not result.changes


def test_value_info_stays_true_after_fusion() -> None:
    """Inferred value_info of fused-away tensors is dropped; plugin outputs get the spec's type."""
    original = onnx.shape_inference.infer_shapes(linear_gelu_model("div", bias=True))
    assert {"g_s", "g_e", "hb"} <= {v.name for v in original.graph.value_info}
    rewritten, _ = rewrite(original, fixture_registry(*GELUS))
    infos = {v.name: v for v in rewritten.graph.value_info}
    assert set(infos) == {"h", "act"}
    dims = [d.dim_param or d.dim_value for d in infos["act"].type.tensor_type.shape.dim]
    assert dims == ["batch", "seq", 32]
