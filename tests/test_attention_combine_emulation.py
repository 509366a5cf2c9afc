"""The tensor-core decode's fused split-KV combine on the CPU: tests/attention_combine_emulation.cu
finishes a launch's blocks in random orders, each storing its split's partial and counting itself
on its group's counter, and merges each group in the block the count names last, with
attention_combine.cuh's host-and-device helpers (the split plan, the partial slots, the lanes'
statistics and weights, the counter) and combineRow's order of additions; against a float64
softmax attention (GQA 32/8 head 128 at 2, 8, 12 and 64 splits over 1, 63, 64, 65 and 8192 keys,
then 300 random decode shapes with ragged key counts). Needs nvcc, no GPU; the GPU runs the kernel
in tests/test_attention_decode_combine_gpu.py."""

from __future__ import annotations

from pathlib import Path

from tests.host_emulation import run_emulation


def test_fused_combine_merges_every_group_once_on_the_host(tmp_path: Path) -> None:
    last = run_emulation(tmp_path, "attention_combine_emulation").strip().splitlines()[-1]
    assert last == "cases: 320 failures: 0", last
