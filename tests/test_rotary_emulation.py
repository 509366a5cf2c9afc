"""The rotary kernel's unit logic on the CPU: tests/rotary_emulation.cu runs every work unit of
launchRotary's grid (its 16-byte-group and one-element paths, 32- and 64-bit indices) on the host
and compares with a direct loop from rotary.h's definition, then M-RoPE (MRotaryEmbedding through its
real shape -> problem mapping) against a loop from the prototype's definition, then checks
RotaryEmbedding's shape -> problem mapping. Needs nvcc, no GPU; the GPU tests run the real launches."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_every_rotary_unit_matches_the_definition_on_the_host(tmp_path: Path) -> None:
    stdout = run_emulation(tmp_path, "rotary_emulation")
    last = stdout.strip().splitlines()[-1]
    cases = int(last.split()[1])
    assert cases >= 2880 and last.endswith("failures: 0"), last
    mrope = [line for line in stdout.splitlines() if line.startswith("mrope cases:")]
    assert mrope and int(mrope[0].split()[-1]) >= 9792, mrope
