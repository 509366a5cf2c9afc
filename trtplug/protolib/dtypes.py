"""bfloat16 transport: NumPy holds bf16 as ml_dtypes.bfloat16; CuPy has no bf16 dtype, so bf16 device
data is uint16 bit patterns, wrapped in Bf16Device for the bindings, the plugin host and TensorRT.

Most prototypes never see bf16: they get float32 upcasts (exact) and their float32 outputs are
rounded to bf16 (round to nearest even, as the CUDA kernels' __float2bfloat16 does). A prototype
with `takes_bf16` gets bf16 itself; on_float32_stand_ins does that conversion around its array code.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import ml_dtypes
import numpy as np

BFLOAT16 = "bfloat16"
BF16 = np.dtype(ml_dtypes.bfloat16)
BF16_QUIET_NAN_BITS = 0x7FC0  # poison: any unwritten element compares as NaN


def numpy_dtype(name: str | np.dtype) -> np.dtype:
    """The NumPy dtype of a spec dtype name; "bfloat16" is ml_dtypes.bfloat16."""
    return BF16 if str(name) == BFLOAT16 else np.dtype(name)


def float32_to_bf16_bits(xp: ModuleType, values: Any) -> Any:
    """bf16 bit patterns (uint16) of float32 `values`, rounded to nearest even; NaN stays NaN (quiet),
    +-Inf stays Inf, finite values past the largest bf16 round to Inf."""
    values = xp.asarray(values, dtype=xp.float32, order="C")  # not ascontiguousarray: it makes 0-d arrays 1-d
    bits = values.view(xp.uint32)
    bias = xp.uint32(0x7FFF) + ((bits >> xp.uint32(16)) & xp.uint32(1))
    rounded = ((bits + bias) >> xp.uint32(16)).astype(xp.uint16)
    quiet_nan = ((bits >> xp.uint32(16)) | xp.uint32(0x0040)).astype(xp.uint16)
    return xp.where(xp.isnan(values), quiet_nan, rounded)


def bf16_bits_to_float32(xp: ModuleType, bits: Any) -> Any:
    """float32 values of bf16 bit patterns (exact: bf16 is float32's upper half)."""
    return (xp.asarray(bits, order="C").astype(xp.uint32) << xp.uint32(16)).view(xp.float32)


def to_bfloat16(values: np.ndarray) -> np.ndarray:
    """A host float array rounded to bf16 (ml_dtypes.bfloat16)."""
    return float32_to_bf16_bits(np, np.asarray(values, dtype=np.float32)).view(BF16)


def is_bf16(array: Any) -> bool:
    return isinstance(array, Bf16Device) or getattr(array, "dtype", None) == BF16


class Bf16Device:
    """A bf16 device tensor: CuPy uint16 storage whose __cuda_array_interface__ says "<V2", which
    the bindings and the plugin host read as bfloat16 (plugins/common/binding.cpp)."""

    dtype = BF16

    def __init__(self, bits: Any) -> None:
        if str(bits.dtype) != "uint16":
            raise TypeError(f"Bf16Device holds uint16 bit patterns, got {bits.dtype}")
        self.bits = bits

    @classmethod
    def from_host(cls, xp: ModuleType, host: np.ndarray) -> Bf16Device:
        return cls(xp.asarray(np.asarray(host, order="C").view(np.uint16)))

    @classmethod
    def poisoned(cls, xp: ModuleType, shape: tuple[int, ...]) -> Bf16Device:
        return cls(xp.full(shape, BF16_QUIET_NAN_BITS, dtype=xp.uint16))

    def to_host(self) -> np.ndarray:
        return self.bits.get().view(BF16)

    def to_float32(self, xp: ModuleType) -> Any:
        return bf16_bits_to_float32(xp, self.bits)

    shape = property(lambda self: self.bits.shape)
    size = property(lambda self: self.bits.size)
    ndim = property(lambda self: self.bits.ndim)
    nbytes = property(lambda self: self.bits.nbytes)
    data = property(lambda self: self.bits.data)  # .data.ptr, as TensorRT's bindings take it

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        interface = dict(self.bits.__cuda_array_interface__)
        interface["typestr"] = "<V2"
        interface["descr"] = [("", "<V2")]
        return interface


def storage(array: Any) -> Any:
    """The array that holds `array`'s bytes (a Bf16Device's uint16 bits; any other array itself)."""
    return array.bits if isinstance(array, Bf16Device) else array


def to_device(xp: ModuleType, host: np.ndarray) -> Any:
    """`host` on xp's device: bf16 on a GPU becomes a Bf16Device; anything else xp.asarray."""
    if xp is not np and is_bf16(host):
        return host if isinstance(host, Bf16Device) else Bf16Device.from_host(xp, host)
    return xp.asarray(host)


def to_host(xp: ModuleType, array: Any) -> np.ndarray:
    """A NumPy copy (bf16 as ml_dtypes.bfloat16) of a device or host array."""
    if isinstance(array, Bf16Device):
        return array.to_host()
    return array if xp is np else xp.asnumpy(array)


def upcast(xp: ModuleType, array: Any) -> Any:
    """float32 values of a bf16 array (host or device) on xp's device; other arrays unchanged."""
    if isinstance(array, Bf16Device):
        return array.to_float32(xp)
    if getattr(array, "dtype", None) == BF16:
        return xp.asarray(np.asarray(array, dtype=np.float32))
    return array


def device_empty(xp: ModuleType, shape: tuple[int, ...], dtype: str) -> Any:
    """An uninitialised array of spec dtype `dtype` on xp's device (bf16: a Bf16Device on a GPU)."""
    if dtype == BFLOAT16 and xp is not np:
        return Bf16Device(xp.empty(shape, dtype=xp.uint16))
    return xp.empty(shape, dtype=numpy_dtype(dtype))


def torch_in_float32(function: Any, tensor: Any) -> Any:
    """function(tensor) computed in float32 and cast back to the tensor's type: torch.linalg has no
    fp16/bf16 CUDA kernels, and the plugins compute in float32 too."""
    return function(tensor.float()).to(tensor.dtype)


def on_float32_stand_ins(xp: ModuleType, inputs: list[Any], outputs: list[Any], compute: Any) -> None:
    """compute(inputs, outputs) with each Bf16Device among them replaced by float32: inputs upcast,
    outputs rounded to bf16 afterwards. For a prototype that takes bf16 (`takes_bf16`) where its
    fast path does not apply; with no Bf16Device, compute runs on the arrays themselves."""
    if not any(isinstance(a, Bf16Device) for a in (*inputs, *outputs)):
        compute(inputs, outputs)
        return
    ins = [None if a is None else upcast(xp, a) for a in inputs]
    outs = [xp.empty(o.shape, xp.float32) if isinstance(o, Bf16Device) else o for o in outputs]
    compute(ins, outs)
    for target, result in zip(outputs, outs, strict=True):
        if target is not result:
            target.bits[...] = float32_to_bf16_bits(xp, result)
