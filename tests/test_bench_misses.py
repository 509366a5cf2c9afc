"""benchmarks/bench_misses.py: which rows of a merged bench document miss issue 20's targets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_misses


def _row(op: str, mb: int, copy: float, torch: float | None, impl: str = "cuda", dtype: str = "float32") -> dict:
    return {"op": op, "dtype": dtype, "size_mb": mb, "impl": impl, "copy_fraction": copy, "vs_torch": torch}


def test_only_the_largest_cuda_rows_are_judged() -> None:
    rows = [_row("gelu", 16, 0.5, 0.5), _row("gelu", 256, 0.95, 1.2), _row("gelu", 256, 0.1, 1.0, impl="torch")]
    assert bench_misses.misses(rows) == []


def test_memory_bound_rows_need_the_copy_rate_and_compute_bound_rows_only_torch() -> None:
    rows = [_row("center_crop_pad", 256, 0.34, 0.52), _row("det", 256, 0.05, 7.5), _row("dft_17", 256, 0.1, 0.5)]
    found = {(op, missed) for op, _, _, _, _, missed in bench_misses.misses(rows)}
    assert found == {("center_crop_pad", "copy < 90%, torch < 1.0x"), ("dft_17", "torch < 1.0x")}


def test_a_tie_with_torch_at_the_roofline_is_not_a_miss(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "bench.json"
    doc.write_text(json.dumps({"timings": [_row("bitwise_and", 256, 1.02, 0.996, dtype="uint8")]}))
    assert bench_misses.main([str(doc)]) == 0
    assert "bitwise_and" not in capsys.readouterr().out


def test_a_file_that_is_not_a_bench_document_is_refused(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    assert bench_misses.main([str(bad)]) == 2
    assert "not a bench document" in capsys.readouterr().err
