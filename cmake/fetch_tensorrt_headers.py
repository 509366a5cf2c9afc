"""Extract TensorRT's plugin headers from the kernel-lens==2.0.1 wheel into a build folder.

The wheel carries NVIDIA's Apache-2.0 TensorRT 10.14 headers. It is fetched with pip, its
sha256 checked, and the headers copied out (never committed). Its NvInferPlugin.h is a stub
and is left out so that nothing includes it by accident.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "kernel-lens==2.0.1"
SHA256 = "07cc714e8b5e7f34b672f7c7fad93febe7c747be5837ba276b1527370134ffe0"
PREFIX = "kernel_lens/include/tensorrt/"
SKIP = {"NvInferPlugin.h"}


def download_wheel(tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(tmp), WHEEL]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = list(tmp.glob("kernel_lens-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one kernel-lens wheel in {tmp}, found {wheels}")
    return wheels[0]


def check_hash(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest} != expected {SHA256}")


def extract_headers(wheel: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename.removeprefix(PREFIX)
            if not info.filename.startswith(PREFIX) or "/" in name or name in SKIP:
                continue
            (dest / name).write_bytes(zf.read(info))
            names.append(name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--wheel", type=Path, help="use this local wheel instead of pip download")
    args = parser.parse_args()
    if (args.dest / "NvInferRuntime.h").exists():
        print(args.dest)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        check_hash(wheel)
        names = extract_headers(wheel, args.dest)
    if "NvInferRuntime.h" not in names:
        raise SystemExit(f"{wheel}: no NvInferRuntime.h under {PREFIX}")
    (args.dest / "TRTPLUG_HEADER_SOURCE.txt").write_text(f"{WHEEL} wheel (sha256 {SHA256[:12]}... checked)\n")
    print(args.dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
