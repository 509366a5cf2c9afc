"""cmake/wheel_headers.py, which both header fetchers use: what extract copies out of a wheel, and
one-line errors (no traceback) for a bad hash and a failed or ambiguous download."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cmake"))
import wheel_headers


def _wheel(tmp_path: Path) -> Path:
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name in ("inc/a.h", "inc/sub/b.h", "inc/skip.h", "inc/../evil.h", "other/c.h", "single/nvrtc.h"):
            zf.writestr(name, name)
    return path


def test_extract_keeps_paths_below_the_prefix(tmp_path: Path) -> None:
    names = wheel_headers.extract(_wheel(tmp_path), "inc/", tmp_path / "out", skip={"skip.h"})
    assert sorted(names) == ["a.h", "sub/b.h"]
    assert (tmp_path / "out" / "sub" / "b.h").read_text() == "inc/sub/b.h"


def test_extract_flat_leaves_subfolders_and_a_file_prefix_names_one_file(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    assert wheel_headers.extract(wheel, "inc/", tmp_path / "flat", flat=True) == ["a.h", "skip.h"]
    assert wheel_headers.extract(wheel, "single/nvrtc.h", tmp_path / "one") == ["nvrtc.h"]


def test_a_wrong_hash_is_a_one_line_error_naming_the_wheel(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    wheel_headers.check_hash(wheel, hashlib.sha256(wheel.read_bytes()).hexdigest())
    with pytest.raises(SystemExit, match=r"pkg-1.0-py3-none-any.whl: sha256 .* != expected 00"):
        wheel_headers.check_hash(wheel, "00")


def test_download_errors_name_the_requirement(tmp_path: Path, monkeypatch) -> None:
    def failing(cmd, **kwargs):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(SystemExit, match=r"pip download pkg==1.0 failed \(exit 1\)"):
        wheel_headers.download("pkg==1.0", "pkg-*.whl", tmp_path)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kwargs: None)
    with pytest.raises(SystemExit, match=r"expected one pkg-\*.whl .* found 0"):
        wheel_headers.download("pkg==1.0", "pkg-*.whl", tmp_path)
