"""MaxPoolWithIndices' 2 x 2 / 2 pair path on the CPU: tests/max_pool_pairs_emulation.cu runs every
pair of the grid on the host for random geometries in fp32/fp16/bf16 with 32- and 64-bit index
math, against a direct walk of each window (ties, NaN, -inf, odd heights, poisoned outputs), and
checks what pairsApply turns down. Needs nvcc, no GPU; the real launches run in
tests/test_max_pool_with_indices.py and the parity cases."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_pair_matches_the_window_walk_on_the_host(tmp_path: Path) -> None:
    last = run_emulation(tmp_path, "max_pool_pairs_emulation").strip().splitlines()[-1]
    assert last.endswith("failures: 0") and int(last.split()[1]) >= 900, last
