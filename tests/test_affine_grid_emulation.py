"""AffineGrid's vector kernel on the CPU: tests/affine_grid_emulation.cu runs every thread of small
grids on the host (fp32 / fp16 / bf16, 2-D and 3-D, odd widths, vectors across rows, batch items and
the grid's end, 32- and 64-bit index math, aligned and unaligned outputs, both align_corners)
against the op's definition bit for bit. Needs nvcc, no GPU; the GPU tests run the real launches."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_affine_grid_vector_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    last = run_emulation(tmp_path, "affine_grid_emulation").strip().splitlines()[-1]
    assert int(last.split()[1]) >= 8000 and last.endswith("failures: 0"), last
