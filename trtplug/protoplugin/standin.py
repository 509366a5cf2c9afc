"""Stand-ins for the two TensorRT enums the prototype plugin's answers and enqueue read
(DataType, TensorFormat), for running the plugin logic where no TensorRT is installed (the GPU
test machine): the `protoplugin` parity implementation then drives the same code TensorRT would,
with descriptors built here."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

from .buffers import SPEC_TO_TRT

DataType = enum.Enum("DataType", [(member, i) for i, member in enumerate(SPEC_TO_TRT.values())])
TensorFormat = enum.Enum("TensorFormat", [("LINEAR", 0), ("CHW32", 1)])
TRT = SimpleNamespace(DataType=DataType, TensorFormat=TensorFormat)


def descriptor(trt: Any, array: Any) -> SimpleNamespace:
    """A PluginTensorDesc-like view of a device array (a Bf16Device for bf16): type, dims, format."""
    from trtplug.protolib.dtypes import is_bf16

    from .buffers import trt_dtype

    name = "bfloat16" if is_bf16(array) else str(array.dtype)
    return SimpleNamespace(type=trt_dtype(trt, name), dims=tuple(array.shape), format=trt.TensorFormat.LINEAR)
