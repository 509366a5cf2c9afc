"""The cuDNN prefill backend's rules without a GPU or cuDNN: tests/fixtures/attention_cudnn/
host_check.cpp compiles plugins/common/attention_cudnn.cpp as the stub a build without cuDNN
headers gets, and checks which attention problems cuDNN may take (only those it computes exactly
as the core: 16-bit, equal head sizes 8..128 in steps of 8, no mask/bias/softcap/window/sink,
key lengths as a padding mask, causal only on the bottom-right diagonal (qLen <= kvLen, no
per-batch lengths) or from position 0 (top-left), 16-byte aligned views), the
TRTPLUG_ATTENTION_PREFILL switch (auto by default), and that the stub says unavailable and never runs."""

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


def test_workspace_keeps_room_for_cudnn_only_where_it_may_run(ext, monkeypatch):
    """cuDNN's SDPA plan needs scratch (256 bytes on the H100) where the kernels' prefill needs none:
    the core's workspace keeps 1 MiB for it wherever TRTPLUG_ATTENTION_PREFILL lets cuDNN take the
    problem, and nothing more elsewhere; the plugins' bound covers every extent of a 16-bit problem
    whatever the variable says when the engine is built."""
    if not hasattr(ext, "attention_workspace_size"):
        pytest.fail("trtplug._native predates attention_workspace_size: rebuild it")
    reserve = 1 << 20 if ext.cudnn_attention_compiled() else 0
    prefill = {"dtype": "float16", "batch": 2, "q_heads": 8, "kv_heads": 2, "q_len": 300, "head_dim": 64}
    others = [
        {**prefill, "dtype": "float32"},
        {**prefill, "softcap": 30.0},
        {**prefill, "causal": True, "kv_len": 100},  # more queries than keys: never cuDNN's
    ]

    def sizes(choice):
        monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", choice)
        return [ext.attention_workspace_size(p) for p in [prefill, *others]]

    kernels = sizes("kernel")
    # the bound keeps cuDNN's room even under `kernel`: an engine built so may run without the variable
    assert kernels[0][1] >= reserve
    for choice in ("cudnn", "auto"):
        (size, bound), *rest = sizes(choice)
        assert size == max(kernels[0][0], reserve)
        assert bound >= size
        for (other_size, other_bound), kernel, problem in zip(rest, kernels[1:], others, strict=True):
            kernel_size, kernel_bound = kernel
            assert other_size == kernel_size, problem
            sixteen_bit = problem["dtype"] == "float16"
            assert other_bound == (max(kernel_bound, reserve) if sixteen_bit else kernel_bound), problem
