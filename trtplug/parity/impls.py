"""Implementations under test, each run on poisoned outputs and returned as NumPy arrays.

numpy   the pyplugins prototype on the CPU (how plugin nodes run without a GPU)
cupy    the same prototype on the GPU
cuda    the CUDA launcher through trtplug._native (the kernel the IPluginV3 plugin runs)
plugin  the IPluginV3 plugin from libtrtplug_plugins.so, driven by the plugin host: created from
        fields as the ONNX parser passes them, serialized and re-created for the runtime phase,
        then configured and enqueued as TensorRT does
protoplugin  the same prototype through the generic Python TensorRT plugin (trtplug.protoplugin),
        enqueued on device pointers and descriptors as TensorRT enqueues it
tensorrt  an engine built by TensorRT from a one-node plugin model (trtplug/parity/tensorrt_impl.py)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from trtplug import native
from trtplug.parity.impl_base import Impl, output_specs, poisoned, pyplugin_module
from trtplug.parity.protoplugin_impl import ProtoPluginImpl
from trtplug.parity.tensorrt_impl import TensorRTImpl, TensorRTProtoImpl
from trtplug.protolib.dtypes import storage
from trtplug.spec import OpSpec
from trtplug.variadic import plugin_tensors

__all__ = ["IMPLS", "Impl", "output_specs", "poisoned", "pyplugin_module"]


class PrototypeImpl(Impl):
    accepts_strided = True
    computes_in_float32 = True

    def __init__(self, name: str, on_gpu: bool) -> None:
        self.name, self.on_gpu = name, on_gpu

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        pyplugin_module(spec).forward(self.xp(), ins, outs, attrs)


class CudaImpl(Impl):
    name = "cuda"
    on_gpu = True
    runs_huge = True

    def unavailable(self, spec: OpSpec) -> str | None:
        module = native.native_module_for(spec.path)
        if module is None:
            return native.native_missing_reason(spec.path)
        if spec.key not in module.ops:
            return f"{module.__name__} has no binding for {spec.key!r}"
        return super().unavailable(spec)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        stream = self.xp().cuda.get_current_stream()
        native.run_binding(spec, native.native_module_for(spec.path), ins, outs, attrs, stream)


@cache
def _plugin_library(path: Path | None) -> Any:
    host = native.plugin_host_module()
    return host.PluginLibrary(str(path)) if host is not None and path is not None else None


@cache
def _library_creators(path: Path | None) -> frozenset[tuple[str, str]]:
    """(namespace, name) of each creator a plugin library registers; asked once per library and process."""
    library = _plugin_library(path)
    return frozenset((c["namespace"], c["name"]) for c in library.creators()) if library else frozenset()


class PluginImpl(Impl):
    name = "plugin"
    on_gpu = True
    runs_huge = True

    def unavailable(self, spec: OpSpec) -> str | None:
        library = native.plugin_library_for(spec.path)
        if _plugin_library(library) is None:
            return "plugin library or plugin host not built (TensorRT headers missing at build time?)"
        if (spec.plugin.namespace, spec.plugin.name) not in _library_creators(library):
            return f"the plugin library has no creator {spec.plugin.namespace}::{spec.plugin.name}"
        return super().unavailable(spec)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        host = native.plugin_host_module()
        host.clear_messages()
        built = _plugin_library(native.plugin_library_for(spec.path)).create(
            spec.plugin.name, spec.plugin.version, spec.plugin.namespace, fields=attrs
        )
        if built is None:
            raise RuntimeError(f"createPlugin returned null: {host.messages()}")
        runtime = built.round_trip()  # what TensorRT runs after deserializing an engine
        # Shape inputs reach a plugin as values at shape time only (addPluginV3's shapeInputs), never in
        # enqueue; a spec data_copy input comes again as a device tensor after the others, as the rewrite passes it.
        tensors = list(zip(plugin_tensors(spec, len(ins)), fill_absent(self.xp(), spec, ins), strict=False))
        regular = [i for t, i in tensors if not t.shape_input] + [i for t, i in tensors if t.data_copy]
        stream = self.xp().cuda.get_current_stream()
        shape_values = [[int(v) for v in self.xp().asnumpy(i).ravel()] for t, i in tensors if t.shape_input] or None
        if spec.size_tensors:
            run_bounded(self.xp(), spec, runtime, regular, outs, stream, shape_values)
        else:
            runtime.run(regular, outs, stream, shape_inputs=shape_values)


def run_bounded(
    xp: ModuleType, spec: OpSpec, runtime: Any, ins: list[Any], outs: list[Any], stream: Any, shape_values: Any
) -> None:
    """A plugin with size tensors, run as TensorRT runs it: outputs allocated at their upper bounds
    (poisoned), the actual shapes read back from the size tensors, the packed results copied into
    the exact-shaped `outs` (shaped by the reference), whose shapes must match."""
    bounds = runtime.output_bounds([tuple(i.shape) for i in ins], shape_values)
    dtypes = [o.dtype for o in outs] + ["int32"] * len(spec.size_tensors)
    bounded = [poisoned(xp, tuple(b), str(dt)) for b, dt in zip(bounds, dtypes, strict=True)]
    actual = runtime.run(ins, bounded, stream, shape_inputs=shape_values)
    for tensor, out, buffer, shape in zip(spec.outputs, outs, bounded, actual, strict=False):
        if tuple(shape) != tuple(out.shape):
            got = tuple(shape)
            raise RuntimeError(f"output {tensor.name!r}: the size tensors give shape {got}, expected {out.shape}")
        packed = storage(buffer).ravel()[: out.size].reshape(out.shape)  # at the front, as TensorRT reads it
        storage(out)[...] = packed


def fill_absent(xp: ModuleType, spec: OpSpec, ins: list[Any]) -> list[Any]:
    """Plugin inputs: an absent optional input before a present one becomes an empty tensor of its
    type, or the dtype an unbound constraint takes (Spec.unbound_dtype, as the rewrite's stand-in
    has it: GroupQueryAttention's absent fp16 past is fp16); trailing absent ones are already left out."""
    tensors = plugin_tensors(spec, len(ins))
    dtypes = {t.type: str(i.dtype) for t, i in zip(tensors, ins, strict=False) if i is not None}
    return [
        i
        if i is not None
        else poisoned(xp, (0,), dtypes.get(t.type) or spec.unbound_dtype(t.type, dtypes) or spec.dtypes_of(t)[0])
        for t, i in zip(tensors, ins, strict=False)
    ]


IMPLS: dict[str, Impl] = {
    "numpy": PrototypeImpl("numpy", on_gpu=False),
    "cupy": PrototypeImpl("cupy", on_gpu=True),
    "cuda": CudaImpl(),
    "plugin": PluginImpl(),
    "protoplugin": ProtoPluginImpl(),
    "tensorrt": TensorRTImpl(),
    "tensorrt_proto": TensorRTProtoImpl(),
}
