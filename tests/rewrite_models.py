"""Models for the rewrite tests, built with onnx.helper in the shapes real exporters produce
(torch.onnx's decomposed GELU and LayerNorm, the ONNX Runtime transformer optimizer's
com.microsoft fusions), plus helpers to rewrite them and check model-level parity."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from trtplug.graph_rewrites import changes, pipeline, validate

from trtplug.parity.impls import IMPLS
from trtplug.parity.model import model_parity
from trtplug.registry import Registry, load_registry

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "rewrite" / "plugins"
HIDDEN = 16
F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16


def fixture_registry(*keys: str) -> Registry:
    """Only the named test ops (and FastGelu when asked), independent of other built-ins."""
    full = load_registry([FIXTURE_PLUGINS])
    registry = Registry()
    for key in keys:
        registry.add(full.get(key))
    return registry


def const(name: str, value, dtype=np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def model(nodes, inputs, outputs, initializers=(), opset=17, extra_opsets=(("com.microsoft", 1),)) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
    built = helper.make_model(graph, opset_imports=opsets, ir_version=9)
    onnx.checker.check_model(built)
    return built


def io(name: str, elem=F32, shape=("batch", "seq", HIDDEN)) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def torch_gelu_nodes(x: str, y: str, variant: str = "div", p: str = "g") -> tuple[list, list]:
    """nn.GELU() as torch.onnx exports it; variants move the 0.5 or use Mul(1/sqrt2)."""
    scale = helper.make_node("Div", [x, f"{p}_sqrt2"], [f"{p}_s"], name=f"{p}_div")
    consts = [const(f"{p}_sqrt2", math.sqrt(2.0)), const(f"{p}_one", 1.0), const(f"{p}_half", 0.5)]
    if variant == "mul":
        scale = helper.make_node("Mul", [x, f"{p}_rsqrt2"], [f"{p}_s"], name=f"{p}_mul_scale")
        consts[0] = const(f"{p}_rsqrt2", 1 / math.sqrt(2.0))
    nodes = [
        scale,
        helper.make_node("Erf", [f"{p}_s"], [f"{p}_e"], name=f"{p}_erf"),
        helper.make_node("Add", [f"{p}_e", f"{p}_one"], [f"{p}_a"], name=f"{p}_add_one"),
    ]
    if variant == "half_first":
        nodes += [
            helper.make_node("Mul", [x, f"{p}_half"], [f"{p}_h"], name=f"{p}_mul_half"),
            helper.make_node("Mul", [f"{p}_h", f"{p}_a"], [y], name=f"{p}_mul"),
        ]
    else:
        nodes += [
            helper.make_node("Mul", [x, f"{p}_a"], [f"{p}_m"], name=f"{p}_mul"),
            helper.make_node("Mul", [f"{p}_m", f"{p}_half"], [y], name=f"{p}_mul_half"),
        ]
    return nodes, consts


def linear_gelu_model(variant: str = "div", bias: bool = True, elem=F32) -> onnx.ModelProto:
    """MatMul (+ bias Add) -> erf-GELU -> MatMul, as a torch Linear + GELU exports."""
    rng = np.random.default_rng(0)
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    inits = [const("w1", rng.standard_normal((HIDDEN, 32)) * 0.3, dtype)]
    inits.append(const("w2", rng.standard_normal((32, 8)), dtype))
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1")]
    gelu_in = "h"
    if bias:
        inits.append(const("b1", rng.standard_normal(32), dtype))
        nodes.append(helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"))
        gelu_in = "hb"
    gelu, consts = torch_gelu_nodes(gelu_in, "act", variant)
    inits += [numpy_helper.from_array(numpy_helper.to_array(c).astype(dtype), c.name) for c in consts]
    nodes += [*gelu, helper.make_node("MatMul", ["act", "w2"], ["y"], name="fc2")]
    return model(nodes, [io("x", elem)], [io("y", elem, ("batch", "seq", 8))], inits)


def decomposed_layer_norm(x: str, y: str, opset: int, p: str = "ln", beta: bool = True) -> tuple[list, list]:
    """LayerNorm over the last axis as torch.onnx exports it below opset 17."""

    def reduce_mean(src: str, dst: str, name: str) -> list:
        if opset >= 18:
            return [helper.make_node("ReduceMean", [src, f"{p}_axes"], [dst], name=name)]
        return [helper.make_node("ReduceMean", [src], [dst], name=name, axes=[-1])]

    consts = [const(f"{p}_two", 2.0), const(f"{p}_eps", 1e-5), const(f"{p}_gamma", np.linspace(0.5, 1.5, HIDDEN))]
    consts += [const(f"{p}_beta", np.linspace(-0.2, 0.2, HIDDEN))] if beta else []
    consts += [const(f"{p}_axes", [-1], np.int64)] if opset >= 18 else []
    last = f"{p}_scaled" if beta else y
    nodes = [
        *reduce_mean(x, f"{p}_mean", f"{p}_mean"),
        helper.make_node("Sub", [x, f"{p}_mean"], [f"{p}_d"], name=f"{p}_sub"),
        helper.make_node("Pow", [f"{p}_d", f"{p}_two"], [f"{p}_sq"], name=f"{p}_pow"),
        *reduce_mean(f"{p}_sq", f"{p}_var", f"{p}_var"),
        helper.make_node("Add", [f"{p}_var", f"{p}_eps"], [f"{p}_ve"], name=f"{p}_add_eps"),
        helper.make_node("Sqrt", [f"{p}_ve"], [f"{p}_std"], name=f"{p}_sqrt"),
        helper.make_node("Div", [f"{p}_d", f"{p}_std"], [f"{p}_n"], name=f"{p}_div"),
        helper.make_node("Mul", [f"{p}_n", f"{p}_gamma"], [last], name=f"{p}_mul_gamma"),
    ]
    if beta:
        nodes.append(helper.make_node("Add", [last, f"{p}_beta"], [y], name=f"{p}_add_beta"))
    return nodes, consts


def residual_layer_norm_model(form: str = "fused", bias: bool = False, sum_used: bool = False) -> onnx.ModelProto:
    """Add(attention_out (+ bias), residual) -> LayerNorm, as in a BERT/GPT block."""
    rng = np.random.default_rng(1)
    opset = {"fused": 17, "decomposed": 13, "decomposed18": 18}[form]
    inits = [const("w", rng.standard_normal((HIDDEN, HIDDEN)) * 0.3)]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["attn"], name="attn_out")]
    data = "attn"
    if bias:
        inits.append(const("attn_b", rng.standard_normal(HIDDEN)))
        nodes.append(helper.make_node("Add", ["attn", "attn_b"], ["attn_biased"], name="attn_bias"))
        data = "attn_biased"
    nodes.append(helper.make_node("Add", [data, "residual"], ["sum"], name="residual_add"))
    if form == "fused":
        inits += [const("gamma", np.linspace(0.5, 1.5, HIDDEN)), const("beta", np.linspace(-0.2, 0.2, HIDDEN))]
        nodes.append(helper.make_node("LayerNormalization", ["sum", "gamma", "beta"], ["y"], name="ln", epsilon=1e-5))
    else:
        ln_nodes, consts = decomposed_layer_norm("sum", "y", opset)
        nodes += ln_nodes
        inits += consts
    outputs = [io("y")]
    if sum_used:  # pre-LN style: the residual sum feeds the next block too
        nodes.append(helper.make_node("Relu", ["sum"], ["next"], name="next_block"))
        outputs.append(io("next"))
    return model(nodes, [io("x"), io("residual")], outputs, inits, opset=opset)


def rewrite(original: onnx.ModelProto, registry: Registry, **options):
    """(rewritten copy, result); the original is left as it was."""
    rewritten = copy.deepcopy(original)
    selection = changes.Selection(tuple(options.pop("only", ())), tuple(options.pop("exclude", ())))
    result = pipeline.rewrite_model(rewritten, registry, pipeline.RewriteOptions(selection, **options))
    validate.check_model(rewritten, "the rewritten model")
    return rewritten, result


def op_types(m: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in m.graph.node]


def assert_parity(original, rewritten, registry, seed: int, impl: str = "numpy") -> None:
    result = model_parity(original, rewritten, registry, IMPLS[impl], seed, {"batch": 2, "seq": 5})
    assert result.status == "pass", (result.detail, [c.as_dict() for c in result.comparisons])
    assert result.plugins, "no plugin op ran"


def tanh_gelu_nodes(x: str, y: str, cube: str = "pow", p: str = "t") -> tuple[list, list]:
    """nn.GELU(approximate="tanh") / HF gelu_new as exported: 0.5 x (1 + tanh(c (x + 0.044715 x^3)))."""
    consts = [const(f"{p}_three", 3.0), const(f"{p}_k", 0.044715), const(f"{p}_c", math.sqrt(2 / math.pi))]
    consts += [const(f"{p}_one", 1.0), const(f"{p}_half", 0.5)]
    if cube == "pow":
        cubed = [helper.make_node("Pow", [x, f"{p}_three"], [f"{p}_x3"], name=f"{p}_pow")]
    else:
        consts.pop(0)
        cubed = [
            helper.make_node("Mul", [x, x], [f"{p}_x2"], name=f"{p}_sq"),
            helper.make_node("Mul", [f"{p}_x2", x], [f"{p}_x3"], name=f"{p}_cube"),
        ]
    nodes = [
        *cubed,
        helper.make_node("Mul", [f"{p}_k", f"{p}_x3"], [f"{p}_kx3"], name=f"{p}_mul_k"),
        helper.make_node("Add", [x, f"{p}_kx3"], [f"{p}_inner"], name=f"{p}_add_inner"),
        helper.make_node("Mul", [f"{p}_inner", f"{p}_c"], [f"{p}_arg"], name=f"{p}_mul_c"),
        helper.make_node("Tanh", [f"{p}_arg"], [f"{p}_tanh"], name=f"{p}_tanh"),
        helper.make_node("Add", [f"{p}_one", f"{p}_tanh"], [f"{p}_a"], name=f"{p}_add_one"),
        helper.make_node("Mul", [f"{p}_half", x], [f"{p}_h"], name=f"{p}_mul_half"),
        helper.make_node("Mul", [f"{p}_h", f"{p}_a"], [y], name=f"{p}_mul"),
    ]
    return nodes, consts


def linear_tanh_gelu_model(bias: bool = True, cube: str = "pow") -> onnx.ModelProto:
    """MatMul (+ bias Add) -> tanh-GELU, as a GPT-2 MLP exports."""
    rng = np.random.default_rng(2)
    inits = [const("w1", rng.standard_normal((HIDDEN, 32)) * 0.3)]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1")]
    gelu_in = "h"
    if bias:
        inits.append(const("b1", rng.standard_normal(32)))
        nodes.append(helper.make_node("Add", ["b1", "h"], ["hb"], name="fc1_bias"))
        gelu_in = "hb"
    gelu, consts = tanh_gelu_nodes(gelu_in, "y", cube)
    return model([*nodes, *gelu], [io("x")], [io("y", shape=("batch", "seq", 32))], inits + consts)
