"""A device-array stand-in for plugin-host tests on machines without a GPU."""

from __future__ import annotations


class FakeCudaArray:
    """__cuda_array_interface__ with a null pointer: a plugin's run() must refuse the call (shape,
    type, count checks) before it touches the data; a call its checks accept stops at the plugin
    host's null-buffer check before enqueue (a kernel on null buffers would fault on a GPU machine
    and leave the process's CUDA context dead)."""

    def __init__(self, shape: tuple[int, ...], typestr: str = "<f4") -> None:
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0, False), "version": 3}


TYPESTR = {"float32": "<f4", "float16": "<f2", "int8": "|i1", "uint8": "|u1", "int32": "<i4", "int64": "<i8"}


def fake_arrays(shapes, dtypes) -> list[FakeCudaArray]:
    """One FakeCudaArray per (shape, dtype name)."""
    return [FakeCudaArray(tuple(s), TYPESTR[t]) for s, t in zip(shapes, dtypes, strict=True)]


# What the plugin host says when a call the plugin's checks accept reaches it with null buffers.
NULL_BUFFER_REFUSED = r"enqueue not called: .* null device pointer"
