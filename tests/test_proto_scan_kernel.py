"""The CumSum/CumProd prototypes' GPU kernels (trtplug/protolib/gpu_scan.py): every storage type's
source compiles with nvcc here (CI has nvcc, no GPU); on a GPU both kernels (rows along the last
axis, columns along any other) equal the NumPy path on poisoned outputs for fp32/fp16/bf16,
int32/int64 (wraparound), exclusive and reverse, rows shorter and longer than one 128-element
chunk, and a non-contiguous input falls back to the array path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_proto_vector_kernels import TOLERANCE, _host, _on_device, _poisoned, _to_float32, assert_compiles
from trtplug.parity.impl_base import pyplugin_module
from trtplug.protolib import gpu_scan
from trtplug.protolib.dtypes import to_bfloat16
from trtplug.registry import load_registry

DTYPES = ["float32", "float16", "bfloat16", "int32", "int64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", [False, True])
def test_every_form_compiles(tmp_path: Path, dtype: str, product: bool) -> None:
    assert_compiles(tmp_path, gpu_scan.scan_source(dtype, product))


def _member(product: bool):
    return pyplugin_module(load_registry().get("cum_prod" if product else "cum_sum"))


def _values(rng, shape, dtype: str, product: bool) -> np.ndarray:
    if dtype.startswith("int"):
        high = 3 if product else 1 << 20
        return rng.integers(-high, high, shape).astype(dtype)
    if product:  # around 1, so a long running product stays finite
        values = (1.0 + 0.01 * rng.standard_normal(shape)).astype(np.float32)
        return to_bfloat16(values) if dtype == "bfloat16" else values.astype(dtype)
    return _host(rng, shape, dtype)


CASES = [  # (shape, axis): rows of the last axis (one chunk, several, a ragged tail) and columns
    ((3, 100), 1),
    ((5, 4096), -1),
    ((2, 3, 1001), 2),
    ((7, 129, 5), 1),
    ((300, 64), 0),
    ((1,), 0),
]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", [False, True])
@pytest.mark.parametrize(("exclusive", "reverse"), [(0, 0), (1, 0), (0, 1), (1, 1)])
@pytest.mark.parametrize(("shape", "axis"), CASES)
def test_scan_equals_the_numpy_path(cp, monkeypatch, dtype, product, exclusive, reverse, shape, axis):
    member = _member(product)
    rng = np.random.default_rng(13)
    x = _values(rng, shape, dtype, product)
    attrs = {"exclusive": exclusive, "reverse": reverse}
    axis_input = np.array(axis, np.int64)
    host_x = x.astype(np.float32) if dtype == "bfloat16" else x
    want = np.empty(shape, np.float32 if dtype == "bfloat16" else dtype)
    member.forward(np, [host_x, axis_input], [want], attrs)
    taken = []
    real = gpu_scan._module
    monkeypatch.setattr(gpu_scan, "_module", lambda dt, p: taken.append(dt) or real(dt, p))
    out = _poisoned(cp, shape, dtype) if not dtype.startswith("int") else cp.full(shape, -7, dtype)
    member.forward(cp, [_on_device(cp, x, dtype, False), cp.asarray(axis_input)], [out], attrs)
    assert taken == [dtype]
    if dtype.startswith("int"):
        np.testing.assert_array_equal(out.get(), want)
        return
    tol = TOLERANCE[dtype] * (8 if dtype != "float32" else 100)  # long running sums in float32
    np.testing.assert_allclose(_to_float32(out), want.astype(np.float32), rtol=tol, atol=tol)


@pytest.mark.gpu
def test_non_contiguous_input_takes_the_array_path(cp, monkeypatch) -> None:
    member = _member(False)
    x = cp.asarray(np.arange(48, dtype=np.float32).reshape(4, 12))[:, ::2]
    monkeypatch.setattr(gpu_scan, "_module", None)  # any use would raise
    out = cp.full(x.shape, cp.nan, cp.float32)
    member.forward(cp, [x, cp.asarray(np.array(1))], [out], {"exclusive": 0, "reverse": 0})
    np.testing.assert_array_equal(out.get(), np.cumsum(x.get(), axis=1))
