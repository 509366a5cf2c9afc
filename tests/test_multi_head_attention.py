"""com.microsoft MultiHeadAttention: the prototype against ONNX Runtime CPU on forms the parity
cases cannot draw (packed QKV and packed KV, which ONNX Runtime's CPU kernel lacks, compared
with the same values unpacked; 0/1 padding masks with zeros; rows with every key padded; a BNSH
cache with bias; key lengths with unidirectional and past) and the rewrite of MultiHeadAttention
nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pyplugins import multi_head_attention as mha
from trtplug.cli import main

NAMES = ["query", "key", "value", "bias", "key_padding_mask", "attention_bias", "past_key", "past_value"]
OUTPUTS = ["output", "present_key", "present_value", "qk"]


def mha_model(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> onnx.ModelProto:
    used = [n if n in inputs else "" for n in NAMES]
    while used[-1] == "":
        used.pop()
    node = helper.make_node("MultiHeadAttention", used, OUTPUTS[:outputs], domain="com.microsoft", name="mha", **attrs)
    infos = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for n, v in inputs.items()
    ]
    shapes = mha.output_shapes([inputs.get(n) for n in NAMES], attrs)
    outs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(OUTPUTS[:outputs], shapes, strict=False)
    ]
    graph = helper.make_graph([node], "mha", infos, outs)
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def ort_outputs(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    model = mha_model(inputs, outputs, **attrs).SerializeToString()
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"]).run(None, inputs)


def prototype_outputs(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> list[np.ndarray]:
    full = {"scale": 0.0, "unidirectional": 0, "mask_filter_value": -10000.0, **attrs}
    return mha.compute(np, [inputs.get(n) for n in NAMES], full)[:outputs]


def floats(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def assert_close(got: list, want: list) -> None:
    for g, w, name in zip(got, want, OUTPUTS, strict=False):
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("packed", ["qkv", "kv"])
def test_packed_forms_equal_the_unpacked_op(seed: int, packed: str) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng([seed, len(packed)])
    batch, seq, heads, head = 2, 5, 4, 8
    if packed == "qkv":
        stacked = floats(rng, batch, seq, heads, 3, head)
        given = {"query": stacked, "bias": floats(rng, 3 * heads * head)}
        parts = [stacked[:, :, :, i].reshape(batch, seq, heads * head) for i in range(3)]
    else:
        stacked = floats(rng, batch, 7, heads, 2, head)
        given = {"query": floats(rng, batch, seq, heads * head), "key": stacked}
        parts = [given["query"], *(stacked[:, :, :, i].reshape(batch, 7, heads * head) for i in range(2))]
    unpacked = {**dict(zip(NAMES[:3], parts, strict=True)), **{k: v for k, v in given.items() if k == "bias"}}
    assert_close(prototype_outputs(given, 1, num_heads=heads), ort_outputs(unpacked, 1, num_heads=heads))


@pytest.mark.parametrize("rows", [False, True], ids=["mask_2d", "mask_3d"])
def test_padding_masks_with_zeros(seed: int, rows: bool) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng([seed, int(rows)])
    inputs = {"query": floats(rng, 2, 3, 16), "key": floats(rng, 2, 6, 16), "value": floats(rng, 2, 6, 24)}
    mask = (rng.random((2, 3, 6) if rows else (2, 6)) < 0.6).astype(np.int32)
    mask[..., 0] = 1  # every row keeps a key (ONNX Runtime's fully masked rows differ, see the spec)
    inputs["key_padding_mask"] = mask
    assert_close(prototype_outputs(inputs, 4, num_heads=2), ort_outputs(inputs, 4, num_heads=2))


@pytest.mark.parametrize("form", ["lengths", "mask_2d", "mask_3d"])
@pytest.mark.parametrize("mask_filter", [-1.5, -10000.0])
def test_fully_padded_rows_attend_to_every_key(seed: int, form: str, mask_filter: float) -> None:
    """ONNX Runtime adds mask_filter_value to padded keys' scores: a row with every key padded is
    a softmax over all keys, not zeros, and a small filter lets padded keys contribute. With the
    default filter, score - 10000 is rounded to 2**-10 steps in float32: a looser tolerance."""
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng([seed, len(form)])
    inputs = {"query": floats(rng, 3, 4, 16), "key": floats(rng, 3, 6, 16), "value": floats(rng, 3, 6, 16)}
    inputs["attention_bias"] = floats(rng, 3, 1, 4, 6)
    if form == "lengths":
        mask = np.array([4, 0, 6], dtype=np.int32)
    else:
        mask = (rng.random((3, 4, 6) if form == "mask_3d" else (3, 6)) < 0.6).astype(np.int32)
        mask[1] = 0
    inputs["key_padding_mask"] = mask
    attrs = {"num_heads": 2, "mask_filter_value": mask_filter}
    got, want = prototype_outputs(inputs, 4, **attrs), ort_outputs(inputs, 4, **attrs)
    tol = 1e-5 if mask_filter > -1000 else 2e-3
    for g, w, name in zip(got, want, OUTPUTS, strict=False):
        np.testing.assert_allclose(g, w, atol=tol, rtol=tol, err_msg=name)
    assert np.abs(got[0][1]).max() > 0.05  # not the zeros of a left-out row


def test_bnsh_cache_takes_no_key_value_bias(seed: int) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(seed)
    inputs = {"query": floats(rng, 2, 3, 16), "key": floats(rng, 2, 2, 9, 8), "value": floats(rng, 2, 2, 9, 8)}
    inputs["bias"] = floats(rng, 48)
    assert_close(prototype_outputs(inputs, 1, num_heads=2), ort_outputs(inputs, 1, num_heads=2))


def test_key_lengths_with_unidirectional_and_past(seed: int) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(seed)
    inputs = {"query": floats(rng, 3, 2, 16), "key": floats(rng, 3, 2, 16), "value": floats(rng, 3, 2, 16)}
    inputs.update(past_key=floats(rng, 3, 2, 4, 8), past_value=floats(rng, 3, 2, 4, 8), bias=floats(rng, 48))
    inputs["key_padding_mask"] = np.array([6, 5, 3], dtype=np.int32)
    got = prototype_outputs(inputs, 3, num_heads=2, unidirectional=1)
    assert_close(got, ort_outputs(inputs, 3, num_heads=2, unidirectional=1))


def save(tmp_path: Path, name: str, model: onnx.ModelProto) -> Path:
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def test_rewrite_replaces_the_node_for_every_target_with_parity(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(4)
    inputs = {"query": floats(rng, 2, 3, 32), "key": floats(rng, 2, 3, 32), "value": floats(rng, 2, 3, 32)}
    inputs.update(past_key=floats(rng, 2, 4, 5, 8), past_value=floats(rng, 2, 4, 5, 8))
    inputs["key_padding_mask"] = np.array([8, 6], dtype=np.int32)
    source, out = save(tmp_path, "mha", mha_model(inputs, 3, num_heads=4, unidirectional=1)), tmp_path / "o.onnx"
    for version in ("10.16", "11.5"):
        assert main(["rewrite", str(source), "-o", str(out), "--trt-version", version]) == 0
        assert "1 replaced" in capsys.readouterr().out
    node = onnx.load(out).graph.node[0]
    assert node.op_type == "TrtplugMultiHeadAttention"
    assert helper.get_attribute_value(next(a for a in node.attribute if a.name == "num_outputs")) == 3
    feeds = tmp_path / "feeds.npz"  # key lengths must stay within the keys: real values
    np.savez(feeds, **inputs)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds)]) == 0
    assert "pass" in capsys.readouterr().out


def test_rewrite_leaves_a_buffer_sharing_node_alone(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(5)
    inputs = {"query": floats(rng, 1, 1, 16), "key": floats(rng, 1, 1, 16), "value": floats(rng, 1, 1, 16)}
    model = mha_model(inputs, 1, num_heads=2)
    extra = ["", "", "", "", "", "past_sequence_length"]
    model.graph.node[0].input.extend(extra)
    model.graph.input.append(helper.make_tensor_value_info("past_sequence_length", TensorProto.INT32, [1]))
    source = save(tmp_path, "shared", model)
    assert main(["rewrite", str(source), "-o", str(tmp_path / "o.onnx"), "--all-covered"]) in (0, 1)
    report = capsys.readouterr().out
    assert "0 replaced" in report and "mha" in report


def test_bench_workload_shapes_its_outputs_from_the_prototype() -> None:
    from trtplug.bench.workload import bench_shapes, make_workload
    from trtplug.parity.impl_base import pyplugin_module
    from trtplug.registry import load_registry

    spec = load_registry().get("multi_head_attention")
    shapes = bench_shapes(spec, pyplugin_module(spec), 1 << 20, 2)
    w = make_workload(np, spec, shapes, "float16", 1, seed=0)
    assert [o.shape for o in w.outputs] == [shapes["query"]]
