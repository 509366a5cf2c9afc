"""ai.onnx Attention (opset 23/24): the prototype against onnx.reference on forms the parity
cases do not draw (bool masks shorter than the keys, 3-D GQA with past, every
qk_matmul_output_mode), and the rewrite per target: TensorRT >= 10.14 imports a plain node,
so only nodes with a KV cache, extra outputs, softcap or nonpad_kv_seqlen become plugin nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from pyplugins import onnx_attention
from trtplug.cli import main

F32 = TensorProto.FLOAT
OUTPUTS = ["Y", "present_key", "present_value", "qk_matmul_output"]


def attention_model(inputs: dict[str, np.ndarray], outputs: int, opset: int = 24, **attrs) -> onnx.ModelProto:
    names = ["Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"]
    used = [n if n in inputs else "" for n in names]
    while used[-1] == "":
        used.pop()
    node = helper.make_node("Attention", used, OUTPUTS[:outputs], name="attn", **attrs)
    graph = helper.make_graph(
        [node],
        "attention",
        [helper.make_tensor_value_info(n, tensor_type(v), v.shape) for n, v in inputs.items()],
        [helper.make_tensor_value_info(n, F32, None) for n in OUTPUTS[:outputs]],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def tensor_type(array: np.ndarray) -> int:
    return helper.np_dtype_to_tensor_dtype(array.dtype)


def prototype_outputs(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> list[np.ndarray]:
    names = ["Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"]
    given = [inputs.get(n) for n in names]
    full = {"q_num_heads": 0, "kv_num_heads": 0, "scale": 0.0, "softcap": 0.0, "is_causal": 0}
    full.update({"qk_matmul_output_mode": 0, **attrs})
    shapes = onnx_attention.output_shapes(given, full)
    outs = [np.full(s, np.nan, dtype=np.float32) for s in shapes[:outputs]]
    onnx_attention.forward(np, given, outs, full)
    return outs


def random_inputs(rng: np.random.Generator, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    return {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
@pytest.mark.parametrize("causal", [0, 1])
def test_short_bool_mask_with_past_and_qk_modes(seed: int, mode: int, causal: int) -> None:
    rng = np.random.default_rng([seed, mode, causal])
    inputs = random_inputs(rng, {"Q": (2, 4, 3, 8), "K": (2, 2, 3, 8), "V": (2, 2, 3, 6)})
    inputs["attn_mask"] = rng.random((2, 1, 3, 5)) < 0.7  # 5 of the 9 keys: the rest are masked
    inputs.update(random_inputs(rng, {"past_key": (2, 2, 6, 8), "past_value": (2, 2, 6, 6)}))
    attrs = {"is_causal": causal, "qk_matmul_output_mode": mode, "softcap": 4.0}
    expected = ReferenceEvaluator(attention_model(inputs, 4, **attrs)).run(None, inputs)
    for got, want, name in zip(prototype_outputs(inputs, 4, **attrs), expected, OUTPUTS, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5, err_msg=name)


def test_3d_gqa_additive_mask_and_nonpad(seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, {"Q": (3, 4, 6 * 8), "K": (3, 7, 2 * 8), "V": (3, 7, 2 * 5), "attn_mask": (4, 7)})
    inputs["nonpad_kv_seqlen"] = np.array([7, 3, 1], dtype=np.int64)
    attrs = {"q_num_heads": 6, "kv_num_heads": 2, "is_causal": 1, "scale": 0.3}
    expected = ReferenceEvaluator(attention_model(inputs, 1, **attrs)).run(None, inputs)
    np.testing.assert_allclose(prototype_outputs(inputs, 1, **attrs)[0], expected[0], atol=1e-5, rtol=1e-5)


def save(tmp_path: Path, name: str, model: onnx.ModelProto) -> Path:
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def cache_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shapes = {"Q": (1, 4, 2, 8), "K": (1, 2, 2, 8), "V": (1, 2, 2, 8)}
    return random_inputs(rng, {**shapes, "past_key": (1, 2, 5, 8), "past_value": (1, 2, 5, 8)})


@pytest.mark.parametrize(
    ("name", "outputs", "attrs", "extra"),
    [
        ("past_present", 3, {"is_causal": 1}, {}),
        ("qk_output", 4, {"qk_matmul_output_mode": 3}, {}),
        ("softcap", 1, {"softcap": 30.0}, {}),
        ("nonpad", 1, {}, {"nonpad_kv_seqlen": np.array([2], dtype=np.int64)}),
    ],
)
def test_rewrite_replaces_what_tensorrt_10_16_rejects(tmp_path: Path, capsys, name, outputs, attrs, extra) -> None:
    rng = np.random.default_rng(0)
    inputs = cache_inputs(rng) if outputs >= 3 else random_inputs(rng, {"Q": (1, 4, 2, 8), "K": (1, 2, 2, 8)})
    inputs.setdefault("V", inputs["K"].copy())
    inputs.update(extra)
    source, out = save(tmp_path, name, attention_model(inputs, outputs, **attrs)), tmp_path / "out.onnx"
    assert main(["rewrite", str(source), "-o", str(out), "--trt-version", "10.16"]) == 0
    assert "1 replaced" in capsys.readouterr().out
    node = onnx.load(out).graph.node[0]
    assert node.op_type == "TrtplugOnnxAttention"
    assert helper.get_attribute_value(next(a for a in node.attribute if a.name == "num_outputs")) == outputs
    feeds = tmp_path / "feeds.npz"  # nonpad_kv_seqlen must stay within the keys: real values, not random ones
    np.savez(feeds, **inputs)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds)]) == 0
    assert "pass" in capsys.readouterr().out


def test_rewrite_leaves_a_plain_node_to_tensorrt_10_14_and_up(tmp_path: Path, capsys) -> None:
    inputs = random_inputs(np.random.default_rng(1), {"Q": (2, 4, 3, 8), "K": (2, 2, 5, 8), "V": (2, 2, 5, 8)})
    source, out = save(tmp_path, "plain", attention_model(inputs, 1, opset=23, is_causal=1)), tmp_path / "o.onnx"
    for version, replaced in [("10.16", False), ("10.14", False), ("10.13", True)]:
        assert main(["rewrite", str(source), "-o", str(out), "--trt-version", version]) == 0
        report = capsys.readouterr().out
        assert ("1 replaced" in report) == replaced, version
        assert replaced or "imports it natively" in report
        assert onnx.load(out).graph.node[0].op_type == ("TrtplugOnnxAttention" if replaced else "Attention")


def test_rewrite_refuses_an_unknown_qk_mode(tmp_path: Path, capsys) -> None:
    inputs = cache_inputs(np.random.default_rng(2))
    source = save(tmp_path, "bad", attention_model(inputs, 3, opset=24))
    model = onnx.load(source)
    model.graph.node[0].attribute.append(helper.make_attribute("qk_matmul_output_mode", 7))
    onnx.save(model, source)
    assert main(["rewrite", str(source), "-o", str(tmp_path / "o.onnx"), "--all-covered"]) in (0, 1)
    report = capsys.readouterr().out
    assert "0 replaced" in report and "qk_matmul_output_mode" in report


def test_bench_workload_shapes_its_outputs_from_the_prototype() -> None:
    from trtplug.bench.workload import bench_shapes, make_workload
    from trtplug.parity.impl_base import pyplugin_module
    from trtplug.registry import load_registry

    spec = load_registry().get("onnx_attention")
    shapes = bench_shapes(spec, pyplugin_module(spec), 1 << 20, 2)
    w = make_workload(np, spec, shapes, "float16", 1, seed=0)
    assert [o.shape for o in w.outputs] == [shapes["Q"]]  # num_outputs 1: Y, [batch, heads, seq, head]


def test_torch_equivalent_matches_the_prototype() -> None:
    torch = pytest.importorskip("torch")
    inputs = random_inputs(np.random.default_rng(3), {"Q": (2, 4, 5, 8), "K": (2, 2, 7, 8), "V": (2, 2, 7, 8)})
    attrs = {"is_causal": 1, "scale": 0.25}
    want = prototype_outputs(inputs, 1, **attrs)[0]
    tensors = [torch.as_tensor(inputs[n]) for n in ("Q", "K", "V")]
    got = onnx_attention.torch_equivalent(torch, tensors, {**attrs}).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
