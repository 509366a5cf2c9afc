"""The integer prototypes' 16-byte-vector kernels (trtplug/protolib/gpu_int_kernels.py): every
source form compiles with nvcc here (CI has nvcc, no GPU); on a GPU the bitwise and BitShift
prototypes equal their NumPy paths on poisoned outputs for every integer dtype, sizes with and
without a tail, every shift amount class, and the inputs the kernels must decline (an offset
view, a broadcast), with a spy on the fast path so a silent fallback cannot pass."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tests.test_proto_vector_kernels import assert_compiles
from trtplug.parity.impl_base import pyplugin_module
from trtplug.protolib import gpu_int_kernels
from trtplug.registry import load_registry

BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"]
DIRECTIONS = ["LEFT", "RIGHT"]
DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
SIZES = [0, 1, 17, 1023, 4096, (1 << 20) + 3]  # 17 uint8: one vector and a 1-byte tail


@pytest.mark.parametrize("op", BITWISE)
def test_bitwise_source_compiles(tmp_path: Path, op: str) -> None:
    assert_compiles(tmp_path, gpu_int_kernels.bitwise_source(op))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_shift_source_compiles(tmp_path: Path, dtype: str, direction: str) -> None:
    assert_compiles(tmp_path, gpu_int_kernels.bit_shift_source(dtype, direction))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_shift_source_defines(dtype: str) -> None:
    """The width and signedness the kernel's out-of-range rule depends on."""
    source = gpu_int_kernels.bit_shift_source(dtype, "RIGHT")
    assert f"#define BITS {8 * np.dtype(dtype).itemsize}\n" in source
    assert f"#define SIGNED {int(np.dtype(dtype).kind == 'i')}\n" in source


# ---- on a GPU: the fast path against the NumPy path ---------------------------------------------


@cache  # the registry takes ~40 ms to load
def prototype(key: str):
    return pyplugin_module(load_registry().get(key))


def values(dtype: str, size: int, seed: int) -> np.ndarray:
    """Random values over the whole range, the extremes (and -1) first."""
    info = np.iinfo(dtype)
    drawn = np.random.default_rng(seed).integers(info.min, info.max, size, dtype=dtype, endpoint=True)
    extremes = np.array([info.min, info.max, 0, 1, -1 if info.min else 2], dtype=dtype)
    drawn[: min(size, extremes.size)] = extremes[:size]
    return drawn


def amounts(dtype: str, size: int, seed: int) -> np.ndarray:
    """Shift amounts -3..bits+3 (negatives wrap to large values in unsigned types) and the
    extremes, shuffled over the elements."""
    bits, info = 8 * np.dtype(dtype).itemsize, np.iinfo(dtype)
    classes = np.concatenate([np.arange(-3, bits + 4).astype(dtype), np.array([info.min, info.max], dtype)])
    return np.random.default_rng(seed).permutation(np.resize(classes, size))


def on_device(cp, host: np.ndarray, offset: bool):
    """host on the device; `offset`: a view one element into a copy, so not 16-byte aligned."""
    if not offset:
        return cp.asarray(host)
    flat = cp.empty(host.size + 1, host.dtype)
    flat[1:] = cp.asarray(host.ravel())
    return flat[1:].reshape(host.shape)


def poisoned(cp, shape: tuple[int, ...], dtype: str, offset: bool):
    out = on_device(cp, np.zeros(shape, dtype), offset)
    out.fill(np.frombuffer(b"\xa5" * 8, dtype=dtype)[0])
    return out


def spy(monkeypatch, name: str) -> list[bool]:
    """Records what gpu_int_kernels.<name> returns when the prototype calls it."""
    returned: list[bool] = []
    real = getattr(gpu_int_kernels, name)

    def recording(*args, **kwargs):
        returned.append(real(*args, **kwargs))
        return returned[-1]

    monkeypatch.setattr(gpu_int_kernels, name, recording)
    return returned


