"""CMake configuration without TensorRT headers: the build must still configure, say clearly
that the plugin library is skipped, and record why in build_info.json (what doctor reports)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def configure_without_headers(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    if not (shutil.which("cmake") and shutil.which("nvcc")):
        pytest.skip("cmake and nvcc are needed to configure the build")
    pybind11 = pytest.importorskip("pybind11")
    build = tmp_path_factory.mktemp("no-headers-build")
    cmd = [
        "cmake",
        "-S",
        str(ROOT),
        "-B",
        str(build),
        "-DCMAKE_CUDA_ARCHITECTURES=90",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
        "-UTensorRT_ROOT",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("TensorRT_ROOT", "CUDAARCHS")}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr, build


def test_configure_warns_that_plugin_library_is_skipped(configure_without_headers) -> None:
    output = " ".join(configure_without_headers[0].split())  # CMake wraps warning text
    assert "plugin library is SKIPPED" in output
    assert "TensorRT_ROOT" in output  # and says how to fix it


def test_build_info_records_the_skip(configure_without_headers) -> None:
    _, build = configure_without_headers
    info = json.loads((build / "build_info.json").read_text())
    assert info["plugin_library"].startswith("skipped")
    assert info["tensorrt_include_dir"] == "" and info["cuda_architectures"] == "90"
