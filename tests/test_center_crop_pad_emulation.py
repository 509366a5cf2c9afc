"""CenterCropPad's row kernel on the CPU: tests/center_crop_pad_emulation.cu runs every chunk of
the grid on the host (16-byte and one-element chunks, 32- and 64-bit index math, aligned and
unaligned x, element sizes 1-8, ranks 0-5 with crops and pads) against the op's definition. Needs
nvcc, no GPU; the GPU parity cases run the real launches."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.test_rotary_emulation import ROOT, nvcc


def test_every_crop_pad_chunk_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    exe = tmp_path / "center_crop_pad_emulation"
    source = ROOT / "tests" / "center_crop_pad_emulation.cu"
    build = [nvcc(), "-std=c++17", "-O1", f"-I{ROOT / 'plugins'}", "-o", str(exe), str(source)]
    subprocess.run(build, check=True, timeout=600, capture_output=True)
    run = subprocess.run([str(exe)], timeout=300, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:]
    last = run.stdout.strip().splitlines()[-1]
    assert int(last.split()[1]) >= 8000 and last.endswith("failures: 0"), last
