"""Data-dependent outputs in the CUDA-launcher path: the launcher writes its size tensors (the
actual extents) to a device buffer; the outputs it fills are shaped by the reference, so they
have room for exactly the right extents. A wrong count is reported here, and an overrun it would
cause is caught by compute-sanitizer."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any


def count_buffer(xp: ModuleType, n: int = 1) -> Any:
    """Device int32 size tensors, poisoned so an unwritten count fails the check."""
    return xp.full((n,), -1, dtype=xp.int32)


def check_counts(xp: ModuleType, counts: Any, expected: Sequence[int], op: str) -> None:
    """Raises RuntimeError naming both values when a device count differs from the expected one."""
    got = [int(v) for v in xp.asnumpy(counts).ravel()] if hasattr(xp, "asnumpy") else [int(v) for v in counts]
    want = [int(v) for v in expected]
    if got != want:
        raise RuntimeError(f"{op}: the launcher's size tensors hold {got}, the reference's shapes give {want}")
