"""com.microsoft LinearAttention on the CPU: the prototype against ONNX Runtime 1.32's kernel where the
spec's parity cases cannot go (no past_state: present_state's type S is then unbound there, an empty
sequence, shapes ONNX Runtime refuses), the plugin's shape, type and format rules through the plugin
host, and a Gated-DeltaNet block as GenAI's builder emits it (prefill onto a zero state, then a
decode step from the prefill's state) through `rewrite` and model parity. The parity suite
(tests/test_parity.py) runs the spec's cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from pyplugins import linear_attention as proto
from trtplug.cli import main
from trtplug.parity.linear_attention_inputs import linear_attention_inputs

PLUGIN = ("TrtplugLinearAttention", "1", "trtplug")
NAMES = ("query", "key", "value", "past_state", "decay", "beta")
RULES = ("linear", "gated", "delta", "gated_delta")


def ort_run(feeds: dict[str, np.ndarray], attrs: dict) -> list[np.ndarray]:
    """ONNX Runtime's CPU LinearAttention on the given inputs (absent ones left out of the node)."""
    inputs = [n if n in feeds else "" for n in NAMES]
    while not inputs[-1]:
        inputs.pop()
    node = helper.make_node("LinearAttention", inputs, ["y", "present"], domain="com.microsoft", **attrs)
    graph = helper.make_graph(
        [node],
        "la",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in feeds],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "present")],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=10)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def prototype_run(feeds: dict[str, np.ndarray], attrs: dict) -> list[np.ndarray]:
    inputs = [feeds.get(n) for n in NAMES]
    shapes = proto.output_shapes(inputs, attrs)
    outputs = [np.full(s, np.nan, np.float32) for s in shapes]
    proto.forward(np, inputs, outputs, attrs)
    return outputs


def draw(shapes: dict[str, tuple[int, ...]], attrs: dict, seed: int = 0) -> dict[str, np.ndarray]:
    return linear_attention_inputs(shapes, attrs, np.random.default_rng(seed))


