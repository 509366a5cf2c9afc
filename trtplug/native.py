"""Locating and loading the compiled parts: trtplug._native (CUDA launchers), the IPluginV3
library libtrtplug_plugins.so and the plugin host trtplug._plugin_host.

TRTPLUG_NATIVE_DIR names a build folder searched first (a plain CMake build, for development).
Loading never raises: callers get None and a reason from `native_status()`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy

from trtplug.protolib.dtypes import BF16, Bf16Device  # Bf16Device: the "<V2" wrapper binding.cpp names

_PACKAGE_DIR = Path(__file__).resolve().parent
PLUGIN_LIBRARY_NAME = "libtrtplug_plugins.so"
_errors: dict[str, str] = {}


def _dev_dir() -> Path | None:
    value = os.environ.get("TRTPLUG_NATIVE_DIR")
    return Path(value) if value else None


def _load_extension(name: str) -> ModuleType | None:
    dev = _dev_dir()
    try:
        if dev is not None:
            for candidate in sorted(dev.rglob(f"{name}.*.so")) + sorted(dev.rglob(f"{name}.so")):
                spec = importlib.util.spec_from_file_location(f"trtplug.{name}", candidate)
                if spec and spec.loader:
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[f"trtplug.{name}"] = module
                    spec.loader.exec_module(module)
                    return module
        return importlib.import_module(f"trtplug.{name}")
    except ImportError as exc:
        _errors[name] = str(exc)
        return None


@cache
def native_module() -> ModuleType | None:
    """trtplug._native, or None when it was not built or does not load."""
    return _load_extension("_native")


@cache
def plugin_host_module() -> ModuleType | None:
    """trtplug._plugin_host, or None when TensorRT headers were missing at build time."""
    return _load_extension("_plugin_host")


def _search_dirs() -> list[Path]:
    dirs = [_PACKAGE_DIR]
    module = native_module()
    if module is not None and getattr(module, "__file__", None):
        dirs.insert(0, Path(module.__file__).resolve().parent)
    dev = _dev_dir()
    return [dev, *dirs] if dev is not None else dirs


def plugin_library_path() -> Path | None:
    """Path of libtrtplug_plugins.so, for trtexec --staticPlugins or IPluginRegistry.loadLibrary."""
    return next((f / PLUGIN_LIBRARY_NAME for f in _search_dirs() if (f / PLUGIN_LIBRARY_NAME).is_file()), None)


def build_info() -> dict[str, Any]:
    """Facts CMake recorded at build time (header source, CUDA archs, plugin library status)."""
    for folder in _search_dirs():
        path = folder / "build_info.json"
        if path.is_file():
            return json.loads(path.read_text())
    return {}


def native_status() -> dict[str, str]:
    """Why each compiled part is or is not available here."""
    module = native_module()
    host = plugin_host_module()
    library = plugin_library_path()
    return {
        "native_module": getattr(module, "__file__", "") or f"not available: {_errors.get('_native', 'not built')}",
        "plugin_library": str(library) if library else "not built (TensorRT headers missing at build time?)",
        "plugin_host": getattr(host, "__file__", "") or f"not available: {_errors.get('_plugin_host', 'not built')}",
    }


@cache
def project_native_module(package: str) -> ModuleType | None:
    """<package>._native of a plugin project, or None when it is not installed or does not load."""
    try:
        return importlib.import_module(f"{package}._native")
    except ImportError as exc:
        _errors[f"{package}._native"] = str(exc)
        return None


def native_module_for(spec_path: Path) -> ModuleType | None:
    """The _native module holding the binding of the op whose spec is at spec_path."""
    from trtplug.registry import owning_package

    package = owning_package(spec_path)
    if package is None:
        return None
    return native_module() if package == "trtplug" else project_native_module(package)


def native_missing_reason(spec_path: Path) -> str:
    from trtplug.registry import owning_package

    package = owning_package(spec_path)
    if package is None:
        return f"{spec_path.parent.parent} belongs to no trtplug plugin project (no compiled parts)"
    name = f"{package}._native"
    why = _errors.get("_native" if package == "trtplug" else name, "not built")
    return f"{'trtplug._native' if package == 'trtplug' else name} is not available: {why}"


def plugin_library_for(spec_path: Path) -> Path | None:
    """The IPluginV3 library with the op's creator: libtrtplug_plugins.so for built-ins,
    lib<package>_plugins.so next to a plugin project's _native module."""
    from trtplug.registry import owning_package

    package = owning_package(spec_path)
    if package == "trtplug":
        return plugin_library_path()
    module = project_native_module(package) if package else None
    if module is None or not getattr(module, "__file__", None):
        return None
    path = Path(module.__file__).resolve().parent / f"lib{package}_plugins.so"
    return path if path.is_file() else None


def cuda_device_count() -> int:
    """Visible CUDA devices via the native module's runtime (0 without module, driver or GPU)."""
    module = native_module()
    return int(module.cuda_device_count()) if module is not None else 0


def run_binding(
    spec: Any,
    module: ModuleType,
    inputs: list[Any],
    outputs: list[Any],
    attrs: dict[str, Any],
    stream: Any,
    check_sizes: bool = True,
) -> None:
    """Runs op `spec`'s binding the one way every op is called (plugins/common/op_binding.h):
    ext.<key>(inputs, outputs + size tensors, attrs, stream). The size tensors are allocated here,
    poisoned, and checked against the prototype's size_tensor_values() afterwards (check_sizes=False:
    neither, for a benchmark's timed calls, where a poisoning fill and a read-back would add kernels
    and a sync to the launcher's time); only the spec's
    attributes are passed (an ONNX node may carry others the plugin does not take). bf16 arrays
    (ml_dtypes.bfloat16 on the host) travel as Bf16Device ("<V2"); host bf16 outputs are filled in place."""
    import cupy

    from trtplug.protolib.size_tensors import check_counts, count_buffer
    from trtplug.prototypes import pyplugin_module

    counts = [count_buffer(cupy) if check_sizes else cupy.empty(1, cupy.int32) for _ in spec.size_tensors]
    names = {a.name for a in spec.attributes}
    plugin_attrs = {k: v for k, v in attrs.items() if k in names and v is not None}
    device_ins, device_outs = bf16_on_device(cupy, inputs), bf16_on_device(cupy, outputs)
    getattr(module, spec.key)(device_ins, device_outs + counts, plugin_attrs, stream)
    copied_back = [(h, d) for h, d in zip(outputs, device_outs, strict=True) if d is not h]
    if copied_back:
        cupy.cuda.runtime.deviceSynchronize()  # the binding ran on `stream`, whatever kind it is
    for host, device in copied_back:
        host.view(numpy.uint16)[...] = device.bits.get()
    if counts and check_sizes:
        expected = pyplugin_module(spec).size_tensor_values(outputs, attrs)
        check_counts(cupy, cupy.concatenate(counts), expected, spec.key)


def bf16_on_device(xp: ModuleType, arrays: list[Any]) -> list[Any]:
    """The arrays as a binding takes them: host bf16 arrays copied to the device as Bf16Device
    (uint16 storage, "<V2" interface); everything else (Bf16Device included) unchanged."""
    return [Bf16Device.from_host(xp, a) if isinstance(a, numpy.ndarray) and a.dtype == BF16 else a for a in arrays]
