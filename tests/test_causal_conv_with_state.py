"""CausalConvWithState on the CPU beyond the spec-driven parity cases: the short-conv blocks GenAI's
builder writes (tests/causal_conv_models.py) through check, rewrite and model parity (a prompt onto
a zero state, then the decode step onto the state it left), the rewrite's refusals, and the
prototype held to a plain per-channel loop (also for the 4-D channels-last case)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper
from trtplug.pyplugins import causal_conv_with_state as proto

from tests.causal_conv_models import conv_block
from trtplug.cli import main

BLOCKS = {
    "lfm2": {"taps": 3, "bias": False, "activation": "none"},
    "qwen35": {"taps": 4, "bias": True, "activation": "silu"},
}


def _saved(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.onnx"
    onnx.save(conv_block(**BLOCKS[name]), path)
    return path


def _steps(path: Path, batch: int = 2, prompt: int = 6, hidden: int = 16) -> list[dict[str, np.ndarray]]:
    """A prompt onto a zero state, then one decoded token onto the state the prompt left."""
    taps = BLOCKS[path.stem]["taps"]
    rng = np.random.default_rng(1)
    first = {
        "x": rng.standard_normal((batch, prompt, hidden)).astype(np.float32),
        "past.0.conv": np.zeros((batch, hidden, taps - 1), np.float32),
    }
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    _, present = session.run(None, first)
    second = {"x": rng.standard_normal((batch, 1, hidden)).astype(np.float32), "past.0.conv": present}
    return [first, second]


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_builder_block_rewrites_and_matches_on_prompt_and_decode(tmp_path: Path, capsys, name: str) -> None:
    source, out = _saved(tmp_path, name), tmp_path / f"{name}.plugins.onnx"
    assert main(["check", str(source), "--static", "--trt-version", "10.14"]) == 0  # covered: exit 0
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    nodes = onnx.load(out).graph.node
    assert [n.op_type for n in nodes].count("TrtplugCausalConvWithState") == 1
    assert "CausalConvWithState" not in [n.op_type for n in nodes]
    for step, feeds in enumerate(_steps(source)):
        feeds_path = tmp_path / f"step{step}.npz"
        np.savez(feeds_path, **feeds)
        capsys.readouterr()
        args = ["parity", "--model", str(source), "--rewritten", str(out), "--inputs", str(feeds_path)]
        assert main([*args, "--json"]) == 0
        [result] = json.loads(capsys.readouterr().out)["results"]
        assert result["status"] == "pass"
        assert [o["output"] for o in result["outputs"]] == ["y", "present.0.conv"]


def _with_attrs(**attrs) -> onnx.ModelProto:
    """The LFM2 block with the conv node's attributes set (replaced where the builder wrote them)."""
    model = conv_block()
    node = next(n for n in model.graph.node if n.op_type == "CausalConvWithState")
    kept = [a for a in node.attribute if a.name not in attrs]
    del node.attribute[:]
    node.attribute.extend([*kept, *(helper.make_attribute(k, v) for k, v in attrs.items())])
    return model


@pytest.mark.parametrize(
    "attrs",
    [{"state_window": 2}, {"ndim": 2}, {"activation": "gelu"}, {"state_update_capacity": 2}, {"dilation": 0}],
    ids=lambda a: next(iter(a)),
)
def test_rewrite_leaves_what_the_plugin_refuses(tmp_path: Path, capsys, attrs) -> None:
    source, out = tmp_path / "in.onnx", tmp_path / "out.onnx"
    onnx.save(_with_attrs(**attrs), source)
    capsys.readouterr()
    main(["rewrite", str(source), "-o", str(out)])
    report = capsys.readouterr().out
    assert f"attribute '{next(iter(attrs))}'" in report
    if out.exists():
        assert "CausalConvWithState" in [n.op_type for n in onnx.load(out).graph.node]


def _loop_reference(x, w, bias, past, dilation: int, silu: bool):
    """Channels-first float64 loops: each output position and state slot from the padded row."""
    batch, channels, length = x.shape
    state = (w.shape[2] - 1) * dilation
    y = np.zeros(x.shape)
    present = np.zeros((batch, channels, state))
    for b in range(batch):
        for c in range(channels):
            row = np.concatenate([past[b, c] if past is not None else np.zeros(state), x[b, c]])
            for t in range(length):
                acc = (bias[c] if bias is not None else 0.0) + sum(
                    w[c, 0, k] * row[t + k * dilation] for k in range(w.shape[2])
                )
                y[b, c, t] = acc / (1 + np.exp(-acc)) if silu else acc
            present[b, c] = row[len(row) - state :]
    return y, present


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize(("length", "taps", "dilation"), [(7, 3, 1), (1, 4, 2), (2, 5, 1), (0, 3, 1)])
def test_prototype_matches_loops(layout: str, length: int, taps: int, dilation: int) -> None:
    rng = np.random.default_rng(length + taps)
    batch, d1, d2 = 2, 3, 2
    channels = d1 * d2
    x, w, bias, past = (
        rng.standard_normal(s).astype(np.float32)
        for s in [(batch, channels, length), (channels, 1, taps), (channels,), (batch, channels, (taps - 1) * dilation)]
    )
    want_y, want_state = _loop_reference(x, w, bias, past, dilation, True)
    attrs = {"dilation": dilation, "activation": "swish", "channels_last": int(layout == "last")}

    def own(a):  # channels-first (B, C, T) in the layout under test: (B, T, d1, d2) channels-last
        return a if layout == "first" else a.transpose(0, 2, 1).reshape(a.shape[0], a.shape[2], d1, d2)

    y, state = proto.compute(np, [own(x), w, bias, own(past)], attrs)
    np.testing.assert_allclose(y, own(want_y), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state, own(want_state), rtol=0, atol=0)
    assert [tuple(s) for s in proto.output_shapes([own(x), w, bias, own(past)], attrs)] == [y.shape, state.shape]
