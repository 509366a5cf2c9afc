"""CenterCropPad's row kernel on the CPU: tests/center_crop_pad_emulation.cu runs every chunk of
the grid on the host (16-byte and one-element chunks, 32- and 64-bit index math, aligned and
unaligned x, element sizes 1-8, ranks 0-5 with crops and pads) against the op's definition. Needs
nvcc, no GPU; the GPU parity cases run the real launches."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_crop_pad_chunk_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    last = run_emulation(tmp_path, "center_crop_pad_emulation").strip().splitlines()[-1]
    assert int(last.split()[1]) >= 8000 and last.endswith("failures: 0"), last
