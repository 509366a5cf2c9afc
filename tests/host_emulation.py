"""Build and run a host emulation of a kernel (tests/<name>.cu, the kernel's headers compiled by nvcc
as host code, no GPU) with `args`: its stdout, after the run exited 0. Skips where nvcc is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def nvcc() -> str:
    found = shutil.which("nvcc") or str(Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / "nvcc")
    if not Path(found).is_file():
        pytest.skip("nvcc not found (the host emulation is compiled with it)")
    return found


def run_emulation(tmp_path: Path, name: str, args: Sequence[str] = ()) -> str:
    exe = tmp_path / name
    build = [nvcc(), "-std=c++17", "-O1", f"-I{ROOT / 'plugins'}", "-o", str(exe), str(ROOT / "tests" / f"{name}.cu")]
    subprocess.run(build, check=True, timeout=600, capture_output=True)
    run = subprocess.run([str(exe), *args], timeout=300, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:]
    return run.stdout