def shapes_of(b, t, hq, hk, hkv, dk, dv, decay_width=None, beta_width=None, past=True):
    shapes = {
        "query": (b, t, hq * dk),
        "key": (b, t, hk * dk),
        "value": (b, t, hkv * dv),
        "decay": (b, t, decay_width or hkv),
        "beta": (b, t, beta_width or hkv),
    }
    return {**shapes, "past_state": (b, hkv, dk, dv)} if past else shapes


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(
    "geometry",
    [(2, 4, 2, 4, 8, 8), (2, 2, 1, 4, 16, 8), (2, 8, 2, 2, 8, 12), (1, 3, 3, 3, 5, 7)],
    ids=["qwen35", "keys_fewer_than_queries", "gqa", "mha_odd"],
)
def test_prototype_matches_onnxruntime_without_a_past(rule: str, geometry: tuple) -> None:
    b, hq, hk, hkv, dk, dv = geometry
    attrs = {"q_num_heads": hq, "kv_num_heads": hkv, "update_rule": rule}
    feeds = draw(shapes_of(b, 6, hq, hk, hkv, dk, dv, past=False), attrs)
    for got, want in zip(prototype_run(feeds, attrs), ort_run(feeds, attrs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_prototype_matches_onnxruntime_on_an_empty_sequence_and_per_key_decay() -> None:
    attrs = {"q_num_heads": 2, "kv_num_heads": 4, "scale": 0.5}
    feeds = draw(shapes_of(2, 0, 2, 2, 4, 8, 8), attrs)
    got, want = prototype_run(feeds, attrs), ort_run(feeds, attrs)
    assert got[0].shape == want[0].shape == (2, 0, 32)
    np.testing.assert_array_equal(got[1], feeds["past_state"])  # nothing to walk: present is the past
    feeds = draw(shapes_of(2, 4, 4, 2, 2, 8, 8, decay_width=16, beta_width=1), attrs | {"q_num_heads": 4})
    attrs = {"q_num_heads": 4, "kv_num_heads": 2, "update_rule": "gated"}
    for got, want in zip(prototype_run(feeds, attrs), ort_run(feeds, attrs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key": (1, 2, 24)}, "multiple of the key heads"),
        ({"decay": (1, 2, 3)}, "decay's last dimension"),
        ({"beta": (1, 2, 2)}, "beta's last dimension"),
        ({"past_state": (1, 4, 8, 4)}, "past_state must be"),
    ],
)
def test_prototype_refuses_what_onnxruntime_refuses(change: dict, reason: str) -> None:
    attrs = {"q_num_heads": 2, "kv_num_heads": 4}
    shapes = {**shapes_of(1, 2, 2, 2, 4, 8, 8), **change}
    feeds = {n: np.zeros(s, np.float32) for n, s in shapes.items()}
    with pytest.raises(ValueError, match=reason):
        prototype_run(feeds, attrs)
    with pytest.raises(Exception):  # noqa: B017 - ONNX Runtime's own error type
        ort_run(feeds, attrs)


def test_a_rule_without_its_gate_is_refused() -> None:
    attrs = {"q_num_heads": 1, "kv_num_heads": 1, "update_rule": "delta"}
    feeds = {n: np.zeros(s, np.float32) for n, s in shapes_of(1, 2, 1, 1, 1, 4, 4).items() if n != "beta"}
    with pytest.raises(ValueError, match="needs beta"):
        prototype_run(feeds, attrs)


# ---- the plugin's rules (plugin host, no GPU needed) ----------------------------------------


@pytest.mark.pluginlib
def test_plugin_output_shapes(library) -> None:
    qwen = library.create(*PLUGIN, {"q_num_heads": 2, "kv_num_heads": 4, "scale": 1.0})
    assert qwen is not None
    ins = [[3, 5, 64], [3, 5, 64], [3, 5, 128], [3, 4, 32, 32], [3, 5, 4], [3, 5, 4]]
    assert qwen.output_shapes(ins) == [[3, 5, 128], [3, 4, 32, 32]]
    gqa = library.create(*PLUGIN, {"q_num_heads": 8, "kv_num_heads": 2, "update_rule": "linear"})
    assert gqa.output_shapes([[2, 7, 128], [2, 7, 32], [2, 7, 48]]) == [[2, 7, 192], [2, 2, 16, 24]]
    symbolic = qwen.output_shapes([["B", "S", 64], ["B", "S", 64], ["B", "S", 128], ["B", 4, 32, 32]])
    assert symbolic[0][:2] == ["B", "S"] and symbolic[1] == ["B", 4, 32, 32]


@pytest.mark.pluginlib
def test_plugin_types_and_formats(library) -> None:
    plugin = library.create(*PLUGIN, {"q_num_heads": 2, "kv_num_heads": 4})
    assert plugin.output_types(["float16"] * 3 + ["float32", "float16", "float16"]) == ["float16", "float32"]
    assert plugin.output_types(["bfloat16"] * 3) == ["bfloat16", "bfloat16"]  # no past: present takes query's type
    ins = ["float16", "float16", "float16", "float32", "float16", "float16"]
    assert plugin.supports_format_combination([*ins, "float16", "float32"])
    assert not plugin.supports_format_combination([*ins, "float16", "float16"])  # present follows past_state
    assert not plugin.supports_format_combination(["float16", "float32", *ins[2:], "float16", "float32"])


@pytest.mark.pluginlib
def test_plugin_refuses_unknown_rules_and_windowed_state(library, log) -> None:
    assert library.create(*PLUGIN, {"q_num_heads": 2, "kv_num_heads": 4, "update_rule": "rwkv7"}) is None
    assert library.create(*PLUGIN, {"q_num_heads": 2, "kv_num_heads": 4, "state_window": 2}) is None
    assert library.create(*PLUGIN, {"kv_num_heads": 4}) is None  # q_num_heads is required


# ---- a Gated-DeltaNet block as GenAI's builder emits it ---------------------------------------

HIDDEN, HQ, HKV, D = 32, 2, 4, 8


def gated_deltanet_block(seed: int = 0) -> onnx.ModelProto:
    """x -> q/k/v/a/b projections; per-head L2-normalised q (then scaled) and k; decay = -softplus(a),
    beta = sigmoid(b); LinearAttention with the builder's attributes, past.0.recurrent in,
    present.0.recurrent out."""
    rng = np.random.default_rng(seed)
    widths = {"q": HQ * D, "k": HQ * D, "v": HKV * D, "a": HKV, "b": HKV}
    weights = [
        numpy_helper.from_array((rng.standard_normal((HIDDEN, w)) * 0.3).astype(np.float32), f"W{n}")
        for n, w in widths.items()
    ]
    shape = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    consts = [
        shape("heads", [0, 0, HQ, D]),
        shape("flat", [0, 0, HQ * D]),
        numpy_helper.from_array(np.array(D**-0.5, np.float32), "qscale"),
    ]
    nodes = [helper.make_node("MatMul", ["x", f"W{n}"], [f"{n}_proj"]) for n in widths]
    for n in ("q", "k"):
        nodes += [
            helper.make_node("Reshape", [f"{n}_proj", "heads"], [f"{n}_heads"]),
            helper.make_node("LpNormalization", [f"{n}_heads"], [f"{n}_unit"], axis=-1, p=2),
            helper.make_node("Reshape", [f"{n}_unit", "flat"], [f"{n}_l2norm"]),
        ]
    nodes += [
        helper.make_node("Mul", ["q_l2norm", "qscale"], ["q_scaled"]),
        helper.make_node("Softplus", ["a_proj"], ["a_soft"]),
        helper.make_node("Neg", ["a_soft"], ["decay"]),
        helper.make_node("Sigmoid", ["b_proj"], ["beta"]),
        helper.make_node(
            "LinearAttention",
            ["q_scaled", "k_l2norm", "v_proj", "past.0.recurrent", "decay", "beta"],
            ["y", "present.0.recurrent"],
            name="/model/layers.0/linear_attn/LinearAttention",
            domain="com.microsoft",
            q_num_heads=HQ,
            kv_num_heads=HKV,
            update_rule="gated_delta",
            scale=1.0,
            state_window=0,
        ),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "gated_deltanet",
        [
            helper.make_tensor_value_info("x", f32, ["batch", "seq", HIDDEN]),
            helper.make_tensor_value_info("past.0.recurrent", f32, ["batch", HKV, D, D]),
        ],
        [
            helper.make_tensor_value_info("y", f32, ["batch", "seq", HKV * D]),
            helper.make_tensor_value_info("present.0.recurrent", f32, ["batch", HKV, D, D]),
        ],
        initializer=weights + consts,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def test_gated_deltanet_block_prefill_then_decode(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "gdn.onnx", tmp_path / "gdn.plugins.onnx"
    onnx.save(gated_deltanet_block(), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    ops = [n.op_type for n in onnx.load(out).graph.node]
    assert "TrtplugLinearAttention" in ops and "LinearAttention" not in ops
    rng = np.random.default_rng(1)
    prefill = {
        "x": rng.standard_normal((2, 5, HIDDEN)).astype(np.float32),
        "past.0.recurrent": np.zeros((2, HKV, D, D), np.float32),
    }
    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    state = session.run(["present.0.recurrent"], prefill)[0]
    decode = {"x": rng.standard_normal((2, 1, HIDDEN)).astype(np.float32), "past.0.recurrent": state}
    for name, feeds in (("prefill", prefill), ("decode", decode)):
        np.savez(tmp_path / f"{name}.npz", **feeds)
        capsys.readouterr()
        args = [
            "parity",
            "--model",
            str(source),
            "--rewritten",
            str(out),
            "--inputs",
            str(tmp_path / f"{name}.npz"),
            "--json",
        ]
        assert main(args) == 0, name
        [result] = json.loads(capsys.readouterr().out)["results"]
        assert result["status"] == "pass" and "TrtplugLinearAttention" in result["plugins"], (name, result)


def test_an_absent_fp16_state_gets_an_fp16_stand_in(tmp_path: Path, library) -> None:
    """No past_state but a decay after it: the rewrite's empty stand-in takes the dtype the node's
    S outputs are declared with (q's, fp16), not S's first allowed (float32), so the plugin types
    present_state as the rewritten graph declares it."""
    f16 = TensorProto.FLOAT16
    node = helper.make_node(
        "LinearAttention",
        ["q", "k", "v", "", "decay"],
        ["y", "present"],
        domain="com.microsoft",
        q_num_heads=2,
        kv_num_heads=2,
        update_rule="gated",
    )
    graph = helper.make_graph(
        [node],
        "no_past",
        [helper.make_tensor_value_info(n, f16, [1, 3, w]) for n, w in (("q", 8), ("k", 8), ("v", 8), ("decay", 2))],
        [helper.make_tensor_value_info("y", f16, None), helper.make_tensor_value_info("present", f16, None)],
    )
    source, out = tmp_path / "la.onnx", tmp_path / "la.plugins.onnx"
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    onnx.save(helper.make_model(graph, opset_imports=opsets, ir_version=10), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    rewritten = onnx.load(out)
    stand_in = next(t for t in rewritten.graph.initializer if "absent_past_state" in t.name)
    assert stand_in.data_type == f16 and list(stand_in.dims) == [0]
    present = next(o for o in rewritten.graph.output if o.name == "present")
    assert present.type.tensor_type.elem_type == f16
    plugin = library.create("TrtplugLinearAttention", "1", "trtplug", {"q_num_heads": 2, "kv_num_heads": 2})
    assert plugin.output_types(["float16"] * 5) == ["float16", "float16"]
