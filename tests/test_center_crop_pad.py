"""CenterCropPad beyond the parity cases: the adapter's rules on the CPU (output lengths come
from the shape input `shape`, axes resolved against the input's rank) and, on a GPU, the
launcher and the plugin (through the host's shape-input path) against NumPy slicing."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import host_values, offset_view
from trtplug import native
from trtplug.protolib.dtypes import to_host


def create(library, axes):
    plugin = library.create("TrtplugCenterCropPad", "1", "trtplug", {"axes": axes})
    assert plugin is not None
    return plugin


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("axes", "shape", "values", "expected"),
    [
        ([], [20, 10, 3], [10, 7, 3], [10, 7, 3]),
        ([0, 1], [20, 8, 3], [5, 9], [5, 9, 3]),
        ([-1, 0], ["N", 8, "C"], [4, 2], [2, 8, 4]),
        ([], ["N", 8], ["A", "B"], ["A", "B"]),
    ],
)
def test_output_shape_from_shape_input(library, axes, shape, values, expected):
    assert create(library, axes).output_shapes([shape], [values]) == [expected]


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("axes", "values", "message"),
    [
        ([], None, "expected the shape input 'shape'"),
        ([], [1, 2], "shape has 2 values for 3 axes"),
        ([3], [1], "axis 3 out of range for rank 3"),
        ([1, -2], [1, 2], "axis -2 repeated in axes"),
    ],
)
def test_rejects(library, axes, values, message):
    with pytest.raises(RuntimeError) as err:
        create(library, axes).output_shapes([[4, 5, 6]], None if values is None else [values])
    assert message in str(err.value)


@pytest.mark.pluginlib
def test_types_and_round_trip(library):
    plugin = create(library, [1, 2])
    for dtype in ("float32", "float16", "bfloat16", "int32", "int64"):
        assert plugin.output_types([dtype]) == [dtype]
    with pytest.raises(RuntimeError, match="got uint8"):
        plugin.output_types(["uint8"])
    assert plugin.round_trip().fields_to_serialize() == {"axes": [1, 2]}


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64"])
def test_plugin_crops_and_pads_through_the_shape_input(library, dtype):
    import cupy as cp

    x_host = host_values(np.arange(1, 1 + 6 * 7 * 5).reshape(6, 7, 5), dtype)  # <= 210: exact in bf16
    plugin = create(library, [0, -1])
    y = offset_view(cp, host_values(np.full((3, 7, 8), 99), dtype))
    plugin.run([offset_view(cp, x_host)], [y], shape_inputs=[[3, 8]])
    expected = np.zeros((3, 7, 8), dtype=x_host.dtype)
    expected[:, :, 1:6] = x_host[1:4]  # crop 6 -> 3 from 1; pad 5 -> 8 at 1
    np.testing.assert_array_equal(to_host(cp, y), expected)
    with pytest.raises(ValueError, match="shape"):
        plugin.run([offset_view(cp, x_host)], [y], shape_inputs=[[3, 9]])


@pytest.mark.gpu
def test_launcher_rejects_rank_mismatch():
    import cupy as cp

    ext = native.native_module()
    require_built("trtplug._native", ext is not None, native.native_status()["native_module"])
    x, all_axes = cp.zeros((2, 3), dtype=cp.float32), cp.asarray([2, 3], dtype=cp.int64)
    with pytest.raises(ValueError, match="rank"):
        ext.center_crop_pad([x, cp.asarray([6], dtype=cp.int64)], [cp.zeros(6, dtype=cp.float32)])
    y = cp.full((4, 3), 5.0, dtype=cp.float32)
    with pytest.raises(ValueError, match="center_crop_pad: axis 1 is not in axes but changes length"):
        ext.center_crop_pad([x, all_axes[:1]], [cp.zeros((2, 4), dtype=cp.float32)], {"axes": [0]})
    with pytest.raises(ValueError, match="center_crop_pad: axis -3 out of range"):
        ext.center_crop_pad([x, all_axes[:1]], [y], {"axes": [-3]})
    with pytest.raises(ValueError, match="center_crop_pad: shape must be int64 with one value per axis"):
        ext.center_crop_pad([x, all_axes], [y], {"axes": [0]})
    # The glue: each attribute of the spec's type.
    with pytest.raises(ValueError, match="center_crop_pad: attribute 'axes' has the wrong type"):
        ext.center_crop_pad([x, all_axes], [y], {"axes": "0"})
    assert bool((y == 5.0).all())
    ext.center_crop_pad([x + 1, all_axes[:1]], [y], {"axes": [-2]})  # pad axis 0 by one row each side
    np.testing.assert_array_equal(cp.asnumpy(y), [[0, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]])
