"""MaxUnpool beyond the parity cases: the adapter's shape rules on the CPU (inferred lengths, the
optional shape input output_shape, field validation) and, on a GPU, the launcher against torch's
max_unpool2d (a second independent reference; torch's indices count within one plane, ONNX's
across the whole tensor) and its handling of indices outside the unpooled tensor."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from tests.max_unpool_cases import indices_with_strays
from trtplug import native

FIELDS = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": []}

K2S2 = {"kernel_shape": [2], "strides": [2]}  # 1-D windows of 2: x of length 4 unpools to 8


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "shapes", "shape_inputs", "expected"),
    [
        (FIELDS, [[2, 3, 4, 5], [2, 3, 4, 5]], None, [2, 3, 8, 10]),
        ({"kernel_shape": [3], "strides": [2], "pads": [1, 0]}, [[1, 2, 7], [1, 2, 7]], None, [1, 2, 14]),
        (FIELDS, [["N", "C", "H", 5], ["N", "C", "H", 5]], None, ["N", "C", "(((H - 1) * 2) + 2)", 10]),
        (FIELDS, [[1, 2, 3, 3], [1, 2, 3, 3]], [[1, 2, 7, 8]], [1, 2, 7, 8]),
    ],
)
def test_output_shapes(library, fields, shapes, shape_inputs, expected):
    plugin = library.create("TrtplugMaxUnpool", "1", "trtplug", fields)
    assert plugin.output_shapes(shapes, shape_inputs) == [expected]


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({**FIELDS, "kernel_shape": []}, "attribute 'kernel_shape': 0 elements, at least 1 needed"),
        ({**FIELDS, "strides": [2]}, "attribute 'strides': 1 elements, 1 per 'kernel_shape' element (2) or none"),
        ({**FIELDS, "pads": [1, 1]}, "attribute 'pads': 2 elements, 2 per 'kernel_shape' element (4) or none"),
        ({**FIELDS, "strides": [0, 2]}, "attribute 'strides': element 0 (0) is below the minimum 1"),
    ],
)
def test_bad_fields_are_refused(library, fields, message):
    host = native.plugin_host_module()
    host.clear_messages()
    assert library.create("TrtplugMaxUnpool", "1", "trtplug", fields) is None
    assert any(message in text for _, text in host.messages())


@pytest.mark.pluginlib
def test_types_and_rank(library):
    plugin = library.create("TrtplugMaxUnpool", "1", "trtplug", FIELDS)
    assert plugin.output_types(["float16", "int64"]) == ["float16"]
    with pytest.raises(RuntimeError, match="I must be int64, got int32"):
        plugin.output_types(["float32", "int32"])
    with pytest.raises(RuntimeError, match="X must have rank 4 for a 2-D kernel_shape, got rank 3"):
        plugin.output_shapes([[1, 2, 3], [1, 2, 3]])
    assert plugin.supports_format_combination(["float32", "int64", "float32"])
    assert not plugin.supports_format_combination(["float32", "int32", "float32"])


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_matches_torch_max_unpool2d(dtype):
    import cupy as cp

    torch = pytest.importorskip("torch")
    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    z = torch.randn(3, 5, 34, 66, device="cuda", dtype=getattr(torch, dtype))
    pooled, local = torch.nn.functional.max_pool2d(z, 2, return_indices=True)
    expected = torch.nn.functional.max_unpool2d(pooled, local, 2, output_size=(35, 67))
    planes = torch.arange(15, device="cuda").reshape(3, 5, 1, 1) * (34 * 66)
    y = cp.full((3, 5, 35, 67), cp.nan, dtype=dtype)
    ext.max_unpool([cp.asarray(pooled), cp.asarray(local + planes)], [y], {"kernel_shape": [2, 2], "strides": [2, 2]})
    # torch places plane-local indices in the 35 x 67 plane, ONNX in the 34 x 66 unpooled one.
    expected_onnx = torch.zeros_like(expected)
    expected_onnx[:, :, :34, :66] = torch.nn.functional.max_unpool2d(pooled, local, 2)
    np.testing.assert_array_equal(cp.asnumpy(y), expected_onnx.cpu().numpy())


@pytest.mark.gpu
def test_indices_outside_the_tensor_are_skipped():
    import cupy as cp

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    x = cp.asarray(np.array([[[1.0, 2.0, 3.0, 4.0]]], dtype=np.float32))
    indices = cp.asarray(np.array([[[-1, 3, 8, 1 << 40]]], dtype=np.int64))
    y = cp.full((1, 1, 8), cp.nan, dtype=cp.float32)
    ext.max_unpool([x, indices], [y], K2S2)
    np.testing.assert_array_equal(cp.asnumpy(y), [[[0, 0, 0, 2, 0, 0, 0, 0]]])
    with pytest.raises(ValueError, match="attribute 'strides'"):  # the spec's bounds, from the glue
        ext.max_unpool([x, indices], [y], {"kernel_shape": [2], "strides": [0]})
    with pytest.raises(ValueError, match="attribute 'pads': 1 elements, 2 per 'kernel_shape' element"):
        ext.max_unpool([x, indices], [y], {**K2S2, "pads": [1]})


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(
    ("x_shape", "out_spatial"),
    [
        ((2, 3, 5, 7), (10, 14)),
        ((2, 3, 17), (68,)),
        ((1, 2, 4, 5), (12, 15)),
        ((1, 2, 3, 4, 5), (6, 8, 10)),
        ((2, 3, 6, 8), (12, 16)),  # windows 2 long, rows of 4: four x elements per thread
        ((2, 3, 16), (32,)),
        ((1, 2, 2, 3, 4), (4, 6, 8)),
    ],
)
def test_indices_outside_their_window(dtype, x_shape, out_spatial):
    """Windowed unpooling (out a multiple of x per axis) with indices that leave their window: the
    fix-up pass must place them, the outside ones must be skipped; distinct, so y is defined."""
    import cupy as cp

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape).astype(dtype)
    indices, out_shape = indices_with_strays(rng, x_shape, out_spatial)
    expected = np.zeros(int(np.prod(out_shape)), dtype=dtype)
    valid = (indices >= 0) & (indices < expected.size)
    expected[indices[valid]] = x[valid]
    y = cp.full(out_shape, cp.nan, dtype=dtype)
    ratio = [o // i for o, i in zip(out_spatial, x_shape[2:], strict=True)]
    attrs = {"kernel_shape": ratio, "strides": ratio}  # unpooled length: in * ratio = out
    ext.max_unpool([cp.asarray(x), cp.asarray(indices.astype(np.int64))], [y], attrs)
    np.testing.assert_array_equal(cp.asnumpy(y).reshape(-1), expected)


@pytest.mark.gpu
def test_out_of_window_index_wins_over_the_windows_own():
    """Duplicates between a window's own index and another element's stray one: the stray value
    wins (it is written after every window), deterministically."""
    import cupy as cp

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    x = cp.asarray(np.array([[[1.0, 2.0, 3.0, 4.0]]], dtype=np.float32))
    indices = cp.asarray(np.array([[[1, 1, 5, 6]]], dtype=np.int64))
    y = cp.full((1, 1, 8), cp.nan, dtype=cp.float32)
    for _ in range(3):
        ext.max_unpool([x, indices], [y], K2S2)
        np.testing.assert_array_equal(cp.asnumpy(y), [[[0, 2, 0, 0, 0, 3, 4, 0]]])
