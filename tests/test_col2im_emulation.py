"""Col2Im's chunk kernel on the CPU: tests/col2im_emulation.cu runs every chunk of the grid on the
host (the stride-1 window path with its aligned 16-byte loads and the per-output path, 32- and
64-bit index math, aligned and misaligned tensors, input against unreadable pages) for random 1-D
to 6-D geometries and the benchmark's, in fp32/fp16/bf16, bit for bit against a loop over the ONNX
definition that sums in the kernel's stated order. Needs nvcc, no GPU; the real launches run in
tests/test_col2im_chunks_gpu.py (the same order, bit for bit), tests/test_col2im.py and the
parity cases."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_col2im_chunk_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    lines = run_emulation(tmp_path, "col2im_emulation").strip().splitlines()
    vector_runs = int(lines[-2].split()[-1])  # runs through the aligned-vector loads
    assert vector_runs >= 5000 and int(lines[-1].split()[1]) >= 30000 and lines[-1].endswith("failures: 0"), lines
