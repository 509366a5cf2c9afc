"""gelu16 (plugins/common/gelu16.cuh), the exact GELU of the fp16 and bf16 GELU-family kernels, on
the CPU: tests/gelu16_exhaustive.cu, compiled as host C++, checks every finite fp16 and bf16 input and
a dense sweep of float inputs against GELU in double, with the SFU results (ex2, rcp) at both ends of
twice their documented error: every result must be within 1 ulp of the correctly rounded GELU, and
the special values (inf, NaN, +-0) must be those of the fp32 erff form. A second build swaps in the
tanh approximation and must fail, so the check is known to catch an inaccurate GELU. Needs a C++
compiler, no CUDA toolkit or GPU; the GPU tests run the real kernels."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "gelu16_exhaustive.cu"
# The header's CUDA qualifiers as plain C++; no fma contraction, as on the device (gelu16 spells out
# every fma it wants).
STAND_INS = ["-D__host__=", "-D__device__=", "-D__forceinline__=inline", "-ffp-contract=off"]
SUMMARY = re.compile(r"^(fp16|bf16) (gelu16|erff)( float-sweep)?: max_ulp (\d+) one_ulp (\d+) over_one (\d+)", re.M)


def compiler() -> str:
    found = shutil.which("g++") or shutil.which("clang++")
    if found is None:
        print("skip reason: no g++ or clang++ to build the host check")
        pytest.skip("no g++ or clang++ (the exhaustive check is host C++)")
    return found


def build_and_run(tmp_path: Path, *defines: str) -> subprocess.CompletedProcess[str]:
    exe = tmp_path / ("gelu16_crude" if defines else "gelu16_exhaustive")
    build = [compiler(), "-x", "c++", "-std=c++17", "-O2", *STAND_INS, *defines]
    build += [f"-I{ROOT / 'plugins'}", "-o", str(exe), str(SOURCE)]
    subprocess.run(build, check=True, timeout=300, capture_output=True)
    return subprocess.run([str(exe)], timeout=300, capture_output=True, text=True)


def summaries(stdout: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(format, 'gelu16' / 'erff' [+ ' float-sweep']) -> (max ulp, 1-ulp count, > 1 ulp count)."""
    return {(m[1], m[2] + (m[3] or "")): (int(m[4]), int(m[5]), int(m[6])) for m in SUMMARY.finditer(stdout)}


def test_gelu16_is_within_one_ulp_for_every_fp16_and_bf16_input(tmp_path: Path) -> None:
    run = build_and_run(tmp_path)
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-4000:]
    assert run.stdout.strip().endswith("failures: 0")
    found = summaries(run.stdout)
    assert len(found) == 8, run.stdout
    for fmt in ("fp16", "bf16"):
        for what in ("gelu16", "gelu16 float-sweep"):
            max_ulp, _, over = found[(fmt, what)]
            assert max_ulp <= 1 and over == 0, (fmt, what, found[(fmt, what)])
        # No worse than the erff form it replaces (whose negative tail, 1 + erf, is far off in bf16).
        assert found[(fmt, "gelu16")][0] <= max(1, found[(fmt, "erff")][0])


def test_the_exhaustive_check_catches_a_crude_gelu(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, "-DGELU16_CRUDE")
    assert run.returncode == 1, run.stdout[-4000:]
    found = summaries(run.stdout)
    assert found[("fp16", "gelu16")][0] > 1 and found[("bf16", "gelu16")][0] > 1, run.stdout[-4000:]
    assert "worst fp16 gelu16: x=" in run.stdout
