"""`check --static --trt-version X.Y`: verdicts per TensorRT release (ops and restrictions that came
or went in a minor version), the release named in the verdict, and ops that import only through
TensorRT's plugin library (reported apart from rejections, not failing the check)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.check_models import model, save, tensor
from trtplug.check.backend import available_backends
from trtplug.check.runner import check_model
from trtplug.cli import main

F16 = TensorProto.FLOAT16


def attention(tmp_path: Path, cache: bool = False, **attrs) -> Path:
    """An opset-24 Attention as torch's dynamo exporter writes it (4-D Q/K/V), optionally with a
    KV cache (past_key/past_value in, present_key/present_value out)."""
    qkv = [tensor(n, F16, [1, 8, 16, 64]) for n in ("Q", "K", "V")]
    inputs = ["Q", "K", "V", "", "past_key", "past_value"] if cache else ["Q", "K", "V"]
    outputs = ["Y", "present_key", "present_value"] if cache else ["Y"]
    past = [tensor(n, F16, [1, 8, 4, 64]) for n in ("past_key", "past_value")] if cache else []
    node = helper.make_node("Attention", inputs, outputs, name="attn", **attrs)
    outs = [tensor(n, F16) for n in outputs]
    return save(model([node], qkv + past, outs, opsets=(("", 24),)), tmp_path, f"attn{cache}.onnx")


def verdicts(path: Path, version: str) -> list[tuple[str, str, str]]:
    report = check_model(path, static=True, trt_version=version)
    return [(f.node, f.kind, f.reason) for f in report.findings]


def test_attention_arrives_in_10_14_without_a_kv_cache(tmp_path: Path) -> None:
    path = attention(tmp_path, is_causal=1)
    [(node, kind, reason)] = verdicts(path, "10.13")
    assert node == "attn" and kind == "rejected"
    assert "TensorRT 10.13 has no importer for Attention (added in TensorRT 10.14" in reason
    assert verdicts(path, "10.14") == verdicts(path, "11") == []
    cached = attention(tmp_path, cache=True)
    [(_, _, reason)] = verdicts(cached, "10.16")
    assert "past_key (a KV cache) is not supported" in reason


def test_attention_softcap_and_mask_with_causal_are_refused(tmp_path: Path) -> None:
    assert "softcap is not supported" in verdicts(attention(tmp_path, softcap=30.0), "11.5")[0][2]
    q = [tensor(n, F16, [1, 8, 16, 64]) for n in ("Q", "K", "V")] + [tensor("mask", TensorProto.BOOL, [16, 16])]
    node = helper.make_node("Attention", ["Q", "K", "V", "mask"], ["Y"], name="attn", is_causal=1)
    path = save(model([node], q, [tensor("Y", F16)], opsets=(("", 24),)), tmp_path, "masked.onnx")
    assert "attn_mask cannot be combined with is_causal = 1" in verdicts(path, "10.16")[0][2]


def test_restrictions_lifted_in_a_release(tmp_path: Path) -> None:
    """5-D GridSample from 11.2; Squeeze with runtime axes from 10.7, without axes from 11.5."""
    grid = helper.make_node("GridSample", ["x", "g"], ["y"], name="sample")
    ins = [tensor("x", shape=[1, 2, 4, 4, 4]), tensor("g", shape=[1, 3, 3, 3, 3])]
    path = save(model([grid], ins, [tensor("y")], opsets=(("", 20),)), tmp_path, "grid.onnx")
    assert "only 4D input" in verdicts(path, "11.1")[0][2] and verdicts(path, "11.2") == []
    squeeze = helper.make_node("Squeeze", ["x", "axes"], ["y"], name="squeeze")
    ins = [tensor("x", shape=[1, 4]), tensor("axes", TensorProto.INT64, [1])]
    path = save(model([squeeze], ins, [tensor("y")]), tmp_path, "squeeze.onnx")
    assert "dynamic axes since TensorRT 10.7" in verdicts(path, "10.6")[0][2] and verdicts(path, "10.7") == []
    bare = helper.make_node("Squeeze", ["x"], ["y"], name="squeeze")
    path = save(model([bare], [tensor("x", shape=["n", 1])], [tensor("y")]), tmp_path, "bare.onnx")
    assert "re-export with Squeeze's axes" in verdicts(path, "11.4")[0][2] and verdicts(path, "11.5") == []


def test_squeeze_without_axes_needs_only_a_static_shape_before_11_5(tmp_path: Path) -> None:
    """The importer infers the axes from a static shape (torch.onnx's dynamo Llama has two such
    Squeezes of a [1] size) and refuses only a dynamic one; opset 11 gives axes as an attribute."""
    bare = helper.make_node("Squeeze", ["x"], ["y"], name="squeeze")
    path = save(model([bare], [tensor("x", shape=[1, 4, 1])], [tensor("y")]), tmp_path, "static.onnx")
    assert verdicts(path, "10.0") == []
    path = save(model([bare], [tensor("x")], [tensor("y")]), tmp_path, "unknown.onnx")
    assert verdicts(path, "11.4")[0][0] == "squeeze"
    old = helper.make_node("Squeeze", ["x"], ["y"], name="squeeze", axes=[1])
    path = save(model([old], [tensor("x", shape=["n", 1])], [tensor("y")], opsets=(("", 11),)), tmp_path, "v11.onnx")
    assert verdicts(path, "10.0") == []


def test_stft_from_10_5_with_constant_frame_step_and_window(tmp_path: Path) -> None:
    step = numpy_helper.from_array(np.array(4, np.int64), "step")
    window = numpy_helper.from_array(np.hanning(16).astype(np.float32), "window")
    node = helper.make_node("STFT", ["signal", "step", "window"], ["y"], name="stft")
    path = save(
        model([node], [tensor("signal", shape=[1, 64, 1])], [tensor("y")], [step, window], (("", 17),)), tmp_path
    )
    assert "added in TensorRT 10.5" in verdicts(path, "10.4")[0][2] and verdicts(path, "10.5") == []
    node = helper.make_node("STFT", ["signal", "step", "window"], ["y"], name="stft")
    ins = [tensor("signal", shape=[1, 64, 1]), tensor("window", shape=[16])]
    path = save(model([node], ins, [tensor("y")], [step], (("", 17),)), tmp_path, "runtime_window.onnx")
    assert "the window must be an initializer" in verdicts(path, "10.16")[0][2]


def roi_align(tmp_path: Path) -> Path:
    node = helper.make_node("RoiAlign", ["x", "rois", "idx"], ["y"], name="roi", output_height=7, output_width=7)
    ins = [tensor("x", shape=[1, 256, 32, 32]), tensor("rois", shape=[10, 4]), tensor("idx", TensorProto.INT64, [10])]
    return save(model([node], ins, [tensor("y")], opsets=(("", 16),)), tmp_path, "roi.onnx")


def test_plugin_library_ops_are_reported_apart_and_pass(tmp_path: Path, capsys) -> None:
    path = roi_align(tmp_path)
    [(node, kind, reason)] = verdicts(path, "10.16")
    assert node == "roi" and kind == "plugin-library" and "ROIAlign_TRT" in reason
    assert main(["check", str(path), "--static", "--trt-version", "10.8"]) == 0
    out = capsys.readouterr().out
    assert "static data, TensorRT 10.8" in out and "1 import only with TensorRT's plugin library" in out
    assert main(["check", str(path), "--static", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"][0]["kind"] == "plugin-library"


@pytest.mark.parametrize("version", ["9", "10.17", "12.0", "10.x", ""])
def test_unknown_releases_are_refused(tmp_path: Path, capsys, version: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(roi_align(tmp_path)), "--static", "--trt-version", version])
    assert exit_info.value.code == 2
    assert "10.0 ... 10.16, 11.0 ... 11.5" in capsys.readouterr().err


@pytest.mark.skipif("tensorrt_rtx" not in available_backends(), reason="tensorrt-rtx is not installed")
def test_tensorrt_rtx_rejection_of_a_plugin_library_op_says_why(tmp_path: Path) -> None:
    report = check_model(roi_align(tmp_path), backend="tensorrt_rtx")
    [finding] = report.findings
    assert finding.kind == "not-in-rtx" and "TensorRT-RTX ships no plugin library" in finding.reason
    assert finding.plugin == "TrtplugRoiAlign"  # RTX cannot build it, trtplug's plugin covers it
    assert report.exit_code == 0
