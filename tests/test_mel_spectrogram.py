"""A torchaudio MelSpectrogram graph as exported (opset 17): STFT (real signal, Hann window and
frame_length initializers), power spectrum (Pow 2, ReduceSum over re/im), MatMul with
MelWeightMatrix (every input a 0-D constant). The rewrite folds MelWeightMatrix into an
initializer (onnx.reference); TensorRT >= 10.5 then imports the rest natively. Compared at
model level. With sample_rate a graph input the node cannot be folded and becomes
TrtplugMelWeightMatrix (model parity at two sample rates); a float64 output is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from trtplug.cli import main

N_FFT, HOP, MELS, RATE = 400, 160, 80, 16000
MEL_INPUTS = ["num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"]
ALL_PLUGINS = ["TrtplugMelWeightMatrix", "TrtplugStft"]


def mel_model(runtime_rate: bool = False) -> onnx.ModelProto:
    scalars = {
        "num_mel_bins": np.array(MELS, np.int64),
        "dft_length": np.array(N_FFT, np.int64),
        "sample_rate": np.array(RATE, np.int64),
        "lower_edge_hertz": np.array(0.0, np.float32),
        "upper_edge_hertz": np.array(RATE / 2, np.float32),
        "frame_step": np.array(HOP, np.int64),
        "frame_length": np.array(N_FFT, np.int64),
        "two": np.array(2.0, np.float32),
        "last": np.array([-1], np.int64),
    }
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    inits = [numpy_helper.from_array(v, k) for k, v in scalars.items() if not (runtime_rate and k == "sample_rate")]
    inits.append(numpy_helper.from_array(window, "window"))
    nodes = [
        helper.make_node("Unsqueeze", ["waveform", "last"], ["signal"]),
        helper.make_node("STFT", ["signal", "frame_step", "window", "frame_length"], ["spec"], name="stft", onesided=1),
        helper.make_node("Pow", ["spec", "two"], ["squared"]),
        helper.make_node("ReduceSum", ["squared", "last"], ["power"], keepdims=0),
        helper.make_node("MelWeightMatrix", MEL_INPUTS, ["mel_weights"], name="mel"),
        helper.make_node("MatMul", ["power", "mel_weights"], ["mel_spec"]),
    ]
    inputs = [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, [2, 16000])]
    if runtime_rate:
        inputs.append(helper.make_tensor_value_info("sample_rate", TensorProto.INT64, []))
    graph = helper.make_graph(
        nodes, "mel", inputs, [helper.make_tensor_value_info("mel_spec", TensorProto.FLOAT, [2, 98, MELS])], inits
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def rewrite(tmp_path: Path, model: onnx.ModelProto, capsys, *options: str) -> tuple[dict, onnx.ModelProto]:
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    onnx.save(model, source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return {c["node"]: c for c in report["changes"]}, onnx.load(out)


def test_mel_weights_folded_and_model_matches(tmp_path: Path, capsys) -> None:
    model = mel_model()
    changes, rewritten = rewrite(tmp_path, model, capsys, "--trt-version", "10.16")
    assert changes["mel"]["action"] == "folded"
    assert [n.op_type for n in rewritten.graph.node] == ["Unsqueeze", "STFT", "Pow", "ReduceSum", "MatMul"]
    folded = {t.name: numpy_helper.to_array(t) for t in rewritten.graph.initializer}["mel_weights"]
    assert folded.shape == (N_FFT // 2 + 1, MELS) and folded.max() > 0
    onnx.checker.check_model(rewritten, full_check=True)
    waveform = np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32)
    (expected,) = ReferenceEvaluator(model).run(None, {"waveform": waveform})
    (got,) = ReferenceEvaluator(rewritten).run(None, {"waveform": waveform})
    assert expected.shape == (2, 98, MELS)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()))


def runtime_rate_feeds(tmp_path: Path, rate: int) -> Path:
    """Audio at a realistic level (|x| ~ 0.05, as test_stft's) and a real sample rate (a random
    integer would put the filters past the spectrum, which ONNX Runtime refuses)."""
    feeds = tmp_path / f"audio_{rate}.npz"
    waveform = 0.05 * np.random.default_rng(rate).standard_normal((2, 16000)).astype(np.float32)
    np.savez(feeds, waveform=waveform, sample_rate=np.array(rate, np.int64))
    return feeds


@pytest.mark.parametrize(("target", "plugins"), [("10.16", ["TrtplugMelWeightMatrix"]), ("10.4", ALL_PLUGINS)])
def test_runtime_sample_rate_becomes_the_plugin_and_model_matches(tmp_path: Path, capsys, target, plugins) -> None:
    """sample_rate from a graph input: not foldable, so TrtplugMelWeightMatrix takes the node
    (shape inputs num_mel_bins, dft_length, sample_rate; the last two again as device copies)
    and the rewritten model matches ONNX Runtime on the original at two sample rates."""
    changes, rewritten = rewrite(tmp_path, mel_model(runtime_rate=True), capsys, "--trt-version", target)
    assert changes["mel"]["action"] == "replaced" and changes["mel"]["plugin"].startswith("TrtplugMelWeightMatrix")
    node = next(n for n in rewritten.graph.node if n.op_type == "TrtplugMelWeightMatrix")
    assert list(node.input) == [*MEL_INPUTS, "dft_length", "sample_rate"]
    fields = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert fields["tensorrt_plugin_shape_input_indices"] == [0, 1, 2] and fields["output_datatype"] == 1
    source, out = tmp_path / "model.onnx", tmp_path / "model.plugins.onnx"
    for rate in (16000, 44100):
        feeds = runtime_rate_feeds(tmp_path, rate)
        args = ["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds), "--json"]
        assert main(args) == 0
        (result,) = json.loads(capsys.readouterr().out)["results"]
        assert result["status"] == "pass" and result["plugins"] == plugins


def test_double_output_is_left_with_both_reasons(tmp_path: Path, capsys) -> None:
    """output_datatype DOUBLE (ONNX allows it, TensorRT has no float64 plugin I/O): neither
    folded (runtime sample_rate) nor replaced; one report line gives both reasons."""
    node = helper.make_node("MelWeightMatrix", MEL_INPUTS, ["w"], name="mel", output_datatype=TensorProto.DOUBLE)
    consts = {"num_mel_bins": np.array(8, np.int64), "dft_length": np.array(16, np.int64)}
    consts |= {"lower_edge_hertz": np.array(0.0, np.float32), "upper_edge_hertz": np.array(4000.0, np.float32)}
    graph = helper.make_graph(
        [node],
        "mel",
        [helper.make_tensor_value_info("sample_rate", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("w", TensorProto.DOUBLE, None)],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    changes, rewritten = rewrite(tmp_path, model, capsys, "--trt-version", "10.16")
    assert changes["mel"]["action"] == "left"
    assert "output_datatype" in changes["mel"]["reason"]
    assert "not folded: input 'sample_rate' is not a constant" in changes["mel"]["reason"]
    assert [n.op_type for n in rewritten.graph.node] == ["MelWeightMatrix"]
