"""The integer elementwise ops (BitwiseAnd/Or/Xor/Not, BitShift) beyond the parity cases: the
shared IPluginV3 adapter's type, shape and field rules on the CPU, and on a GPU the launchers
on unaligned views, extreme values and odd broadcasts, against NumPy (itself checked against
the ONNX conformance cases and onnx.reference by the parity suites)."""

from __future__ import annotations

import numpy as np
import pytest

from trtplug.parity.impls import pyplugin_module
from trtplug.registry import load_registry

BINARY = {"TrtplugBitwiseAnd": np.bitwise_and, "TrtplugBitwiseOr": np.bitwise_or, "TrtplugBitwiseXor": np.bitwise_xor}


# ---- the adapter on the CPU: types, shapes, fields ------------------------------------------------


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([[3, 1, 5], [4, 1]], [[3, 4, 5]]),
        ([[], [3, 5]], [[3, 5]]),
        ([[2, 1], [0]], [[2, 0]]),
        ([["B", 1], [1, "S"]], [["B", "S"]]),
        ([["B", 8], [8]], [["B", 8]]),
        ([["B"], ["S"]], [["max(B, S)"]]),
    ],
)
def test_broadcast_output_shapes(library, shapes, expected):
    plugin = library.create("TrtplugBitwiseAnd", "1", "trtplug", {})
    assert plugin.output_shapes(shapes) == expected


@pytest.mark.pluginlib
def test_non_broadcastable_shapes_are_rejected(library):
    plugin = library.create("TrtplugBitwiseXor", "1", "trtplug", {})
    with pytest.raises(RuntimeError, match="dims 3 and 4 do not broadcast"):
        plugin.output_shapes([[2, 3], [4]])


@pytest.mark.pluginlib
@pytest.mark.parametrize("name", [*BINARY, "TrtplugBitShift"])
def test_types(library, name):
    plugin = library.create(name, "1", "trtplug", {"direction": "LEFT"} if name == "TrtplugBitShift" else {})
    for dtype in ("int32", "int64", "uint8"):
        assert plugin.output_types([dtype, dtype]) == [dtype]
        assert plugin.supports_format_combination([dtype] * 3)
    assert not plugin.supports_format_combination(["int32", "int64", "int32"])
    assert not plugin.supports_format_combination(["float32"] * 3)
    with pytest.raises(RuntimeError, match="inputs must be int32, int64 or uint8, got float32"):
        plugin.output_types(["float32", "float32"])
    with pytest.raises(RuntimeError, match="B must have A's type int32, got int64"):
        plugin.output_types(["int32", "int64"])


@pytest.mark.pluginlib
def test_bitwise_not_is_unary(library):
    plugin = library.create("TrtplugBitwiseNot", "1", "trtplug", {})
    assert plugin.output_shapes([["B", 3]]) == [["B", 3]]
    with pytest.raises(RuntimeError, match=r"expected 1\.\.1 inputs, got 2"):
        plugin.output_types(["int32", "int32"])


@pytest.mark.pluginlib
def test_bit_shift_direction_field(library, host):
    host.clear_messages()
    assert library.create("TrtplugBitShift", "1", "trtplug", {"direction": "UP"}) is None
    assert any("attribute 'direction': 'UP' is not one of 'LEFT', 'RIGHT'" in text for _, text in host.messages())
    assert library.create("TrtplugBitShift", "1", "trtplug", {}) is None  # required: no default
    runtime = library.create("TrtplugBitShift", "1", "trtplug", {"direction": "RIGHT"}).round_trip()
    assert runtime.fields_to_serialize() == {"direction": "RIGHT"}


# ---- the launchers on a GPU -------------------------------------------------------------------------


