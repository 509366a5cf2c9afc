"""Shared fixtures: the run's input seed (printed for reproduction) and GPU gating."""

from __future__ import annotations

import functools
import os
import secrets
import sys

import pytest

SEED = int(os.environ.get("TRTPLUG_SEED", secrets.randbits(31)))
# pytest-xdist's workers start after this module loads in the controller and inherit its
# environment: one seed for the whole run, the one the header prints (each drew its own before).
os.environ["TRTPLUG_SEED"] = str(SEED)


def pytest_report_header(config: pytest.Config) -> str:
    return f"trtplug parity seed: {SEED} (reproduce with TRTPLUG_SEED={SEED})"


@functools.cache
def gpu_unavailable_reason() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (GPU tests run on a CUDA machine: scripts/gpu_test.sh)"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "no CUDA device visible"
    except Exception as exc:  # CUDA driver missing on CPU-only machines
        return f"no usable CUDA driver/GPU ({type(exc).__name__})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = gpu_unavailable_reason()
    if reason is None:
        return
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"GPU test skipped: {reason}"))


@pytest.fixture(autouse=True)
def _device_fault_stays_with_its_test():
    """A kernel's illegal access surfaces at the next synchronization, often in a later test of
    the same worker, and the dead context then fails every test after it. Synchronizing after each
    test (where CuPy is loaded on a GPU machine) makes the test that launched the faulting kernel
    the first to fail, by name."""
    yield
    cupy = sys.modules.get("cupy")
    if cupy is None or gpu_unavailable_reason() is not None:
        return
    try:
        cupy.cuda.runtime.deviceSynchronize()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.fail(f"this test left a CUDA fault behind: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def seed() -> int:
    return SEED


def require_creators(library, *names: str) -> None:
    """Skip (fail under TRTPLUG_REQUIRE_NATIVE=1) when the plugin library predates these plugins."""
    have = {c["name"] for c in library.creators()}
    require_built("/".join(names), set(names) <= have, "the plugin library predates it: rebuild it")


def require_built(what: str, available: bool, why: str) -> None:
    """Skip when a compiled part is missing, unless TRTPLUG_REQUIRE_NATIVE=1 (CI): then fail."""
    if available:
        return
    message = f"{what} not available: {why}"
    if os.environ.get("TRTPLUG_REQUIRE_NATIVE") == "1":
        pytest.fail(message + " (TRTPLUG_REQUIRE_NATIVE=1)")
    pytest.skip(message)


# ---- the compiled parts, shared by the native, plugin-host and GPU test modules ----------------


@pytest.fixture(scope="session")
def cp():
    import cupy

    return cupy


@pytest.fixture(scope="session")
def ext():
    """trtplug._native: the CUDA launchers' pybind11 bindings."""
    from trtplug import native

    module = native.native_module()
    require_built("trtplug._native", module is not None, native.native_status()["native_module"])
    return module


@pytest.fixture(scope="session")
def host():
    """trtplug._plugin_host: drives a plugin library through the IPluginV3 lifecycle."""
    from trtplug import native

    module = native.plugin_host_module()
    require_built("trtplug._plugin_host", module is not None, native.native_status()["plugin_host"])
    return module


@pytest.fixture(scope="session")
def library(host):
    """libtrtplug_plugins.so loaded by the plugin host."""
    from trtplug import native

    path = native.plugin_library_path()
    require_built("libtrtplug_plugins.so", path is not None, native.native_status()["plugin_library"])
    return host.PluginLibrary(str(path))


@pytest.fixture
def log(host):
    """The host's captured plugin log, emptied before the test."""
    host.clear_messages()
    return host.messages
