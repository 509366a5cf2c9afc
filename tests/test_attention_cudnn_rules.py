"""The cuDNN prefill backend's rules without a GPU or cuDNN: tests/fixtures/attention_cudnn/
host_check.cpp compiles plugins/common/attention_cudnn.cpp as the stub a build without cuDNN
headers gets, and checks which attention problems cuDNN may take (only those it computes exactly
as the core: 16-bit, equal head sizes 8..128 in steps of 8, no mask/bias/softcap/window/sink, no
kvValid/qStart, causal only with qLen == kvLen, 16-byte aligned views), the
TRTPLUG_ATTENTION_PREFILL switch, and that the stub says unavailable and never runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SOURCES = [
    ROOT / "tests" / "fixtures" / "attention_cudnn" / "host_check.cpp",
    ROOT / "plugins/common/attention_cudnn.cpp",
]


def test_rules_switch_and_stub(tmp_path):
    if not shutil.which("nvcc"):
        pytest.skip("nvcc is needed to build the host check")
    binary = tmp_path / "host_check"
    command = ["nvcc", "-std=c++17", f"-I{ROOT / 'plugins'}", *map(str, SOURCES), "-o", str(binary)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout
    assert run.stdout.strip() == "ok"
