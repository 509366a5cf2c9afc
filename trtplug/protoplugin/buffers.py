"""TensorRT's device buffers as CuPy arrays for a prototype, and the dtype mapping between
TensorRT, the spec's names and NumPy. bf16 has no CuPy dtype: its buffers are viewed as uint16
and the prototype gets float32 copies (inputs) and writes float32 outputs rounded back."""

from __future__ import annotations

from typing import Any

SPEC_TO_TRT = {
    "float32": "FLOAT",
    "float16": "HALF",
    "bfloat16": "BF16",
    "int32": "INT32",
    "int64": "INT64",
    "int8": "INT8",
    "uint8": "UINT8",
    "bool": "BOOL",
}
_VIEW_DTYPES = {"bfloat16": "uint16"}  # how a buffer of the spec dtype is viewed in CuPy


def spec_dtype(trt: Any, data_type: Any) -> str:
    for name, member in SPEC_TO_TRT.items():
        if getattr(trt.DataType, member) == data_type:
            return name
    raise ValueError(f"no trtplug dtype for TensorRT type {data_type}")


def trt_dtype(trt: Any, name: str) -> Any:
    return getattr(trt.DataType, SPEC_TO_TRT[name])


def device_view(cp: Any, pointer: int, shape: tuple[int, ...], dtype: str) -> Any:
    """A CuPy array over TensorRT's buffer (not owned: TensorRT frees it)."""
    view_dtype = cp.dtype(_VIEW_DTYPES.get(dtype, dtype))
    count = 1
    for extent in shape:
        count *= int(extent)
    if count == 0 or pointer == 0:
        return cp.empty(shape, dtype=view_dtype)
    memory = cp.cuda.UnownedMemory(int(pointer), count * view_dtype.itemsize, owner=None)
    return cp.ndarray(shape, dtype=view_dtype, memptr=cp.cuda.MemoryPointer(memory, 0))
