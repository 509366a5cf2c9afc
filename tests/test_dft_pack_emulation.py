"""The DFT/STFT untiled pack on the CPU: tests/dft_pack_emulation.cu runs packRowsKernel's grid
through packRowPart on the host (DFT layouts with cuts, zero padding and C2R's real bins; STFT
framings with and without a window; float, half, bfloat16) against the definitions, and the
untiled unpack (unpackRowsKernel through unpackRowPart) over R2C full/onesided, C2C and C2R rows. Needs nvcc, no
GPU; the GPU DFT/STFT tests run the real launches."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_packed_row_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    last = run_emulation(tmp_path, "dft_pack_emulation").strip().splitlines()[-1]
    assert last == "cases: 2700 failures: 0", last
