"""check, list, rewrite and model parity on the shapes real exporters emit (tests/exporter_models.py):
ONNX Runtime GenAI's int4 decoder layer, ONNX Runtime's optimized BERT, a torch dynamo opset-23
block, a RoiAlign head, a DeformConv block, an STFT front end, torch.onnx's TorchScript STFT and its dynamo
Llama rotary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests import exporter_models as models
from trtplug.cli import main

DIMS = ["--dim", "batch=2", "--dim", "seq=5", "--dim", "rois=3"]


def saved(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.onnx"
    onnx.save(getattr(models, name)(), path)
    return path


def static_findings(path: Path, version: str, capsys) -> dict[str, dict]:
    code = main(["check", str(path), "--static", "--trt-version", version, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == (1 if doc["uncovered"] else 0)
    return {f["op_type"]: f for f in doc["findings"]}


def test_genai_decoder_check_finds_a_plugin_for_every_rejected_node(tmp_path: Path, capsys) -> None:
    findings = static_findings(saved(tmp_path, "genai_decoder"), "10.16", capsys)
    assert {op: f["plugin"] for op, f in findings.items()} == {
        "GroupQueryAttention": "TrtplugGroupQueryAttention",
        "MatMulNBits": "TrtplugMatMulNBits",
        "SkipSimplifiedLayerNormalization": "TrtplugSkipSimplifiedLayerNorm",
        "SimplifiedLayerNormalization": "TrtplugSimplifiedLayerNorm",  # ONNX Runtime's default-domain op
    }


def test_genai_decoder_rewrites_and_compares_on_real_inputs(tmp_path: Path, capsys) -> None:
    """A decode step needs consistent inputs (seqlens_k = total - 1): --inputs gives them."""
    source, out, feeds = saved(tmp_path, "genai_decoder"), tmp_path / "out.onnx", tmp_path / "step.npz"
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    ops = [n.op_type for n in onnx.load(out).graph.node]
    expected = {"TrtplugSkipSimplifiedLayerNorm", "TrtplugGroupQueryAttention", "TrtplugMatMulNBits"}
    assert expected <= set(ops) and not {"GroupQueryAttention", "MatMulNBits"} & set(ops)
    np.savez(feeds, **models.genai_decoder_inputs())
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["engine"] == "onnxruntime"
    assert [o["output"] for o in result["outputs"]] == ["y", "present_key", "present_value"]
    assert "7 MatMulNBits at accuracy_level 0" in result["reference"]  # not ONNX Runtime's int8 activations


@pytest.mark.parametrize(("batch", "seq", "past"), [(1, 5, 3), (2, 5, 0), (3, 1, 7)], ids=["chunk", "prompt", "decode"])
def test_genai_builder_decoder_on_random_inputs(tmp_path: Path, capsys, batch: int, seq: int, past: int) -> None:
    """The builder derives seqlens_k from attention_mask: random inputs give a mask of ones, so
    prompt, chunked-prompt and decode steps compare without --inputs."""
    source, out = saved(tmp_path, "genai_builder_decoder"), tmp_path / "out.onnx"
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    dims = {"batch": batch, "seq": seq, "past": past, "total": seq + past}
    args = [f"--dim={k}={v}" for k, v in dims.items()]
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out), *args, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert "TrtplugGroupQueryAttention" in result["plugins"] and result["reference"].startswith("onnxruntime (")


@pytest.mark.parametrize("int64_ids", [False, True], ids=["int32-ids", "int64-ids-cast"])
def test_ort_bert_token_types_stay_in_their_table(tmp_path: Path, capsys, int64_ids: bool) -> None:
    """With int64 ids the optimizer casts them to int32 first: the bounds follow the Cast (token
    types drawn from 0..3 into the 2-row table made ONNX Runtime fail on a real optimized BERT)."""
    source, out = tmp_path / "bert.onnx", tmp_path / "out.onnx"
    onnx.save(models.ort_bert(int64_ids=int64_ids), source)
    assert main(["list", "--model", str(source)]) == 0
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out), *DIMS, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert {"TrtplugEmbedLayerNorm", "TrtplugSkipLayerNorm", "TrtplugFastGelu"} <= set(result["plugins"])


def test_dynamo_attention_and_rms_norm_per_release(tmp_path: Path, capsys) -> None:
    path = saved(tmp_path, "dynamo_block")
    assert static_findings(path, "10.16", capsys) == {}
    older = static_findings(path, "10.13", capsys)
    assert "added in TensorRT 10.14" in older["Attention"]["reason"]
    assert "added in TensorRT 10.15" in older["RMSNormalization"]["reason"]


@pytest.mark.parametrize(("name", "op"), [("roi_align_head", "RoiAlign"), ("deform_conv_block", "DeformConv")])
def test_vision_ops_need_the_plugin_library(tmp_path: Path, capsys, name: str, op: str) -> None:
    path = saved(tmp_path, name)
    finding = static_findings(path, "10.16", capsys)[op]
    assert finding["kind"] == "plugin-library" and "libnvinfer_plugin" in finding["reason"]
    assert main(["rewrite", str(path), "-o", str(tmp_path / "out.onnx"), "--trt-version", "10.16"]) == 0
    assert main(["parity", "--model", str(path), "--rewritten", str(tmp_path / "out.onnx"), *DIMS]) == 0


def test_stft_front_end_imports_since_10_5(tmp_path: Path, capsys) -> None:
    path = saved(tmp_path, "stft_block")
    assert static_findings(path, "10.5", capsys) == {}
    assert "added in TensorRT 10.5" in static_findings(path, "10.4", capsys)["STFT"]["reason"]


def test_torchscript_stft_rank2_signal_is_rewritten_with_parity(tmp_path: Path, capsys) -> None:
    """torch.onnx's TorchScript exporter writes torch.stft with a [batch, length] signal, which
    ONNX Runtime reads as real and TensorRT rejects: the plugin takes it as [batch, length, 1]."""
    path, out = saved(tmp_path, "torchscript_stft"), tmp_path / "out.onnx"
    assert static_findings(path, "10.16", capsys)["STFT"]["plugin"] == "TrtplugStft"
    assert main(["rewrite", str(path), "-o", str(out), "--trt-version", "10.16"]) == 0
    assert "1 replaced" in capsys.readouterr().out
    assert [n.op_type for n in onnx.load(out).graph.node if n.op_type.startswith("Trtplug")] == ["TrtplugStft"]
    assert main(["parity", "--model", str(path), "--rewritten", str(out), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["plugins"] == ["TrtplugStft"]


@pytest.mark.parametrize("quantized", [False, True], ids=["float", "matmul-nbits"])
def test_llama_rotary_caches_shared_by_the_batch(tmp_path: Path, capsys, quantized: bool) -> None:
    """ONNX Runtime refuses [1, S, H / 2] caches at batch 2: model parity's reference expands them
    to the batch in memory and says so, so that a model with ops onnx.reference lacks (an ONNX
    Runtime quantizer's MatMulNBits) still has a reference; the plugin broadcasts the caches."""
    path, out = tmp_path / "llama.onnx", tmp_path / "out.onnx"
    onnx.save(models.dynamo_llama_rotary(quantized=quantized), path)
    assert main(["rewrite", str(path), "-o", str(out), "--all-covered"]) == 0
    assert f"{3 if quantized else 2} replaced" in capsys.readouterr().out
    dims = ["--dim", "batch=2", "--dim", "seq=6"]
    assert main(["parity", "--model", str(path), "--rewritten", str(out), *dims, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["reference"].startswith("onnxruntime (the caches of 2 ai.onnx RotaryEmbedding expanded from batch 1")
    assert "TrtplugOnnxRotaryEmbedding" in result["plugins"]
    assert main(["parity", "--model", str(path), "--rewritten", str(out), "--dim", "batch=1", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]  # batch 1: expanding is a copy
    assert result["status"] == "pass" and result["reference"].startswith("onnxruntime (the caches of 2")


def test_fp16_model_with_float32_io_is_judged_at_fp16_tolerance(tmp_path: Path, capsys) -> None:
    """The optimizer's keep_io_types leaves float32 outputs on an fp16 graph: the comparison uses
    the tolerance of the dtype the plugin nodes ran in (fp16), not the outputs' float32 one."""
    path, out = saved(tmp_path, "ort_fp16_skip_layer_norm"), tmp_path / "out.onnx"
    assert main(["rewrite", str(path), "-o", str(out), "--all-covered"]) == 0
    for seed in range(3):
        args = ["parity", "--model", str(path), "--rewritten", str(out), "--seed", str(seed), *DIMS, "--json"]
        capsys.readouterr()
        assert main(args) == 0
        [result] = json.loads(capsys.readouterr().out)["results"]
        assert result["plugins"] == ["TrtplugBiasGelu", "TrtplugSkipLayerNorm"]
        assert result["outputs"][0]["max_abs"] > 1e-4  # fp16 rounding: past the float32 tolerance


def test_llama_rotary_shared_caches_are_rejected_by_the_parser_and_the_data(tmp_path: Path, capsys) -> None:
    """TensorRT's importer refuses [1, S, H / 2] caches for a dynamic batch; the static data says
    so for every release with RotaryEmbedding, and where TensorRT-RTX is installed its parser does."""
    path = saved(tmp_path, "dynamo_llama_rotary")
    for version in ("10.15", "11.5"):
        findings = static_findings(path, version, capsys)
        assert "cos_cache/sin_cache of batch 1" in findings["RotaryEmbedding"]["reason"]
    pytest.importorskip("tensorrt_rtx", reason="parser mode needs TensorRT-RTX (pip install tensorrt-rtx)")
    assert main(["check", "--json", "--no-progress", str(path)]) == 0  # rejected, and covered
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "parser" and doc["rejected"] == 2 and doc["uncovered"] == 0
    assert all("cosCache has batch size 1" in f["reason"] for f in doc["findings"])


def test_shapeless_value_info_after_contrib_ops_is_typed(tmp_path: Path, capsys) -> None:
    """The fp16 converter types the contrib ops' outputs without shapes: those are gaps the specs'
    shape rules fill, so the parser judges the MatMul after them on its real input shape (it was
    refused as 'last dimension of input0 = 1')."""
    from trtplug.check.walk import add_spec_types
    from trtplug.registry import load_registry

    typed = add_spec_types(models.ort_fp16_skip_layer_norm(), load_registry())
    infos = {v.name: v.type.tensor_type for v in typed.graph.value_info}
    assert all(len(infos[n].shape.dim) == 3 for n in ("n16", "g16", "y16"))  # the MatMul's too, past BiasGelu
    pytest.importorskip("tensorrt_rtx", reason="parser mode needs TensorRT-RTX (pip install tensorrt-rtx)")
    path = saved(tmp_path, "ort_fp16_skip_layer_norm")
    assert main(["check", "--json", "--no-progress", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {f["op_type"] for f in doc["findings"]} <= {"SkipLayerNormalization", "BiasGelu"}


@pytest.mark.parametrize("name", ["genai_builder_decoder", "ort_bert"])
def test_a_renamed_mask_is_still_all_ones(name: str) -> None:
    """The mask is known by reaching GroupQueryAttention's seqlens_k (ReduceSum, Sub, Cast) or
    EmbedLayerNormalization's mask, not only by its name; BERT's input_ids keep random values."""
    from trtplug.parity.model_feeds import random_feeds

    model = getattr(models, name)()
    for node in model.graph.node:
        node.input[:] = ["padding" if n == "attention_mask" else n for n in node.input]
    next(v for v in model.graph.input if v.name == "attention_mask").name = "padding"
    feeds = random_feeds(model, {"batch": 2, "seq": 4, "past": 3, "total": 7}, seed=3)
    assert feeds["padding"].size >= 8 and np.all(feeds["padding"] == 1)
    if "input_ids" in feeds:
        assert len(np.unique(feeds["input_ids"])) > 1
