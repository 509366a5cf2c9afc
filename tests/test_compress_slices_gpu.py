"""Compress's whole-slice gather on the GPU, through the binding, at the edges of its loop
(kSlicesAtOnce slices a thread a pass, the next pass's selected indices loaded ahead): one slice,
none selected, slice counts off the pass depth, odd vector counts (33, 65, 75), slices longer than
a block (257 vectors), 8- and 4-byte vectors (misaligned views), an outer axis, conditions shorter
and longer than the axis. Outputs at their upper bound, poisoned first: the selected slices must
match np.compress bit for bit and the rest stay poisoned."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import offset_view

pytestmark = pytest.mark.gpu

POISON = 0x5A

# (x shape, axis, condition length, how many selected (-1: random), element offset of x and y)
CASES = [
    ((1, 256), 0, 1, 1, 0),
    ((1, 256), 0, 1, 0, 0),
    ((7, 256), 0, 7, 0, 0),
    ((4097, 256), 0, 4097, -1, 0),
    ((4097, 256), 0, 4097, 4097, 0),
    ((4099, 64), 0, 4000, -1, 0),
    ((3, 7, 300), 1, 7, -1, 0),
    ((5, 132), 0, 5, 5, 0),
    ((6, 2056), 0, 6, 3, 0),
    ((9, 3, 130), 1, 9, -1, 0),
    ((11, 64), 0, 11, -1, 0),
    ((2, 13, 300), 1, 13, -1, 1),
    ((2, 13, 300), 1, 13, -1, 2),
    ((37, 1030), 0, 50, -1, 1),
]


def condition_for(rng, length: int, selectable: int, chosen: int) -> np.ndarray:
    condition = np.zeros(length, dtype=bool)
    picked = rng.choice(selectable, chosen if chosen >= 0 else int(rng.integers(1, selectable + 1)), replace=False)
    condition[picked] = True
    if length > selectable:
        condition[selectable:] = rng.integers(0, 2, length - selectable).astype(bool)  # ignored
    return condition


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "int64"])
@pytest.mark.parametrize(("shape", "axis", "length", "chosen", "offset"), CASES)
def test_selected_slices_bit_for_bit(cp, ext, shape, axis, length, chosen, offset, dtype) -> None:
    rng = np.random.default_rng(sum(shape) + length + chosen)
    bits = np.dtype(dtype).itemsize * 8
    x = rng.integers(0, 2**bits, shape, dtype=np.uint64).astype(f"uint{bits}").view(dtype)  # any bits, NaNs too
    condition = condition_for(rng, length, min(length, shape[axis]), chosen)
    expected = np.compress(condition[: shape[axis]], x, axis=axis)
    bound = list(shape)
    bound[axis] = min(length, shape[axis])
    y_host = np.full(int(np.prod(bound)) * x.itemsize, POISON, np.uint8).view(dtype).reshape(bound)
    y = offset_view(cp, y_host, offset)
    count = cp.full((1,), -1, dtype=cp.int32)
    ext.compress([offset_view(cp, x, offset), cp.asarray(condition)], [y, count], {"axis": axis})
    assert int(count[0]) == expected.shape[axis]
    got = cp.asnumpy(y).view(np.uint8).reshape(-1)
    want = expected.view(np.uint8).reshape(-1)
    np.testing.assert_array_equal(got[: want.size], want)
    assert (got[want.size :] == POISON).all(), "bytes past the selected slices were written"
