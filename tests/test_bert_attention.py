"""com.microsoft Attention (BERT form): the prototype against ONNX Runtime CPU on forms the parity
cases cannot draw (unequal V hidden size, whose present ONNX Runtime leaves undefined; the
Megatron [B, 1, M, M] mask ONNX Runtime CPU lacks, compared with the same mask as [B, S, T]),
the rewrite (nodes with CUDA-only inputs or attributes left alone) and the ORT-optimized BERT
layer rewritten and compared at model level."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pyplugins import bert_attention as bert
from tests import exporter_models as models
from trtplug.cli import main

NAMES = ["input", "weights", "bias", "mask_index", "past", "attention_bias"]
OUTPUTS = ["output", "present"]


def attention_model(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> onnx.ModelProto:
    used = [n if n in inputs else "" for n in NAMES]
    while used[-1] == "":
        used.pop()
    node = helper.make_node("Attention", used, OUTPUTS[:outputs], domain="com.microsoft", name="attn", **attrs)
    infos = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for n, v in inputs.items()
    ]
    shapes = bert.output_shapes([inputs.get(n) for n in NAMES], attrs)
    outs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(OUTPUTS[:outputs], shapes, strict=False)
    ]
    graph = helper.make_graph([node], "attn", infos, outs)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def ort_outputs(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    model = attention_model(inputs, outputs, **attrs).SerializeToString()
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"]).run(None, inputs)


def prototype_outputs(inputs: dict[str, np.ndarray], outputs: int, **attrs) -> list[np.ndarray]:
    full = {"scale": 0.0, "unidirectional": 0, "qkv_hidden_sizes": [], **attrs}
    return bert.compute(np, [inputs.get(n) for n in NAMES], full)[:outputs]


def layer_inputs(rng: np.random.Generator, batch: int, seq: int, width: int, cols: int) -> dict[str, np.ndarray]:
    return {
        "input": rng.standard_normal((batch, seq, width)).astype(np.float32),
        "weights": (rng.standard_normal((width, cols)) / np.sqrt(width)).astype(np.float32),
        "bias": rng.standard_normal(cols).astype(np.float32),
    }


def assert_close(got: list, want: list) -> None:
    for g, w, name in zip(got, want, OUTPUTS, strict=False):
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=name)


def test_unequal_value_hidden_size(seed: int) -> None:
    pytest.importorskip("onnxruntime")
    inputs = layer_inputs(np.random.default_rng(seed), 2, 5, 24, 32 + 32 + 16)
    inputs["mask_index"] = np.array([5, 3], dtype=np.int32)
    attrs = {"num_heads": 4, "qkv_hidden_sizes": [32, 32, 16], "unidirectional": 1}
    got = prototype_outputs(inputs, 1, **attrs)
    assert got[0].shape == (2, 5, 16)
    assert_close(got, ort_outputs(inputs, 1, **attrs))


def test_megatron_mask_reads_the_rows_of_the_new_tokens(seed: int) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(seed)
    batch, seq, past, heads, head, longest = 2, 3, 4, 2, 8, 10
    inputs = layer_inputs(rng, batch, seq, 16, 3 * heads * head)
    inputs["past"] = rng.standard_normal((2, batch, heads, past, head)).astype(np.float32)
    megatron = (rng.random((batch, 1, longest, longest)) < 0.6).astype(np.int32)
    megatron[..., 0] = 1
    rows = np.ascontiguousarray(megatron[:, 0, past : past + seq, : past + seq])
    got = prototype_outputs({**inputs, "mask_index": megatron}, 2, num_heads=heads)
    assert_close(got, ort_outputs({**inputs, "mask_index": rows}, 2, num_heads=heads))
    fewer = megatron.copy()
    fewer[:, 0, past : past + seq, 1:] = 0  # the rows the op reads: only key 0 left
    assert not np.allclose(prototype_outputs({**inputs, "mask_index": fewer}, 1, num_heads=heads)[0], got[0])


def save(tmp_path: Path, name: str, model: onnx.ModelProto) -> Path:
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def test_rewrite_replaces_the_node_with_parity(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(4)
    inputs = layer_inputs(rng, 2, 3, 32, 96)
    inputs["past"] = rng.standard_normal((2, 2, 4, 5, 8)).astype(np.float32)
    inputs["mask_index"] = np.array([8, 6, 1, 0], dtype=np.int32)  # end, then start positions
    source, out = save(tmp_path, "attn", attention_model(inputs, 2, num_heads=4, unidirectional=1)), tmp_path / "o.onnx"
    for version in ("10.16", "11.5"):  # no TensorRT release imports com.microsoft Attention
        assert main(["rewrite", str(source), "-o", str(out), "--trt-version", version]) == 0
        assert "1 replaced" in capsys.readouterr().out
    node = onnx.load(out).graph.node[0]
    assert node.op_type == "TrtplugBertAttention"
    assert helper.get_attribute_value(next(a for a in node.attribute if a.name == "num_outputs")) == 2
    feeds = tmp_path / "feeds.npz"  # mask positions must stay within the keys: real values
    np.savez(feeds, **inputs)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds)]) == 0
    assert "pass" in capsys.readouterr().out


@pytest.mark.parametrize("cuda_only", ["do_rotary", "past_sequence_length"])
def test_rewrite_leaves_cuda_only_forms_alone(tmp_path: Path, capsys, cuda_only: str) -> None:
    inputs = layer_inputs(np.random.default_rng(5), 1, 2, 16, 48)
    model = attention_model(inputs, 1, num_heads=2)
    if cuda_only == "do_rotary":
        model.graph.node[0].attribute.append(helper.make_attribute("do_rotary", 1))
    else:
        model.graph.node[0].input.extend(["", "", "", "past_sequence_length"])
        model.graph.input.append(helper.make_tensor_value_info("past_sequence_length", TensorProto.INT32, [1]))
    source = save(tmp_path, cuda_only, model)
    assert main(["rewrite", str(source), "-o", str(tmp_path / "o.onnx"), "--all-covered"]) in (0, 1)
    report = capsys.readouterr().out
    assert "0 replaced" in report and "attn" in report


def test_ort_bert_layer_rewritten_and_compared(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "bert.onnx", tmp_path / "out.onnx"
    onnx.save(models.ort_bert(), source)
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    assert "TrtplugBertAttention" in [n.op_type for n in onnx.load(out).graph.node]
    capsys.readouterr()
    # Real BERT inputs: random token ids, right-padded attention masks with at least one token per
    # row (fully masked rows are covered by the op's parity cases).
    from trtplug.parity.model_feeds import random_feeds
    from trtplug.registry import load_registry

    feeds = random_feeds(
        onnx.load(source), {"batch": 2, "seq": 5}, int(np.random.default_rng().integers(1 << 30)), load_registry()
    )
    lengths = np.random.default_rng().integers(1, 6, size=2)
    feeds["attention_mask"] = (np.arange(5)[None, :] < lengths[:, None]).astype(feeds["attention_mask"].dtype)
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, **feeds)
    dims = ["--dim", "batch=2", "--dim", "seq=5"]
    assert (
        main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(inputs), *dims, "--json"]) == 0
    )
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and "TrtplugBertAttention" in result["plugins"]


def test_bench_workload_shapes_its_outputs_from_the_prototype() -> None:
    from trtplug.bench.workload import bench_shapes, make_workload
    from trtplug.prototypes import pyplugin_module
    from trtplug.registry import load_registry

    spec = load_registry().get("bert_attention")
    shapes = bench_shapes(spec, pyplugin_module(spec), 1 << 20, 2)
    w = make_workload(np, spec, shapes, "float16", 1, seed=0)
    assert [o.shape for o in w.outputs] == [(*shapes["input"][:2], 1024)]


def test_reference_without_bias_sidesteps_onnxruntime_before_1_32(monkeypatch):
    """ONNX Runtime 1.30 segfaults on Attention without bias; the parity reference then feeds the
    zero bias, which must give what the real absent bias gives on a runtime that takes it."""
    from trtplug.parity import reference
    from trtplug.parity.cases import default_cases, make_inputs
    from trtplug.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "plugins" / "bert_attention" / "spec.toml")
    case = next(c for c in default_cases(spec) if c.name == "no_bias")
    inputs = make_inputs(spec, case, 7)
    assert "bias" not in inputs
    if reference.onnxruntime_version() < (1, 32):
        pytest.skip("this ONNX Runtime crashes on the absent bias itself: nothing to compare with")
    direct = reference.run_reference(spec, case, inputs)
    monkeypatch.setattr(reference, "onnxruntime_version", lambda: (1, 30))
    assert "bias" in reference._around_onnxruntime_crashes(spec, inputs)
    sidestepped = reference.run_reference(spec, case, inputs)
    for got, want in zip(sidestepped, direct, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
