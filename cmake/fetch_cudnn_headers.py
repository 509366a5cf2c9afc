"""Extract the cuDNN 9 and cudnn-frontend headers from their PyPI wheels into a build folder.

cudnn-frontend (MIT, header-only) ships include/ in nvidia-cudnn-frontend; cuDNN's own headers
(NVIDIA SLA) are nvidia/cudnn/include/ of nvidia-cudnn-cu13 9.19 (the cuDNN torch 2.11 / CUDA 13
installs and loads at run time). Both wheels are fetched with pip, sha256-checked, and only the headers are
copied out to DEST/include (about 4 MB; never committed, never redistributed; the folder must be
named include: the frontend includes its own headers as ../include/...). Only the headers are used: the
plugin library dlopen's the user's libcudnn.so.9 at run time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # wheel_headers.py beside this file
from wheel_headers import check_hash, download, extract

# (requirement, wheel file, sha256, prefix inside the wheel); the frontend wheel is pinned to one
# platform tag because only its headers are used.
WHEELS = [
    (
        "nvidia-cudnn-frontend==1.32.0",
        "nvidia_cudnn_frontend-1.32.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "c6006556017a4d1c914c52a556c71b1267f2d6a0500f742e7b4edef539878df0",
        "include/",
    ),
    (
        # the cuDNN that torch 2.11 (CUDA 13) installs and loads: headers and runtime of one version
        # (the first GPU run, 9.28's headers over torch's 9.19 runtime, crashed in graph validation)
        "nvidia-cudnn-cu13==9.19.0.56",
        "nvidia_cudnn_cu13-9.19.0.56-py3-none-manylinux_2_27_x86_64.whl",
        "d20e1734305e9d68889a96e3f35094d733ff1f83932ebe462753973e53a572bf",
        "nvidia/cudnn/include/",
    ),
    # nvrtc.h only: the frontend's headers include it (its experimental engines dlopen NVRTC)
    (
        "nvidia-cuda-nvrtc==13.0.88",
        "nvidia_cuda_nvrtc-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl",
        "ad9b6d2ead2435f11cbb6868809d2adeeee302e9bb94bcf0539c7a40d80e8575",
        "nvidia/cu13/include/nvrtc.h",
    ),
]
PLATFORM = ["--python-version", "3.11", "--implementation", "cp"] + [
    # pip takes only the listed tags: every one the three wheels use (2_27 is the cuDNN wheel's)
    arg
    for tag in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_12_x86_64")
    for arg in ("--platform", tag)
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--wheel-dir", type=Path, help="take the wheels from here instead of pip download")
    args = parser.parse_args()
    include = args.dest / "include"
    source = ", ".join(f"{r} (sha256 {s[:12]}... checked)" for r, _, s, _ in WHEELS)
    stamp = args.dest / "TRTPLUG_HEADER_SOURCE.txt"
    if stamp.exists() and stamp.read_text() == source + "\n" and (include / "cudnn_frontend.h").exists():
        print(include)
        return 0
    shutil.rmtree(include, ignore_errors=True)  # other pinned versions, or a fetch cut short
    stamp.unlink(missing_ok=True)
    include.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for requirement, filename, sha256, prefix in WHEELS:
            local = args.wheel_dir / filename if args.wheel_dir else None
            wheel = local if local and local.exists() else download(requirement, filename, Path(tmp), PLATFORM)
            check_hash(wheel, sha256)
            if not extract(wheel, prefix, include):
                raise SystemExit(f"{wheel.name}: no headers under {prefix}")
    stamp.write_text(source + "\n")
    print(include)
    return 0


if __name__ == "__main__":
    sys.exit(main())
