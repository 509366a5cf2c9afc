"""The FastGelu launcher on a GPU beyond the parity cases: unaligned buffers (scalar path),
odd bias lengths, raw pointers, explicit streams. Reference: float64 NumPy of the formula,
itself checked against ONNX Runtime by the parity suite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view, untouched

pytestmark = pytest.mark.gpu


def expected(x: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    v = x.astype(np.float64) + (0 if bias is None else bias.astype(np.float64))
    return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 7), (5, 8), (33, 1000), (64, 1023)])
@pytest.mark.parametrize("offset", [0, 1])
def test_unaligned_and_odd_shapes(ext, dtype: str, rows: int, cols: int, offset: int) -> None:
    import cupy as cp

    rng = np.random.default_rng(rows * 1000 + cols + offset)
    x_host = host_values(rng.standard_normal((rows, cols)) * 3, dtype)
    b_host = host_values(rng.standard_normal(cols) * 3, dtype)
    x, bias = offset_view(cp, x_host, offset), offset_view(cp, b_host, offset)  # offset 1: not 16-byte aligned
    y_buf, y = poisoned_view(cp, (rows, cols), dtype, offset)
    ext.fast_gelu([x, bias], [y], {}, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}[dtype]
    np.testing.assert_allclose(as_float64(y), expected(x_host, b_host), atol=tol, rtol=tol)
    assert offset == 0 or untouched(y_buf)  # nothing written before the view


def test_host_bf16_arrays_round_trip_through_run_binding(ext) -> None:
    """run_binding takes host ml_dtypes.bfloat16 arrays: copied in as "<V2", outputs filled in place."""
    import cupy as cp

    from trtplug import native
    from trtplug.registry import load_registry

    x = host_values(np.random.default_rng(5).standard_normal((4, 33)) * 3, "bfloat16")
    y = host_values(np.full((4, 33), np.nan), "bfloat16")
    native.run_binding(load_registry().get("fast_gelu"), ext, [x], [y], {}, cp.cuda.get_current_stream())
    np.testing.assert_allclose(y.astype(np.float64), expected(x, None), atol=1e-2, rtol=1e-2)


def test_raw_pointers_and_explicit_stream(ext) -> None:
    import cupy as cp

    x = cp.asarray(np.random.default_rng(1).standard_normal((16, 64)).astype(np.float32))
    y = cp.full_like(x, cp.nan)
    cp.cuda.get_current_stream().synchronize()  # the side stream does not wait for the default stream
    stream = cp.cuda.Stream(non_blocking=True)
    ext.fast_gelu_ptr(x.data.ptr, y.data.ptr, x.size, "float32", stream=stream.ptr)
    stream.synchronize()
    np.testing.assert_allclose(cp.asnumpy(y), expected(cp.asnumpy(x), None), atol=1e-5, rtol=1e-5)


def test_bad_bias_length_is_an_error_not_a_crash(ext) -> None:
    import cupy as cp

    x = cp.zeros(10, dtype=cp.float32)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidValue"):
        ext.fast_gelu_ptr(x.data.ptr, x.data.ptr, 10, "float32", bias=x.data.ptr, bias_len=3)
