"""Extract TensorRT's plugin headers from the kernel-lens==2.0.1 wheel into a build folder.

The wheel carries NVIDIA's Apache-2.0 TensorRT 10.14 headers. It is fetched with pip, its
sha256 checked, and the headers copied out (never committed). Its NvInferPlugin.h is a stub
and is left out so that nothing includes it by accident.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # wheel_headers.py beside this file
from wheel_headers import check_hash, download, extract

WHEEL = "kernel-lens==2.0.1"
SHA256 = "07cc714e8b5e7f34b672f7c7fad93febe7c747be5837ba276b1527370134ffe0"
PREFIX = "kernel_lens/include/tensorrt/"
SKIP = {"NvInferPlugin.h"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--wheel", type=Path, help="use this local wheel instead of pip download")
    args = parser.parse_args()
    if (args.dest / "NvInferRuntime.h").exists():
        print(args.dest)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(WHEEL, "kernel_lens-*.whl", Path(tmp))
        check_hash(wheel, SHA256)
        names = extract(wheel, PREFIX, args.dest, flat=True, skip=SKIP)
    if "NvInferRuntime.h" not in names:
        raise SystemExit(f"{wheel}: no NvInferRuntime.h under {PREFIX}")
    (args.dest / "TRTPLUG_HEADER_SOURCE.txt").write_text(f"{WHEEL} wheel (sha256 {SHA256[:12]}... checked)\n")
    print(args.dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
