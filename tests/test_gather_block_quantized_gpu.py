"""GatherBlockQuantized's float32 row kernel with whole-sector stores (the default: lane pairs swap
chunk halves through a shuffle) on every parity case, through the binding, against the op's parity
reference; and the half-sector kernel TRTPLUG_GBQ_STORES=halves keeps, on the same cases, so that
both are held to the same results. Outputs are poisoned with NaN first. Then the row kernels' loop
edges (one index, none, odd chunk totals, counts off the pass depth, an outer axis, many passes a
thread), float32 with either store and float16, bit for bit against the NumPy definition of
tests/test_gather_block_quantized_emulation.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import as_float64, poisoned_view
from trtplug import native
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu
SPEC = load_registry().get("gather_block_quantized")
CASES = [c for c in default_cases(SPEC) if not c.name.startswith("large")]


@pytest.mark.parametrize("stores", ["default", "halves"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_rows(cp, ext, monkeypatch, seed, case, stores) -> None:
    if stores == "halves":
        monkeypatch.setenv("TRTPLUG_GBQ_STORES", "halves")  # read per launch
    inputs = make_inputs(SPEC, case, seed)
    ins = [cp.asarray(inputs[t.name]) for t in SPEC.inputs if t.name in inputs]
    (expected,) = run_reference(SPEC, case, inputs)
    _, out = poisoned_view(cp, expected.shape, "float32", 0)
    native.run_binding(SPEC, ext, ins, [out], case.attrs, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    tol = SPEC.tolerance("float32")
    np.testing.assert_allclose(as_float64(out), expected, atol=tol.atol, rtol=tol.rtol)


# The row kernels' loop edges (kChunksAtOnce chunks a thread a pass, the next pass's indices loaded
# ahead): (outer, table rows, codes a row, indices, bits, block, zero points, index type).
EDGES = [
    (1, 5, 16, 0, 4, 16, False, "int64"),  # no index: nothing launched
    (1, 5, 16, 1, 4, 16, False, "int64"),  # one index: two chunks
    (1, 7, 24, 3, 4, 16, True, "int32"),  # three chunks a row: odd chunk totals
    (1, 9, 8, 5, 8, 16, False, "int64"),  # one chunk a row
    (1, 33, 4096, 37, 4, 32, False, "int64"),  # the bench's rows, a count off the pass depth
    (3, 6, 40, 11, 2, 16, True, "int32"),  # an outer axis (gather_axis 1)
    (2, 300, 64, 1031, 4, 64, True, "int64"),  # many passes a thread
]


def edge_inputs(rng, outer, rows, codes, count, bits, block, zero_points, index_type, dtype):
    from tests.test_gather_block_quantized_emulation import dequantized_gather, packed

    table = rng.integers(0, 1 << bits, (outer, rows, codes))
    blocks = -(-codes // block)
    scales = rng.uniform(-2, 2, (outer, rows, blocks)).astype(dtype)
    zeros = rng.integers(0, 1 << bits, (outer, rows, blocks)) if zero_points else np.full(scales.shape, 1 << (bits - 1))
    indices = rng.integers(-rows - 2, rows + 2, count).astype(index_type)
    expected = dequantized_gather(table, zeros, scales, indices, block).astype(dtype)
    arrays = {"data": packed(table, bits), "indices": indices, "scales": scales}
    if zero_points:
        arrays["zero_points"] = packed(zeros, bits)
    if outer == 1:  # rank 2, gather_axis 0
        arrays = {k: v if k == "indices" else v[0] for k, v in arrays.items()}
        expected = expected[0]
    attrs = {"bits": bits, "block_size": block, "gather_axis": 0 if outer == 1 else 1, "quantize_axis": -1}
    return arrays, attrs, expected


@pytest.mark.parametrize("stores", ["default", "halves"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("edge", EDGES, ids=lambda e: "x".join(map(str, e[:4])))
def test_row_kernel_edges_bit_for_bit(cp, ext, monkeypatch, edge, dtype, stores) -> None:
    if stores == "halves":
        if dtype != "float32":
            pytest.skip("the store choice is float32's")
        monkeypatch.setenv("TRTPLUG_GBQ_STORES", "halves")
    arrays, attrs, expected = edge_inputs(np.random.default_rng(len(edge) + edge[3]), *edge, dtype)
    ins = [cp.asarray(arrays[t.name]) for t in SPEC.inputs if t.name in arrays]
    _, out = poisoned_view(cp, expected.shape, dtype, 0)
    native.run_binding(SPEC, ext, ins, [out], attrs, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    bits = "u4" if dtype == "float32" else "u2"
    np.testing.assert_array_equal(cp.asnumpy(out).view(bits), expected.view(bits))
