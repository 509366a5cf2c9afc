"""STFT beyond the parity cases: the rewrite per TensorRT target (before 10.5 every node; from
10.5 only complex signals, computed windows or a runtime frame_step), frame_step/frame_length
folded into fields with the window kept as a plugin input, and a MelSpectrogram graph for
TensorRT 10.4 (STFT replaced, MelWeightMatrix folded) compared at model level."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.test_mel_spectrogram import mel_model
from trtplug.cli import main


def stft_model(comps: int = 1, computed_window: bool = False) -> onnx.ModelProto:
    window = np.hanning(16).astype(np.float32)
    inits = [
        numpy_helper.from_array(np.array(4, np.int64), "step"),
        numpy_helper.from_array(np.array(16, np.int64), "length"),
        numpy_helper.from_array(window, "hann"),
    ]
    nodes = [helper.make_node("STFT", ["x", "step", "window", "length"], ["y"], name="stft", onesided=1)]
    if computed_window:  # the window from a graph computation (not an initializer)
        nodes.insert(0, helper.make_node("Abs", ["hann"], ["window"]))
    else:
        inits[-1].name = "window"
    graph = helper.make_graph(
        nodes,
        "stft",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 100, comps])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 22, 9 if comps == 1 else 16, 2])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def rewrite(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {c["node"]: c for c in report["changes"]}, onnx.load(out)


@pytest.mark.parametrize(
    ("comps", "computed", "target", "native"),
    [
        (1, False, "10.4", False),
        (1, False, "10.16", True),
        (1, False, "11.5", True),
        (2, False, "10.16", False),
        (1, True, "10.16", False),
    ],
)
def test_rewrite_per_target(tmp_path: Path, capsys, comps, computed, target, native) -> None:
    nodes, rewritten = rewrite(tmp_path, stft_model(comps, computed), capsys, "--trt-version", target)
    node = next(n for n in rewritten.graph.node if n.name == "stft")
    if native:
        assert nodes["stft"]["action"] == "left" and "imports it natively" in nodes["stft"]["reason"]
        assert node.op_type == "STFT"
        return
    assert nodes["stft"]["action"] == "replaced" and node.op_type == "TrtplugStft"
    assert list(node.input) == ["x", "window"]
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["frame_step"] == 4 and fields["frame_length"] == 16 and fields["onesided"] == 1
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    from trtplug.parity.reference import onnxruntime_version

    if comps == 2 and onnxruntime_version() < (1, 32):
        pytest.skip("ONNX Runtime before 1.32 returns garbage for a complex STFT signal (seen with 1.30): no reference")
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass"


def test_mel_spectrogram_for_tensorrt_10_4(tmp_path: Path, capsys) -> None:
    """Before 10.5 STFT becomes the plugin and MelWeightMatrix an initializer; the model matches."""
    model = mel_model()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    nodes, rewritten = rewrite(tmp_path, model, capsys, "--trt-version", "10.4")
    assert nodes["stft"]["action"] == "replaced" and nodes["mel"]["action"] == "folded"
    assert [n.op_type for n in rewritten.graph.node] == ["Unsqueeze", "TrtplugStft", "Pow", "ReduceSum", "MatMul"]
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    # Audio at a realistic level (|x| ~ 0.05): the power spectrum squares STFT's rounding, so
    # unit-variance noise would test the MatMul's scale rather than the plugin.
    feeds = tmp_path / "audio.npz"
    np.savez(feeds, waveform=0.05 * np.random.default_rng(1).standard_normal((2, 16000)).astype(np.float32))
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugStft"]
