"""Device arrays for the GPU tests in any float dtype: bf16 travels as Bf16Device (uint16 storage,
"<V2" interface), the others as CuPy arrays. Offset views start `offset` elements into their
allocation (offset 1: not 16-byte aligned, the kernels' scalar paths)."""

from __future__ import annotations

import math

import numpy as np

from trtplug.protolib.dtypes import BF16, BF16_QUIET_NAN_BITS, Bf16Device, numpy_dtype, storage, to_bfloat16, to_host

FLOAT_DTYPES = ["float32", "float16", "bfloat16"]


def offset_view(cp, host: np.ndarray, offset: int = 0):
    """A device copy of `host` starting `offset` elements into its buffer."""
    bits = host.view(np.uint16) if host.dtype == BF16 else host
    buf = cp.empty(host.size + offset, dtype=bits.dtype)
    view = buf[offset:].reshape(host.shape)
    view[...] = cp.asarray(bits)
    return Bf16Device(view) if host.dtype == BF16 else view


def poisoned_view(cp, shape: tuple[int, ...], dtype: str, offset: int = 0):
    """(buffer, view): NaN everywhere, the view `offset` elements in."""
    if dtype == "bfloat16":
        buf = cp.full(math.prod(shape) + offset, BF16_QUIET_NAN_BITS, dtype=cp.uint16)
        return buf, Bf16Device(buf[offset:].reshape(shape))
    buf = cp.full(math.prod(shape) + offset, cp.nan, dtype=dtype)
    return buf, buf[offset:].reshape(shape)


def untouched(buffer) -> bool:
    """The buffer's first element still holds the NaN poison."""
    first = storage(buffer)[:1].get()
    return bool(np.isnan(first.view(BF16).astype(np.float32) if first.dtype == np.uint16 else first).all())


def as_float64(array) -> np.ndarray:
    """A float64 host copy of a device array (bf16 included)."""
    return to_host(np, array).astype(np.float64) if isinstance(array, Bf16Device) else array.get().astype(np.float64)


def host_values(values: np.ndarray, dtype: str) -> np.ndarray:
    """`values` rounded to `dtype` on the host (bf16: ml_dtypes.bfloat16)."""
    return np.asarray(values).astype(numpy_dtype(dtype))


def rounded(rng, shape, dtype: str):
    """Random normal values in `dtype` (host; bf16 as its uint16-backed NumPy form), and the same
    values as float32."""
    x = rng.standard_normal(shape).astype(np.float32)
    low = to_bfloat16(x) if dtype == "bfloat16" else x.astype(dtype)
    return low, low.astype(np.float32)


def to_device(cp, host, dtype: str):
    """`rounded`'s host values on the device."""
    return Bf16Device.from_host(cp, host) if dtype == "bfloat16" else cp.asarray(host)


def poisoned(cp, shape, dtype: str):
    """A device array of NaN in `dtype`."""
    return Bf16Device.poisoned(cp, shape) if dtype == "bfloat16" else cp.full(shape, cp.nan, dtype=dtype)


def to_host32(out, dtype: str) -> np.ndarray:
    """A float32 host copy of a device array in `dtype`."""
    return out.to_host().astype(np.float32) if dtype == "bfloat16" else out.get().astype(np.float32)


def plugin_executor(cp, library, phase: str):
    """An `execute(spec, ins, outs, attrs)` that runs the op's IPluginV3 plugin through the plugin
    host: built from the creator (phase "build") or serialized and deserialized first ("runtime"),
    enqueued on a side stream (the plugin must use the stream it is given)."""

    def execute(spec, ins, outs, attrs):
        plugin = library.create(spec.plugin.name, "1", "trtplug", attrs)
        assert plugin is not None
        plugin = plugin if phase == "build" else plugin.round_trip()
        stream = cp.cuda.Stream(non_blocking=True)
        cp.cuda.get_current_stream().synchronize()
        plugin.run(ins, outs, stream, synchronize=False)
        stream.synchronize()

    return execute
