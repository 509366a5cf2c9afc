"""gpt-oss as onnxruntime-genai's builder writes it (tests/genai_moe_model.py): GroupQueryAttention
with sinks and a sliding-window cache, MoE with fused SwiGLU, rewritten and compared with ONNX
Runtime at model level for a prompt and for decode steps before and past the window."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from tests.genai_moe_model import WINDOW, genai_gpt_oss_layer
from trtplug.cli import main

STEPS = {  # batch, seq, past; a windowed cache is a buffer of WINDOW rows, whatever the past
    "prompt": (2, 5, 0),
    "decode": (2, 1, 4),
    "decode-past-window": (2, 1, 3 * WINDOW),
}


@pytest.mark.parametrize("windowed", [True, False], ids=["sliding-window", "full"])
@pytest.mark.parametrize("step", list(STEPS))
def test_gpt_oss_layer_rewritten_matches_onnxruntime(tmp_path: Path, capsys, windowed: bool, step: str) -> None:
    source, out = tmp_path / "gpt_oss.onnx", tmp_path / "out.onnx"
    onnx.save(genai_gpt_oss_layer(windowed), source)
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    batch, seq, past = STEPS[step]
    dims = {"batch": batch, "seq": seq, "past": past, "total": past + seq, "past_sliding": WINDOW}
    capsys.readouterr()
    args = [f"--dim={k}={v}" for k, v in dims.items()]
    assert main(["parity", "--model", str(source), "--rewritten", str(out), *args, "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert {"TrtplugGroupQueryAttention", "TrtplugMoE"} <= set(result["plugins"])
    assert result["reference"].startswith("onnxruntime")