def check(cp, monkeypatch, key, fast, hosts, attrs, offset, expect_fast):
    """The prototype on the device (inputs offset or not) equals its NumPy path, and the fast
    path ran exactly when expected."""
    proto = prototype(key)
    shape = np.broadcast_shapes(*(h.shape for h in hosts))
    want = np.empty(shape, hosts[0].dtype)
    proto.forward(np, hosts, [want], attrs)
    out = poisoned(cp, shape, str(hosts[0].dtype), offset)
    returned = spy(monkeypatch, fast)
    proto.forward(cp, [on_device(cp, h, offset) for h in hosts], [out], attrs)
    assert returned == [expect_fast]
    np.testing.assert_array_equal(cp.asnumpy(out), want)


@pytest.mark.gpu
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BITWISE)
def test_bitwise_equals_numpy(cp, monkeypatch, op, dtype, size):
    hosts = [values(dtype, size, 1), values(dtype, size, 2)][: 1 if op == "bitwise_not" else 2]
    check(cp, monkeypatch, op, "bitwise", hosts, {}, offset=False, expect_fast=size > 0)


@pytest.mark.gpu
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_bit_shift_equals_numpy(cp, monkeypatch, direction, dtype, size):
    hosts = [values(dtype, size, 3), amounts(dtype, size, 4)]
    check(cp, monkeypatch, "bit_shift", "bit_shift", hosts, {"direction": direction}, False, size > 0)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BITWISE)
def test_bitwise_declines_offset_and_broadcast(cp, monkeypatch, op, dtype):
    unary = op == "bitwise_not"
    offset = [values(dtype, 1023, 5), values(dtype, 1023, 6)][: 1 if unary else 2]
    check(cp, monkeypatch, op, "bitwise", offset, {}, offset=True, expect_fast=False)
    monkeypatch.undo()
    if not unary:
        broadcast = [values(dtype, 15, 7).reshape(3, 1, 5), values(dtype, 20, 8).reshape(4, 5)]
        check(cp, monkeypatch, op, "bitwise", broadcast, {}, offset=False, expect_fast=False)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_bit_shift_declines_offset_and_broadcast(cp, monkeypatch, direction, dtype):
    attrs = {"direction": direction}
    offset = [values(dtype, 1023, 9), amounts(dtype, 1023, 10)]
    check(cp, monkeypatch, "bit_shift", "bit_shift", offset, attrs, offset=True, expect_fast=False)
    monkeypatch.undo()
    every_amount = amounts(dtype, 8 * np.dtype(dtype).itemsize + 9, 11)  # each x meets each amount
    broadcast = [values(dtype, 64, 12).reshape(-1, 1), every_amount.reshape(1, -1)]
    check(cp, monkeypatch, "bit_shift", "bit_shift", broadcast, attrs, offset=False, expect_fast=False)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_fast_paths_run_on_aligned_same_shape(cp, dtype):
    """Called directly: each kernel takes the aligned same-shape case and writes every element."""
    x, y = values(dtype, 4099, 13), amounts(dtype, 4099, 14)
    for op in BITWISE:
        inputs = [x, y][: 1 if op == "bitwise_not" else 2]
        out = poisoned(cp, x.shape, dtype, offset=False)
        assert gpu_int_kernels.bitwise(op, [cp.asarray(h) for h in inputs], out), op
        np.testing.assert_array_equal(cp.asnumpy(out), getattr(np, op)(*inputs), err_msg=op)
    for direction in DIRECTIONS:
        want = np.empty_like(x)
        prototype("bit_shift").forward(np, [x, y], [want], {"direction": direction})
        out = poisoned(cp, x.shape, dtype, offset=False)
        assert gpu_int_kernels.bit_shift(cp.asarray(x), cp.asarray(y), out, direction), direction
        np.testing.assert_array_equal(cp.asnumpy(out), want, err_msg=direction)
