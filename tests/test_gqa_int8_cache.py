"""GroupQueryAttention on an int8 KV cache (ONNX Runtime GenAI's kv_cache_quant_scheme=
int8_per_tensor) at model level: the decoder layer with k_scale/v_scale, rewritten, then model
parity against ONNX Runtime's CPU kernel on a ragged first prompt and on one decode step that grows
the int8 cache the original returned. Also the prototype's quantization rule on edge values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from tests import gqa_decoder_model as layer
from trtplug.cli import main
from trtplug.parity.ort_session import cpu_session
from trtplug.protolib import kv_quant

PLUGIN = "TrtplugGroupQueryAttention"


def _parity(path: Path, out: Path, feeds: dict, tmp_path: Path, capsys) -> dict:
    inputs = tmp_path / "feeds.npz"
    np.savez(inputs, **feeds)
    capsys.readouterr()
    code = main(["parity", "--model", str(path), "--rewritten", str(out), "--inputs", str(inputs), "--json"])
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert code == 0 and result["status"] == "pass", json.dumps(result)[:2000]
    return result


def test_int8_cache_layer_prefill_and_decode_match_onnxruntime(tmp_path: Path, capsys) -> None:
    model = layer.int8_cache_layer()
    path, out = tmp_path / "layer.onnx", tmp_path / "layer.plugins.onnx"
    onnx.save(model, path)
    assert main(["rewrite", str(path), "-o", str(out), "--all-covered", "--json"]) == 0
    assert [n.op_type for n in onnx.load(out).graph.node].count(PLUGIN) == 1

    rng = np.random.default_rng(3)
    prompt = layer.prefill_feeds(rng, [6, 4], seq=6)
    prompt["past_key"] = prompt["past_key"].astype(np.int8)
    prompt["past_value"] = prompt["past_value"].astype(np.int8)
    result = _parity(path, out, prompt, tmp_path, capsys)
    assert "present_key" in json.dumps(result)

    _, present_key, present_value = cpu_session(model.SerializeToString()).run(None, prompt)
    assert present_key.dtype == np.int8 and np.abs(present_key).max() > 0
    step = layer.decode_feeds(rng, prompt["attention_mask"], present_key, present_value)
    _parity(path, out, step, tmp_path, capsys)


def test_quantization_rounds_half_to_even_saturates_and_divides_by_one_for_a_zero_scale() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 127.5, -128.5, 1e9, np.nan], np.float32)
    assert kv_quant.quantize(np, x, np.float32(1)).tolist() == [0, 2, 2, 0, -2, 127, -128, 127, 127]
    assert kv_quant.quantize(np, np.float32([1.7, -3.2]), np.float32(0)).tolist() == [2, -3]
    assert kv_quant.dequantize(np, np.int8([2, -3]), np.float32(0)).tolist() == [0, 0]
