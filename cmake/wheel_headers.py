"""What the header fetchers share (fetch_tensorrt_headers.py, fetch_cudnn_headers.py): a pinned
wheel downloaded with pip, its sha256 checked, and the files under one prefix copied out. Errors
are one-line SystemExit messages naming the wheel."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path


def download(requirement: str, pattern: str, tmp: Path, pip_args: Sequence[str] = ()) -> Path:
    """The one wheel matching `pattern` that `pip download requirement` saved into tmp."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *pip_args]
    try:
        subprocess.run([*cmd, "-d", str(tmp), requirement], check=True, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError as err:
        raise SystemExit(f"pip download {requirement} failed (exit {err.returncode}): see pip's message") from None
    wheels = sorted(tmp.glob(pattern))
    if len(wheels) != 1:
        raise SystemExit(f"pip download {requirement}: expected one {pattern} in {tmp}, found {len(wheels)}")
    return wheels[0]


def check_hash(wheel: Path, sha256: str) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{wheel.name}: sha256 {digest} != expected {sha256}")


def extract(wheel: Path, prefix: str, dest: Path, flat: bool = False, skip: Iterable[str] = ()) -> list[str]:
    """Copies the files under `prefix` (or the one file `prefix` names) into dest, keeping their
    paths below it; `flat`: only those directly under it. Returns the names written."""
    skipped, names = set(skip), []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            name = info.filename.removeprefix(prefix) or Path(prefix).name
            if ".." in name or name in skipped or (flat and "/" in name):
                continue
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(zf.read(info))
            names.append(name)
    return names
