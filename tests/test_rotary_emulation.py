"""The rotary kernel's unit logic on the CPU: tests/rotary_emulation.cu runs every work unit of
launchRotary's grid (its 16-byte-group and one-element paths, 32- and 64-bit indices) on the host
and compares with a direct loop from rotary.h's definition, then M-RoPE (MRotaryEmbedding through its
real shape -> problem mapping) against a loop from the prototype's definition, then checks
RotaryEmbedding's shape -> problem mapping. Needs nvcc, no GPU; the GPU tests run the real launches."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def nvcc() -> str:
    found = shutil.which("nvcc") or str(Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / "nvcc")
    if not Path(found).is_file():
        pytest.skip("nvcc not found (the host emulation is compiled with it)")
    return found


def test_every_rotary_unit_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    exe = tmp_path / "rotary_emulation"
    source = ROOT / "tests" / "rotary_emulation.cu"
    build = [nvcc(), "-std=c++17", "-O1", f"-I{ROOT / 'plugins'}", "-o", str(exe), str(source)]
    subprocess.run(build, check=True, timeout=600, capture_output=True)
    run = subprocess.run([str(exe)], timeout=300, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:]
    last = run.stdout.strip().splitlines()[-1]
    cases = int(last.split()[1])
    assert cases >= 2880 and last.endswith("failures: 0"), last
    mrope = [line for line in run.stdout.splitlines() if line.startswith("mrope cases:")]
    assert mrope and int(mrope[0].split()[-1]) >= 9792, mrope
