"""MaxUnpool's window path on a GPU at the edges of its pair-group pass 1 (windows 2 long on the
innermost axis: groups of 2 x elements for fp32, 4 for fp16 / bf16, one 16-byte store per window
row): x widths that are a multiple of 2 but not of 4 (fp32 pairs, 16-bit vectors of 2), 1-D to
3-D, windows of 3 rows, several blocks with every group slot of a thread used and a partial last
block, the bench's 128 x 128 planes; MaxPool's own indices and ones with strays and outside the
tensor; y aligned and one element off (the vector fallback). Bit for bit against the NumPy
scatter; nothing written before y. tests/test_max_unpool_emulation.py runs the same thread mapping on the host."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins.max_unpool import inferred_shape
from tests.device_arrays import FLOAT_DTYPES, host_values, offset_view, poisoned_view, untouched
from tests.max_unpool_cases import indices_with_strays, unpool_reference
from trtplug.parity.generators import max_pool_outputs
from trtplug.protolib.dtypes import Bf16Device

pytestmark = pytest.mark.gpu

GEOMETRIES = [  # (x shape, kernel = strides)
    ((2, 3, 6), [2]),
    ((2, 3, 16), [2]),
    ((1, 2, 28500), [2]),  # 8 fp32 blocks (7 16-bit), the last partial, every group slot used
    ((2, 3, 5, 6), [2, 2]),
    ((1, 2, 9, 14), [2, 2]),
    ((2, 2, 3, 4), [3, 2]),
    ((2, 4, 34, 64), [2, 2]),
    ((1, 8, 128, 128), [2, 2]),
    ((1, 2, 3, 4, 6), [2, 2, 2]),
    ((1, 2, 4, 4, 8), [2, 3, 2]),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("x_shape", "kernel"), GEOMETRIES, ids=lambda g: "x".join(map(str, g)))
@pytest.mark.parametrize("indices_kind", ["maxpool", "strays"])
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_window_pairs_match_numpy(cp, ext, seed, dtype, x_shape, kernel, indices_kind, offset):
    rng = np.random.default_rng(seed)
    attrs = {"kernel_shape": kernel, "strides": kernel, "pads": []}
    inferred = inferred_shape(x_shape, attrs)
    pool = max_pool_outputs({"X": x_shape}, attrs, rng)
    indices = pool["I"] if indices_kind == "maxpool" else indices_with_strays(rng, x_shape, inferred[2:])[0]
    x = host_values(pool["X"], dtype)
    buffer, y = poisoned_view(cp, inferred, dtype, offset)
    ext.max_unpool([offset_view(cp, x), cp.asarray(indices.astype(np.int64))], [y], attrs)
    cp.cuda.get_current_stream().synchronize()
    got = y.to_host() if isinstance(y, Bf16Device) else y.get()
    bits = np.uint16 if x.itemsize == 2 else np.uint32
    np.testing.assert_array_equal(got.view(bits), unpool_reference(x, indices, inferred, inferred).view(bits))
    assert offset == 0 or untouched(buffer)
