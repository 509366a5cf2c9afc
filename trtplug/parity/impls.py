"""Implementations under test, each run on poisoned outputs and returned as NumPy arrays.

numpy   the pyplugins prototype on the CPU (how plugin nodes run without a GPU)
cupy    the same prototype on the GPU
cuda    the CUDA launcher through trtplug._native (the kernel the IPluginV3 plugin runs)
plugin  the IPluginV3 plugin from libtrtplug_plugins.so, driven by the plugin host: created from
        fields as the ONNX parser passes them, serialized and re-created for the runtime phase,
        then configured and enqueued as TensorRT does
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from trtplug import native
from trtplug.parity.cases import Case, present
from trtplug.registry import builtin_plugins_dir
from trtplug.shape_rules import apply_rule
from trtplug.spec import OpSpec


@cache
def pyplugin_module(spec: OpSpec) -> ModuleType:
    """pyplugins/<key>.py beside the spec's plugins/ folder (trtplug.pyplugins for built-ins)."""
    if spec.path.parent.parent.resolve() == builtin_plugins_dir().resolve():
        try:
            return importlib.import_module(f"trtplug.pyplugins.{spec.key}")
        except ModuleNotFoundError:
            pass  # source checkout on sys.path without an install: load the file below
    path = spec.path.parent.parent.parent / "pyplugins" / f"{spec.key}.py"
    if not path.is_file():
        raise ImportError(f"{path}: no CuPy prototype for op {spec.key!r}")
    loader_spec = importlib.util.spec_from_file_location(f"trtplug_pyplugins_{spec.key}", path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return module


def output_specs(spec: OpSpec, case: Case, dtype: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of each output, from the spec's shape rules and type constraints."""
    by_constraint = {t.type: dtype for t in spec.inputs}
    return [(t.name, apply_rule(t.shape, case.shapes), by_constraint.get(t.type, t.type)) for t in spec.outputs]


def poisoned(xp: ModuleType, shape: tuple[int, ...], dtype: str) -> Any:
    """An output buffer every element of which fails comparison unless overwritten."""
    if dtype.startswith("float"):
        return xp.full(shape, xp.nan, dtype=dtype)
    if dtype == "bool":
        return xp.ones(shape, dtype=bool)  # no value is invalid for bool: ones at least catch unwritten False
    return xp.full(shape, np.iinfo(dtype).min + 7, dtype=dtype)


@lru_cache(maxsize=1)
def _cupy() -> ModuleType | None:
    try:
        import cupy

        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # ImportError, or CUDA driver errors on GPU-less machines
        return None


class Impl:
    name = ""
    on_gpu = False

    def unavailable(self, spec: OpSpec) -> str | None:
        """Why this implementation cannot run `spec` here, or None."""
        if self.on_gpu and _cupy() is None:
            return "no CUDA GPU with CuPy here"
        try:
            pyplugin_module(spec)
        except ImportError as exc:
            return str(exc)
        return None

    def xp(self) -> ModuleType:
        return _cupy() if self.on_gpu else np

    def run(self, spec: OpSpec, case: Case, inputs: dict[str, np.ndarray], dtype: str) -> list[np.ndarray]:
        xp = self.xp()
        ins = [None if t is None else xp.asarray(inputs[t.name]) for t in present(spec, case)]
        while ins and ins[-1] is None:
            ins.pop()
        outs = [poisoned(xp, shape, dt) for _, shape, dt in output_specs(spec, case, dtype)]
        self.execute(spec, ins, outs, case.attrs)
        if self.on_gpu:
            xp.cuda.get_current_stream().synchronize()
            return [xp.asnumpy(o) for o in outs]
        return outs

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        raise NotImplementedError


class PrototypeImpl(Impl):
    def __init__(self, name: str, on_gpu: bool) -> None:
        self.name, self.on_gpu = name, on_gpu

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        pyplugin_module(spec).forward(self.xp(), ins, outs, attrs)


class CudaImpl(Impl):
    name = "cuda"
    on_gpu = True

    def unavailable(self, spec: OpSpec) -> str | None:
        module = native.native_module_for(spec.path)
        if module is None:
            return native.native_missing_reason(spec.path)
        if spec.key not in module.ops:
            return f"{module.__name__} has no binding for {spec.key!r}"
        return super().unavailable(spec)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        stream = self.xp().cuda.get_current_stream()
        pyplugin_module(spec).native(native.native_module_for(spec.path), ins, outs, attrs, stream)


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
        runtime.run([i for i in ins if i is not None], outs, self.xp().cuda.get_current_stream())


IMPLS: dict[str, Impl] = {
    "numpy": PrototypeImpl("numpy", on_gpu=False),
    "cupy": PrototypeImpl("cupy", on_gpu=True),
    "cuda": CudaImpl(),
    "plugin": PluginImpl(),
}
