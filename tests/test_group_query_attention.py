"""com.microsoft GroupQueryAttention: the rewrite of a GenAI-style decoder layer (shape input,
data copy, absent key/value), model-level parity for a prefill and the decode step after it,
nodes left alone for what the plugin does not cover (and the windowed cache covered), and the
prototype's cache semantics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests import gqa_decoder_model as layer
from trtplug.cli import main

PLUGIN = "TrtplugGroupQueryAttention"


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gqa") / "decoder.onnx"
    onnx.save(layer.decoder_layer(), path)
    return path


@pytest.fixture(scope="module")
def rewritten(decoder: Path) -> Path:
    out = decoder.with_name("decoder.plugins.onnx")
    assert main(["rewrite", str(decoder), "-o", str(out), "--trt-version", "10.16"]) == 0
    return out


def _ort(model: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_rewrite_makes_total_sequence_length_a_shape_input(rewritten: Path) -> None:
    model = onnx.load(rewritten)
    onnx.checker.check_model(model, full_check=True)
    (node,) = [n for n in model.graph.node if n.op_type == PLUGIN]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["tensorrt_plugin_shape_input_indices"] == [6]
    assert node.input[6] == node.input[-1] == "total_sequence_length"  # the data copy comes last
    assert attrs["num_heads"] == layer.HEADS and attrs["kv_num_heads"] == layer.KV_HEADS
    assert attrs["do_rotary"] == 1
    empties = {i.name for i in model.graph.initializer if 0 in i.dims}
    assert node.input[1] in empties and node.input[2] in empties  # packed QKV: key/value absent
    assert not [n for n in model.graph.node if n.domain == "com.microsoft"]


def _model_parity(decoder: Path, rewritten: Path, feeds: dict[str, np.ndarray], tmp_path: Path, capsys) -> dict:
    inputs = tmp_path / "feeds.npz"
    np.savez(inputs, **feeds)
    code = main(["parity", "--model", str(decoder), "--rewritten", str(rewritten), "--inputs", str(inputs), "--json"])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 0, result
    return result


def test_model_parity_prefill_then_decode_step(decoder: Path, rewritten: Path, tmp_path: Path, capsys) -> None:
    """The prefill (ragged batch, right padding) and the decode step that appends to its cache."""
    rng = np.random.default_rng(3)
    prefill = layer.prefill_feeds(rng, [6, 3], seq=6)
    result = _model_parity(decoder, rewritten, prefill, tmp_path, capsys)
    assert result["status"] == "pass" and result["plugins"] == [PLUGIN]
    _, present_key, present_value = _ort(decoder, prefill)
    step = layer.decode_feeds(rng, prefill["attention_mask"], present_key, present_value)
    result = _model_parity(decoder, rewritten, step, tmp_path, capsys)
    assert result["status"] == "pass"
    _, grown_key, _ = _ort(decoder, step)
    assert grown_key.shape[2] == present_key.shape[2] + 1  # the cache grew by the new token


def _gqa_node_model(**attrs: int) -> onnx.ModelProto:
    model = layer.decoder_layer()
    for node in model.graph.node:
        if node.op_type == "GroupQueryAttention":
            kept = [a for a in node.attribute if a.name not in attrs]
            del node.attribute[:]
            node.attribute.extend([*kept, *(onnx.helper.make_attribute(k, v) for k, v in attrs.items())])
    return model


def _with_attention_bias(model: onnx.ModelProto) -> onnx.ModelProto:
    gqa = next(n for n in model.graph.node if n.op_type == "GroupQueryAttention")
    gqa.input.extend(["", "attention_bias"])  # position_ids absent
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.zeros((1, 1, 1, 1), np.float32), "attention_bias"))
    return model


def _rewrite_json(model: onnx.ModelProto, tmp_path: Path, capsys) -> tuple[dict, Path]:
    path, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, path)
    main(["rewrite", str(path), "-o", str(out), "--all-covered", "--json"])
    return json.loads(capsys.readouterr().out), out


WINDOWED = {"sliding_window_cache": 1, "local_window_size": 4}


@pytest.mark.parametrize(
    ("attrs", "bias", "reason"),
    [
        ({"qk_output": 1}, False, "qk_output"),
        ({"causal": 0}, False, "causal"),
        # ONNX Runtime refuses a windowed cache without a window too
        ({"sliding_window_cache": 1}, False, "'sliding_window_cache' = 1 needs local_window_size >= 1, got -1"),
        (WINDOWED, True, "'sliding_window_cache' = 1 is not covered with input 'attention_bias'"),
    ],
)
def test_rewrite_leaves_what_the_plugin_does_not_cover(tmp_path: Path, capsys, attrs, bias, reason) -> None:
    model = _gqa_node_model(**attrs)
    doc, _ = _rewrite_json(_with_attention_bias(model) if bias else model, tmp_path, capsys)
    (left,) = [c for c in doc["changes"] if c["action"] == "left"]
    assert reason in left["reason"]


def test_rewrite_covers_the_windowed_cache(tmp_path: Path, capsys) -> None:
    """sliding_window_cache = 1 (GenAI's Gemma 2/3 local layers) becomes a plugin field; the
    present caches keep the past's capacity."""
    doc, out = _rewrite_json(_gqa_node_model(**WINDOWED), tmp_path, capsys)
    assert not [c for c in doc["changes"] if c["action"] == "left"]
    model = onnx.load(out)
    (node,) = [n for n in model.graph.node if n.op_type == PLUGIN]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["sliding_window_cache"] == 1 and attrs["local_window_size"] == 4


def _windowed_decoder(path: Path) -> Path:
    """The decoder layer on a windowed buffer: present keeps the past's capacity."""
    model = _gqa_node_model(**WINDOWED)
    for output in model.graph.output[1:]:
        output.type.tensor_type.shape.dim[2].dim_param = "past"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(("seq", "lengths"), [(10, [10, 10]), (1, [20, 12])])
def test_model_parity_windowed_decoder(tmp_path: Path, capsys, seq: int, lengths: list[int]) -> None:
    """A first prompt longer than the 8-row buffer, and a ragged decode step after its wraps:
    present's rows after L(T), which ONNX Runtime leaves unwritten, are compared as zeros."""
    decoder = _windowed_decoder(tmp_path / "windowed.onnx")
    rewritten = tmp_path / "windowed.plugins.onnx"
    assert main(["rewrite", str(decoder), "-o", str(rewritten), "--trt-version", "10.16"]) == 0
    capsys.readouterr()  # the rewrite's report
    rng = np.random.default_rng(seq)
    batch, total = len(lengths), max(lengths)
    mask = (np.arange(total)[None] < np.array(lengths)[:, None]).astype(np.int64)
    past = rng.standard_normal((2, batch, layer.KV_HEADS, 8, layer.HEAD)).astype(np.float32)
    hidden = rng.standard_normal((batch, seq, layer.HIDDEN)).astype(np.float32)
    feeds = {"hidden": hidden, "attention_mask": mask, "past_key": past[0], "past_value": past[1]}
    result = _model_parity(decoder, rewritten, feeds, tmp_path, capsys)
    assert result["status"] == "pass" and result["plugins"] == [PLUGIN]


def test_model_parity_draws_a_windowed_buffer_of_the_window(tmp_path: Path, capsys) -> None:
    """A windowed buffer's symbolic rows (GenAI: past_sliding_length) left out of --dim take the
    node's local_window_size (4), not the default 3, which ONNX Runtime refuses below the window."""
    decoder = _windowed_decoder(tmp_path / "windowed.onnx")
    rewritten = tmp_path / "windowed.plugins.onnx"
    assert main(["rewrite", str(decoder), "-o", str(rewritten), "--trt-version", "10.16"]) == 0
    capsys.readouterr()
    given = ["--dim", "batch=2", "--dim", "seq=1", "--dim", "total=9", "--json"]  # a decode step after a wrap
    code = main(["parity", "--model", str(decoder), "--rewritten", str(rewritten), *given])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 0 and result["status"] == "pass", result


def test_rewrite_leaves_a_windowed_cache_without_its_past(tmp_path: Path, capsys) -> None:
    model = _gqa_node_model(**WINDOWED)
    gqa = next(n for n in model.graph.node if n.op_type == "GroupQueryAttention")
    gqa.input[3], gqa.input[4] = "", ""
    doc, _ = _rewrite_json(model, tmp_path, capsys)
    (left,) = [c for c in doc["changes"] if c["action"] == "left"]
    assert "'sliding_window_cache' = 1 needs input 'past_key', 'past_value'" in left["reason"]


def _prototype(inputs: dict[str, np.ndarray], outputs: list[tuple[int, ...]], attrs: dict) -> list[np.ndarray]:
    from pyplugins import group_query_attention as gqa

    ordered = [inputs.get(n) for n in gqa.INPUTS]
    outs = [np.full(s, np.nan, np.float32) for s in outputs]
    gqa.forward(np, ordered, outs, attrs)
    return outs


def test_prototype_decode_step_equals_the_last_row_of_a_longer_prefill() -> None:
    """Causal attention with a cache: prefill(n) then decode(1) gives prefill(n + 1)'s last row and cache."""
    rng = np.random.default_rng(0)
    batch, seq, heads, kv_heads, head = 2, 5, 4, 2, 16
    attrs = {"num_heads": heads, "kv_num_heads": kv_heads, "scale": 0.0, "softcap": 0.0, "local_window_size": 3}
    attrs |= {"do_rotary": 0, "rotary_interleaved": 0, "smooth_softmax": 0}
    qkv = rng.standard_normal((batch, seq + 1, (heads + 2 * kv_heads) * head)).astype(np.float32)

    def step(x: np.ndarray, past: int, total: int, cache: tuple) -> list[np.ndarray]:
        feeds = {"query": x, "seqlens_k": np.full(batch, total - 1, np.int32)}
        feeds |= {"total_sequence_length": np.array(total, np.int32), "past_key": cache[0], "past_value": cache[1]}
        shapes = [(batch, x.shape[1], heads * head), *[(batch, kv_heads, total, head)] * 2]
        return _prototype(feeds, shapes, attrs)

    empty = np.zeros((batch, kv_heads, 0, head), np.float32)
    _, key, value = step(qkv[:, :seq], 0, seq, (empty, empty))
    out, grown_key, _ = step(qkv[:, seq:], seq, seq + 1, (key, value))
    full, full_key, _ = step(qkv, 0, seq + 1, (empty, empty))
    np.testing.assert_allclose(out[:, 0], full[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(grown_key, full_key)


def _quantized_node_rewrite(tmp_path: Path, capsys, bits: int, quant: str, extra_inputs: int = 0) -> dict:
    """The rewrite's change for the decoder layer's node with k_scale/v_scale and these attributes."""
    model = layer.decoder_layer()
    gqa = next(n for n in model.graph.node if n.op_type == "GroupQueryAttention")
    gqa.input.extend([""] * (12 - len(gqa.input)) + ["k_scale", "v_scale"] + [""] * extra_inputs)
    if extra_inputs:
        gqa.input[-1] = "seqlens_k"  # query_seqlens, any int32 tensor
    gqa.attribute.extend([onnx.helper.make_attribute("kv_cache_bit_width", bits)])
    gqa.attribute.extend(onnx.helper.make_attribute(f"{c}_quant_type", quant) for c in "kv")
    model.graph.initializer.extend(
        onnx.numpy_helper.from_array(np.full(1, 0.02, np.float32), n) for n in ("k_scale", "v_scale")
    )
    path, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, path)
    main(["rewrite", str(path), "-o", str(out), "--all-covered", "--json"])
    (change,) = [c for c in json.loads(capsys.readouterr().out)["changes"] if "GroupQueryAttention" in c["op"]]
    return change


def test_rewrite_takes_an_int8_cache_node_and_leaves_what_it_does_not_cover(tmp_path: Path, capsys) -> None:
    """kv_cache_bit_width = 8 is replaced; 4-bit caches, quant types without a bit width and
    query_seqlens are left with the rule they break."""
    assert _quantized_node_rewrite(tmp_path, capsys, 8, "PER_TENSOR")["action"] == "replaced"
    four = _quantized_node_rewrite(tmp_path, capsys, 4, "PER_TENSOR")
    assert four["action"] == "left" and "kv_cache_bit_width" in four["reason"] and "4" in four["reason"]
    untyped = _quantized_node_rewrite(tmp_path, capsys, 0, "PER_CHANNEL")
    assert untyped["action"] == "left" and "needs kv_cache_bit_width >= 8" in untyped["reason"]
    seqlens = _quantized_node_rewrite(tmp_path, capsys, 8, "PER_TENSOR", extra_inputs=3)
    assert seqlens["action"] == "left" and "17 inputs" in seqlens["reason"] and PLUGIN in seqlens["reason"]