def random_ints(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize(("a_shape", "b_shape"), [((1023,), (1023,)), ((5, 1, 33), (7, 1)), ((64, 256), (256,))])
def test_binary_launchers_match_reference_ufuncs(ext, dtype, offset, a_shape, b_shape):
    import cupy as cp

    rng = np.random.default_rng([offset, *a_shape])
    a_host, b_host = random_ints(rng, a_shape, dtype), random_ints(rng, b_shape, dtype)
    out_shape = np.broadcast_shapes(a_shape, b_shape)

    def view(host_array):  # offset 1: not 16-byte aligned (scalar path)
        buf = cp.empty(host_array.size + offset, dtype=dtype)
        buf[offset:] = cp.asarray(host_array.ravel())
        return buf[offset:].reshape(host_array.shape)

    for name, fn in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)):
        y = view(np.full(out_shape, 7, dtype=dtype))
        getattr(ext, name)([view(a_host), view(b_host)], [y])
        np.testing.assert_array_equal(cp.asnumpy(y), fn(a_host, b_host), err_msg=name)
    y = view(np.zeros(a_shape, dtype=dtype))
    ext.bitwise_not([view(a_host)], [y])
    np.testing.assert_array_equal(cp.asnumpy(y), np.bitwise_not(a_host))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bit_shift_every_amount(ext, dtype, direction):
    """Every shift amount from -2 to width + 2 on extreme and random values, broadcast."""
    import cupy as cp

    bits = np.dtype(dtype).itemsize * 8
    info = np.iinfo(dtype)
    x_host = np.concatenate([[info.min, info.max, 0, 1], random_ints(np.random.default_rng(bits), 60, dtype)])
    x_host = x_host.astype(dtype).reshape(-1, 1)
    y_host = np.arange(-2, bits + 3).astype(dtype).reshape(1, -1)
    z = cp.zeros(np.broadcast_shapes(x_host.shape, y_host.shape), dtype=dtype)
    ext.bit_shift([cp.asarray(x_host), cp.asarray(y_host)], [z], {"direction": direction})
    expected = np.empty(z.shape, dtype=dtype)
    prototype = pyplugin_module(load_registry().get("bit_shift"))
    prototype.forward(np, [x_host, y_host], [expected], {"direction": direction})
    np.testing.assert_array_equal(cp.asnumpy(z), expected)


@pytest.mark.gpu
def test_launcher_rejects_bad_arguments(ext):
    import cupy as cp

    a, b = cp.zeros((2, 3), dtype=cp.int32), cp.zeros(4, dtype=cp.int32)
    with pytest.raises(ValueError, match="do not broadcast"):
        ext.bitwise_and([a, b], [cp.zeros((2, 3), dtype=cp.int32)])
    with pytest.raises(ValueError, match="broadcast shape"):
        ext.bitwise_and([a, a], [cp.zeros((3, 2), dtype=cp.int32)])
    with pytest.raises(ValueError, match="one dtype"):
        ext.bitwise_or([a, a.astype(cp.int64)], [cp.zeros((2, 3), dtype=cp.int32)])
    with pytest.raises(ValueError, match="int32, int64, uint8"):
        ext.bitwise_xor([a.astype(cp.float32), a.astype(cp.float32)], [cp.zeros((2, 3), dtype=cp.float32)])
    with pytest.raises(ValueError, match="bit_shift: attribute 'direction': 'UP' is not one of 'LEFT', 'RIGHT'"):
        ext.bit_shift([a, a], [cp.zeros((2, 3), dtype=cp.int32)], {"direction": "UP"})
    with pytest.raises(ValueError, match="bitwise_not: 2 inputs given, the op has 1"):
        ext.bitwise_not([a, a], [cp.zeros((2, 3), dtype=cp.int32)])
    with pytest.raises(ValueError, match="bitwise_and: inputs 'B' is required"):
        ext.bitwise_and([a], [cp.zeros((2, 3), dtype=cp.int32)])
    with pytest.raises(ValueError, match="bitwise_or: unknown attribute 'direction'"):
        ext.bitwise_or([a, a], [cp.zeros((2, 3), dtype=cp.int32)], {"direction": "LEFT"})
    with pytest.raises(ValueError, match="bitwise_xor: 3 inputs given, the op has 2"):
        ext.bitwise_xor([a, a, a], [cp.zeros((2, 3), dtype=cp.int32)])


@pytest.mark.gpu
@pytest.mark.pluginlib
def test_plugin_rejects_wrong_output_shape_at_run(library):
    import cupy as cp

    plugin = library.create("TrtplugBitwiseAnd", "1", "trtplug", {})
    a, b = cp.ones((3, 1), dtype=cp.int32), cp.ones((1, 4), dtype=cp.int32)
    with pytest.raises(ValueError, match="shape"):
        plugin.run([a, b], [cp.zeros((3, 3), dtype=cp.int32)])
    y = cp.zeros((3, 4), dtype=cp.int32)
    plugin.run([a, b], [y])
    assert int(y.sum()) == 12
