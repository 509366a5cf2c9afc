"""ScatterND and ScatterElements beyond the parity cases: the shared adapter's rules on the CPU
(types, shapes, the reduction field) and, on a GPU, the properties the spec promises: max/min and
integer add are deterministic with heavy duplication, updates in place (data is out), indices
outside the data are skipped, against NumPy's unbuffered ufunc.at."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from trtplug import native


@pytest.mark.pluginlib
@pytest.mark.parametrize(("name", "fields"), [("TrtplugScatterND", {}), ("TrtplugScatterElements", {"axis": 1})])
def test_adapter_rules(library, host_messages, name, fields):
    plugin = library.create(name, "1", "trtplug", {**fields, "reduction": "max"})
    assert plugin.output_shapes([["B", 4], [3, 1], [3, 4]]) == [["B", 4]]
    for dtype in ("float32", "float16", "bfloat16", "int32", "int64"):
        assert plugin.output_types([dtype, "int64", dtype]) == [dtype]
        assert plugin.supports_format_combination([dtype, "int64", dtype, dtype])
    with pytest.raises(RuntimeError, match="indices must be int64, got int32"):
        plugin.output_types(["float32", "int32", "float32"])
    with pytest.raises(RuntimeError, match="updates must have data's type float32"):
        plugin.output_types(["float32", "int64", "float16"])
    assert library.create(name, "1", "trtplug", {**fields, "reduction": "sum"}) is None
    expected = "attribute 'reduction': 'sum' is not one of 'none', 'add', 'mul', 'max', 'min'"  # the spec's rule
    assert any(expected in text for _, text in host_messages())


@pytest.mark.pluginlib
@pytest.mark.parametrize(("name", "fields"), [("TrtplugScatterND", {}), ("TrtplugScatterElements", {"axis": 1})])
def test_scatter_output_is_aliased_to_data(library, name, fields):
    """The scatter plugins declare output 0 aliased to data (IPluginV3OneBuildV2): TensorRT >= 10.3
    runs them in place when the engine enables PreviewFeature.ALIASED_PLUGIN_IO_10_03. Other
    plugins keep the V1 build interface and alias nothing."""
    plugin = library.create(name, "1", "trtplug", {**fields, "reduction": "add"})
    assert plugin.aliased_input(0) == 0
    assert plugin.round_trip().aliased_input(0) == 0  # the engine's deserialized copy says the same
    assert library.create("TrtplugBiasAdd", "1", "trtplug", {}).aliased_input(0) == -1


@pytest.mark.gpu
def test_plugin_in_place_writes_only_the_updates(library):
    """Run as TensorRT runs an aliased plugin: output 0 is data's own buffer, so the data copy is
    skipped and only the scattered elements change."""
    import cupy as cp

    plugin = library.create("TrtplugScatterElements", "1", "trtplug", {"axis": 1, "reduction": "add"})
    data = cp.arange(12, dtype=cp.float32).reshape(3, 4)
    indices = cp.asarray(np.array([[0, 3], [1, 2], [1, 1]], dtype=np.int64))
    updates = cp.full((3, 2), 100.0, dtype=cp.float32)
    plugin.run([data, indices, updates], [data], cp.cuda.get_current_stream())
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected[0, [0, 3]] += 100
    expected[1, [1, 2]] += 100
    expected[2, 1] += 200
    np.testing.assert_array_equal(cp.asnumpy(data), expected)


@pytest.fixture
def host_messages():
    host = native.plugin_host_module()
    require_built("trtplug._plugin_host", host is not None, native.native_status()["plugin_host"])
    host.clear_messages()
    return host.messages


@pytest.mark.gpu
@pytest.mark.parametrize("reduction", ["max", "min", "add"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_heavy_duplicates_are_deterministic(ext, reduction, dtype):
    """1M updates onto 7 elements: max/min (and integer add) must match exactly, every run."""
    import cupy as cp

    rng = np.random.default_rng(5)
    data = rng.integers(-50, 50, (7, 3)).astype(dtype)
    indices = rng.integers(-7, 7, (1 << 20, 1)).astype(np.int64)
    updates = rng.integers(-100, 100, (1 << 20, 3)).astype(dtype)
    expected = data.copy()
    ufunc = {"max": np.maximum, "min": np.minimum, "add": np.add}[reduction]
    ufunc.at(expected, np.where(indices[:, 0] < 0, indices[:, 0] + 7, indices[:, 0]), updates)
    for _ in range(2):
        out = cp.full(data.shape, 99, dtype=dtype)
        ext.scatter_nd([cp.asarray(data), cp.asarray(indices), cp.asarray(updates)], [out], {"reduction": reduction})
        np.testing.assert_array_equal(cp.asnumpy(out), expected)


@pytest.mark.gpu
def test_in_place_and_out_of_range_indices(ext):
    import cupy as cp

    data = cp.arange(12, dtype=cp.float32).reshape(3, 4)
    indices = cp.asarray(np.array([[0, 3, -1, 9], [4, -5, 1, 2], [1, 1, 1, 1]], dtype=np.int64))
    updates = cp.full((3, 4), 100.0, dtype=cp.float32)
    ext.scatter_elements([data, indices, updates], [data], {"axis": 1, "reduction": "add"})  # out is data: in place
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.add.at(expected[0], [0, 3, 3], 100)  # -1 is 3; 9 is outside [-4, 4): skipped
    expected[1, [1, 2]] += 100  # 4 and -5 skipped
    expected[2, 1] += 400
    np.testing.assert_array_equal(cp.asnumpy(data), expected)


@pytest.mark.gpu
def test_float16_mul_and_max(ext):
    import cupy as cp

    data = np.ones((4, 8), dtype=np.float16)
    indices = np.array([[0], [0], [3], [0]], dtype=np.int64)
    updates = np.full((4, 8), 2.0, dtype=np.float16)
    updates[3] = -1.0
    for reduction, row0 in (("mul", -4.0), ("max", 2.0)):  # row 0 gets 2, 2 and -1
        out = cp.zeros((4, 8), dtype=cp.float16)
        ext.scatter_nd([cp.asarray(data), cp.asarray(indices), cp.asarray(updates)], [out], {"reduction": reduction})
        result = cp.asnumpy(out)
        assert (result[0] == row0).all() and (result[3] == 2.0).all() and (result[1] == 1.0).all()


@pytest.mark.gpu
def test_heavy_scatter_elements_past_2_31_elements(ext):
    """Data past 2**31 elements: the 64-bit index path; updates of the second row land past
    offset 2**31 (in place, add), each exactly once."""
    import cupy as cp

    row = (1 << 30) + 8
    data = cp.zeros((2, row), dtype=cp.float32)
    targets = np.array([0, 5, row - 1, row - 2, -1, 3], dtype=np.int64)  # -1 is row - 1 again
    indices = cp.asarray(np.stack([targets, targets]))
    updates = cp.asarray(np.array([[1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]], dtype=np.float32))
    ext.scatter_elements([data, indices, updates], [data], {"axis": 1, "reduction": "add"})
    for r, scale in ((0, 1), (1, 10)):
        picked = cp.asnumpy(data[r, [0, 5, 3, row - 2, row - 1]])
        np.testing.assert_array_equal(picked, np.array([1, 2, 6, 4, 3 + 5], dtype=np.float32) * scale)
    assert float(data.sum()) == 21 + 210


@pytest.mark.gpu
def test_bindings_reject_what_the_specs_forbid(ext):
    """The generated glue checks the spec's `choices` before any launch; out stays untouched."""
    import cupy as cp

    data = cp.zeros((3, 4), dtype=cp.float32)
    indices = cp.zeros((3, 1), dtype=cp.int64)
    updates = cp.ones((3, 4), dtype=cp.float32)
    out = cp.full((3, 4), 7.0, dtype=cp.float32)
    with pytest.raises(ValueError, match="scatter_nd: attribute 'reduction'"):
        ext.scatter_nd([data, indices, updates], [out], {"reduction": "sum"})
    with pytest.raises(ValueError, match="scatter_elements: attribute 'reduction'"):
        ext.scatter_elements([data, cp.zeros((3, 4), dtype=cp.int64), updates], [out], {"reduction": "mean"})
    with pytest.raises(ValueError, match="scatter_elements: axis out of range"):
        ext.scatter_elements([data, cp.zeros((3, 4), dtype=cp.int64), updates], [out], {"axis": 2})
    assert bool((out == 7.0).all())
