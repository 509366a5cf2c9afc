"""Report what trtplug finds here: Python, ONNX tooling, TensorRT or TensorRT-RTX, the CUDA
toolkit, GPUs, and the compiled parts (module, plugin library, plugin host, header source)."""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import platform
import re
import shutil
import subprocess
import sys
from typing import Any

from trtplug import __version__

# (label, candidate distribution names): the first installed one is reported.
PACKAGES = {
    "numpy": ("numpy",),
    "onnx": ("onnx",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "onnx-graphsurgeon": ("onnx-graphsurgeon", "onnx_graphsurgeon"),
    "tensorrt": ("tensorrt", "tensorrt-cu13", "tensorrt-cu12"),
    "tensorrt-rtx": ("tensorrt-rtx", "tensorrt_rtx"),
    "cupy": ("cupy", "cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def package_version(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _run(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def cuda_toolkit() -> str:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return "nvcc not found on PATH"
    out = _run([nvcc, "--version"]) or ""
    match = re.search(r"release ([\d.]+)", out)
    return f"{match.group(1) if match else 'unknown version'} ({nvcc})"


def gpus() -> str:
    from trtplug.native import cuda_device_count

    smi = shutil.which("nvidia-smi")
    listed = _run([smi, "-L"]) if smi else None
    names = [line.split(" (UUID")[0] for line in (listed or "").splitlines() if line.strip()]
    count = cuda_device_count()
    if names:
        return "; ".join(names)
    return f"{count} CUDA device(s) visible" if count else "none (no NVIDIA driver/GPU visible)"


def collect() -> dict[str, Any]:
    from trtplug.native import build_info, native_status
    from trtplug.registry import default_registry

    info = build_info()
    facts: dict[str, Any] = {
        "trtplug": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
    }
    facts.update({label: package_version(names) for label, names in PACKAGES.items()})
    facts["cuda_toolkit"] = cuda_toolkit()
    facts["gpu"] = gpus()
    facts.update(native_status())
    facts["cuda_architectures"] = info.get("cuda_architectures", "unknown (no build info)")
    facts["tensorrt_headers"] = info.get("tensorrt_header_source", "unknown (no build info)")
    facts["tensorrt_header_version"] = info.get("tensorrt_header_version") or "-"
    facts["registered_ops"] = len(default_registry())
    return facts


def run(args: argparse.Namespace) -> int:
    facts = collect()
    if args.json:
        from trtplug.report import print_json

        print_json("doctor", {"facts": facts})
        return 0
    width = max(map(len, facts))
    for key, value in facts.items():
        print(f"{key.ljust(width)}  {value}")
    return 0
