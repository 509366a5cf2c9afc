"""The FastGelu launcher on a GPU beyond the parity cases: unaligned buffers (scalar path),
odd bias lengths, raw pointers, explicit streams. Reference: float64 NumPy of the formula,
itself checked against ONNX Runtime by the parity suite."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def expected(x: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    v = x.astype(np.float64) + (0 if bias is None else bias.astype(np.float64))
    return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 7), (5, 8), (33, 1000), (64, 1023)])
@pytest.mark.parametrize("offset", [0, 1])
def test_unaligned_and_odd_shapes(ext, dtype: str, rows: int, cols: int, offset: int) -> None:
    import cupy as cp

    rng = np.random.default_rng(rows * 1000 + cols + offset)
    x_host = (rng.standard_normal(rows * cols + offset) * 3).astype(dtype)
    b_host = (rng.standard_normal(cols + offset) * 3).astype(dtype)
    x = cp.asarray(x_host)[offset:].reshape(rows, cols)  # offset 1: not 16-byte aligned
    bias = cp.asarray(b_host)[offset:]
    y_buf = cp.full(rows * cols + offset, cp.nan, dtype=dtype)
    y = y_buf[offset:].reshape(rows, cols)
    ext.fast_gelu([x, bias], [y], {}, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    tol = 1e-5 if dtype == "float32" else 2e-3
    ref = expected(x_host[offset:].reshape(rows, cols), b_host[offset:])
    np.testing.assert_allclose(cp.asnumpy(y).astype(np.float64), ref, atol=tol, rtol=tol)
    assert offset == 0 or math.isnan(float(y_buf[0]))  # nothing written before the view


def test_raw_pointers_and_explicit_stream(ext) -> None:
    import cupy as cp

    x = cp.asarray(np.random.default_rng(1).standard_normal((16, 64)).astype(np.float32))
    y = cp.full_like(x, cp.nan)
    stream = cp.cuda.Stream(non_blocking=True)
    ext.fast_gelu_ptr(x.data.ptr, y.data.ptr, x.size, "float32", stream=stream.ptr)
    stream.synchronize()
    np.testing.assert_allclose(cp.asnumpy(y), expected(cp.asnumpy(x), None), atol=1e-5, rtol=1e-5)


def test_bad_bias_length_is_an_error_not_a_crash(ext) -> None:
    import cupy as cp

    x = cp.zeros(10, dtype=cp.float32)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidValue"):
        ext.fast_gelu_ptr(x.data.ptr, x.data.ptr, 10, "float32", bias=x.data.ptr, bias_len=3)
