"""MaxPool with Indices beyond the parity cases: the adapter's shape rules on the CPU (auto_pad,
ceil_mode, symbolic lengths, field validation) and, on a GPU, the launcher against torch's
max_pool2d(return_indices=True) (torch counts indices within a plane, ONNX across the tensor) and
the MaxPool -> MaxUnpool round trip through both plugins."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from trtplug import native

NAME = "TrtplugMaxPoolWithIndices"
BASE = {"auto_pad": "NOTSET", "ceil_mode": 0, "dilations": [], "pads": [], "storage_order": 0, "strides": []}


def create(library, **fields):
    plugin = library.create(NAME, "1", "trtplug", {**BASE, **fields})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shape", "expected"),
    [
        ({"kernel_shape": [2, 2], "strides": [2, 2]}, [2, 3, 8, 10], [2, 3, 4, 5]),
        ({"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, [1, 1, 9, 11], [1, 1, 4, 5]),
        ({"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER"}, [1, 1, 9, 11], [1, 1, 5, 6]),
        ({"kernel_shape": [3], "strides": [2], "auto_pad": "VALID"}, [1, 1, 9], [1, 1, 4]),
        ({"kernel_shape": [2, 2], "strides": [2, 2]}, ["N", "C", "H", 8], ["N", "C", "(floordiv((H + -2), 2) + 1)", 4]),
        ({"kernel_shape": [3], "strides": [2], "auto_pad": "SAME_UPPER"}, [1, 1, "L"], [1, 1, "ceildiv(L, 2)"]),
    ],
)
def test_output_shapes(library, fields, shape, expected):
    assert create(library, **fields).output_shapes([shape]) == [expected, expected]


@pytest.mark.pluginlib
def test_types_and_field_validation(library):
    plugin = create(library, kernel_shape=[2, 2])
    assert plugin.output_types(["float16"]) == ["float16", "int64"]
    assert plugin.supports_format_combination(["float32", "float32", "int64"])
    assert not plugin.supports_format_combination(["float32", "float32", "int32"])
    assert library.create(NAME, "1", "trtplug", {**BASE, "kernel_shape": [2], "auto_pad": "SAME"}) is None
    assert library.create(NAME, "1", "trtplug", {**BASE, "kernel_shape": [2, 2, 2, 2]}) is None
    with pytest.raises(RuntimeError, match="ceil_mode 1 needs build-time spatial lengths"):
        create(library, kernel_shape=[2], ceil_mode=1).output_shapes([[1, 1, "L"]])
    for fields in ({}, {"auto_pad": "VALID"}):  # a 3-window over 2 elements: ONNX Runtime rejects it
        with pytest.raises(RuntimeError, match="larger than the padded input"):
            create(library, kernel_shape=[3], strides=[2], **fields).output_shapes([[1, 1, 2]])


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_matches_torch_max_pool2d(dtype):
    import cupy as cp

    torch = pytest.importorskip("torch")
    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    z = torch.randn(2, 3, 33, 65, device="cuda", dtype=getattr(torch, dtype))
    pooled, local = torch.nn.functional.max_pool2d(z, 3, stride=2, padding=1, return_indices=True)
    y = cp.full(tuple(pooled.shape), cp.nan, dtype=dtype)
    indices = cp.full(tuple(pooled.shape), -7, dtype=cp.int64)
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    ext.max_pool_with_indices([cp.asarray(z)], [y, indices], attrs)
    planes = torch.arange(6, device="cuda").reshape(2, 3, 1, 1) * (33 * 65)
    np.testing.assert_array_equal(cp.asnumpy(y), pooled.cpu().numpy())
    np.testing.assert_array_equal(cp.asnumpy(indices), (local + planes).cpu().numpy())
    with pytest.raises(ValueError, match="attribute 'storage_order'"):  # the spec's choices, from the glue
        ext.max_pool_with_indices([cp.asarray(z)], [y, indices], {**attrs, "storage_order": 2})
    with pytest.raises(ValueError, match="attribute 'strides': 1 elements, 1 per 'kernel_shape' element"):
        ext.max_pool_with_indices([cp.asarray(z)], [y, indices], {**attrs, "strides": [2]})
    with pytest.raises(ValueError, match="Y's spatial axis 0 must have length 16, got 17"):
        ext.max_pool_with_indices([cp.asarray(z)], [y, indices], {**attrs, "pads": [0, 0, 0, 0]})


@pytest.mark.gpu
@pytest.mark.pluginlib
def test_pool_then_unpool_through_the_plugins(library):
    import cupy as cp

    x = cp.asarray(np.random.default_rng(3).standard_normal((2, 4, 16, 20)).astype(np.float32))
    pool = create(library, kernel_shape=[2, 2], strides=[2, 2])
    y = cp.empty((2, 4, 8, 10), dtype=cp.float32)
    indices = cp.empty((2, 4, 8, 10), dtype=cp.int64)
    pool.run([x], [y, indices])
    unpool = library.create("TrtplugMaxUnpool", "1", "trtplug", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": []})
    restored = cp.full(x.shape, cp.nan, dtype=cp.float32)
    unpool.run([y, indices], [restored])
    host = cp.asnumpy(x)
    window_max = host.reshape(2, 4, 8, 2, 10, 2).max(axis=(3, 5), keepdims=True)
    expected = np.where(host.reshape(2, 4, 8, 2, 10, 2) == window_max, host.reshape(2, 4, 8, 2, 10, 2), 0)
    np.testing.assert_array_equal(cp.asnumpy(restored), expected.reshape(x.shape))


@pytest.mark.gpu
def test_heavy_past_2_31_elements_take_the_64_bit_path():
    """x past 2**31 elements (fp16, 1-D, kernel 2 / stride 2): the 64-bit index path of the
    kernel; the last windows against CuPy's max and first-argmax of the same pairs."""
    import cupy as cp

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    n = (1 << 31) + 256
    block = cp.asarray(np.random.default_rng(3).standard_normal(1_000_003).astype(np.float16))
    x = cp.tile(block, n // block.size + 1)[:n].reshape(1, 1, n)
    y = cp.full((1, 1, n // 2), cp.nan, dtype=cp.float16)
    indices = cp.full((1, 1, n // 2), -7, dtype=cp.int64)
    ext.max_pool_with_indices([x], [y, indices], {"kernel_shape": [2], "strides": [2]})
    tail = 1 << 16
    pairs = x[0, 0, -2 * tail :].reshape(tail, 2)
    first = n - 2 * tail + 2 * cp.arange(tail, dtype=cp.int64)
    cp.testing.assert_array_equal(y[0, 0, -tail:], pairs.max(axis=1))
    cp.testing.assert_array_equal(indices[0, 0, -tail:], first + (pairs[:, 1] > pairs[:, 0]))
    cp.testing.assert_array_equal(indices[0, 0, :4], cp.asarray([0, 2, 4, 6]) + (x[0, 0, 1:8:2] > x[0, 0, 0:8:2]))


def first_max_2x2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2 x 2 / 2 pooling of float32 x: each window's first strict maximum in window order (NaN
    never wins; a window of NaN and -inf gives -inf at index -1) and its flat index in x."""
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2
    windows = x[:, :, : 2 * oh].reshape(n, c, oh, 2, ow, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, 4)
    clean = np.where(np.isnan(windows), -np.inf, windows)
    win = clean.argmax(axis=-1)
    best = np.take_along_axis(clean, win[..., None], axis=-1)[..., 0]
    rows = 2 * np.arange(oh)[:, None] + win // 2
    cols = 2 * np.arange(ow)[None, :] + win % 2
    planes = np.arange(n * c).reshape(n, c, 1, 1) * h * w
    index = np.where(best == -np.inf, -1, planes + rows * w + cols)
    return best, index


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(2, 3, 6, 8), (2, 3, 7, 8), (1, 2, 6, 10), (3, 64, 62, 128), (1, 1, 2, 4)])
def test_2x2_windows_two_outputs_a_thread(dtype, shape):
    """The 2 x 2 / 2 pooling's vector path (W a multiple of 4; odd H leaves the last row out) and,
    W = 10, the window walk: ties (few distinct values), NaN and -inf, poisoned outputs."""
    import cupy as cp

    from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, to_bfloat16, to_device, to_host

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    x.reshape(-1)[rng.choice(x.size, size=max(1, x.size // 16), replace=False)] = np.nan
    x.reshape(-1)[rng.choice(x.size, size=max(1, x.size // 16), replace=False)] = -np.inf
    x[0, 0, :2, :2] = np.nan  # the first window all NaN: -inf at index -1
    host = to_bfloat16(x) if dtype == BFLOAT16 else x.astype(dtype)
    out_shape = (*shape[:2], shape[2] // 2, shape[3] // 2)
    y = Bf16Device.poisoned(cp, out_shape) if dtype == BFLOAT16 else cp.full(out_shape, cp.nan, dtype=dtype)
    indices = cp.full(out_shape, -7, dtype=cp.int64)
    ext.max_pool_with_indices([to_device(cp, host)], [y, indices], {"kernel_shape": [2, 2], "strides": [2, 2]})
    best, index = first_max_2x2(host.astype(np.float32))
    np.testing.assert_array_equal(to_host(cp, y).astype(np.float32), best)
    np.testing.assert_array_equal(cp.asnumpy(indices), index)
