"""The bench's device-side input draw (run here with NumPy standing in for CuPy): the same value
hints as the parity cases' host draw."""

from __future__ import annotations

import numpy as np

from trtplug.bench import workload
from trtplug.registry import load_registry


def _spec(key: str):
    return load_registry([]).select([key])[0]


def test_device_draw_keeps_integer_hints():
    spec = _spec("bit_shift")
    shapes = {"X": (4096,), "Y": (4096,)}
    shift = workload._device_random(np, 7, spec, "Y", shapes, "int64")
    assert shift.dtype == np.int64 and shift.shape == (4096,)
    assert shift.min() >= -3 and shift.max() < 40 and len(np.unique(shift)) == 43
    wide = workload._device_random(np, 7, spec, "X", shapes, "int64")
    assert wide.min() >= -(1 << 31) and wide.max() < (1 << 31) - 1 and wide.max() > (1 << 30)


def test_device_draw_bools_and_floats():
    spec = _spec("compress")
    flags = workload._device_random(np, 3, spec, "condition", {"condition": (1000,)}, "bool")
    assert flags.dtype == bool and 300 < flags.sum() < 700
    values = workload._device_random(np, 3, spec, "input", {"input": (64, 64)}, "float32")
    assert values.dtype == np.float32 and 1.5 < values.std() < 2.5  # the default scale, 2
