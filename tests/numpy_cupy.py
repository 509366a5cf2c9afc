"""A stand-in `cupy` over NumPy and host memory, so the prototype plugin's enqueue (TensorRT's raw
pointers viewed as arrays, the prototype on them, size tensors written) runs without a GPU: host
pointers play device pointers, every other name is NumPy's."""

from __future__ import annotations

import contextlib
import ctypes
import math
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np


class _Memory:
    def __init__(self, ptr: int, size: int, owner: Any) -> None:
        self.ptr, self.size = ptr, size


class _Pointer:
    def __init__(self, memory: _Memory, offset: int) -> None:
        self.memory, self.offset = memory, offset


def _ndarray(shape: tuple[int, ...], dtype: Any, memptr: _Pointer) -> np.ndarray:
    """The host memory at memptr as an array (the buffer stays owned by the caller's array)."""
    raw = (ctypes.c_char * memptr.memory.size).from_address(memptr.memory.ptr + memptr.offset)
    return np.frombuffer(raw, dtype=dtype, count=math.prod(shape)).reshape(shape)


def _module() -> ModuleType:
    module = ModuleType("numpy_cupy")  # not "cupy": protolib.gpu_kernels then takes its NumPy path
    module.ndarray = _ndarray
    module.cuda = SimpleNamespace(
        UnownedMemory=_Memory,
        MemoryPointer=_Pointer,
        ExternalStream=lambda ptr: contextlib.nullcontext(),
    )
    module.__getattr__ = lambda name: getattr(np, name)  # PEP 562: the rest is NumPy
    return module


@contextlib.contextmanager
def numpy_cupy() -> Iterator[ModuleType]:
    """`import cupy` gives the stand-in inside the block."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = _module()
    try:
        yield sys.modules["cupy"]
    finally:
        if saved is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = saved


def pointer(array: np.ndarray) -> int:
    return array.ctypes.data
