"""Helpers for the tests that build scaffolded ops: toolchain checks, a copy of the repository,
and running Python on that copy rather than on the installed trtplug."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CUDA_ARCH = "90-real"  # one architecture keeps the builds in CI short
_NOT_COPIED = {".git", ".venv", ".cache", "build", "reports", "__pycache__", ".pytest_cache", ".ruff_cache"}


def require_toolchain() -> str:
    """pybind11's CMake dir; skips without cmake/nvcc (CI has them: scripts/setup.sh needs them)."""
    if not (shutil.which("cmake") and shutil.which("nvcc")):
        pytest.skip("cmake and nvcc are needed to build scaffolded ops")
    return pytest.importorskip("pybind11").get_cmake_dir()


def copy_repository(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=lambda _, names: [n for n in names if n in _NOT_COPIED])
    return dest


def run_python(code: str, *, cwd: Path, source: Path | None = None, env: dict[str, str] | None = None, **kw):
    """Runs `code` in a child Python. With `source`, trtplug is imported from that checkout: the
    interpreter starts without site processing, so an editable install's import hooks (.pth)
    cannot redirect `import trtplug` to the checkout the tests run from."""
    child_env = {**os.environ, **(env or {})}
    if source is None:
        cmd = [sys.executable, "-c", code]
    else:
        boot = f"import sys; sys.path[:0] = [{str(source)!r}, {sysconfig.get_paths()['purelib']!r}]\n"
        cmd = [sys.executable, "-S", "-c", boot + code]
    return subprocess.run(cmd, cwd=cwd, env=child_env, capture_output=True, text=True, check=False, **kw)


def cli(*args: str) -> str:
    """Python code running the trtplug CLI with `args`, exiting with its code."""
    return f"import sys\nfrom trtplug.cli import main\nsys.exit(main({list(args)!r}))\n"


def pytest_code(*args: str) -> str:
    return f"import sys, pytest\nsys.exit(pytest.main({[*args, '-p', 'no:cacheprovider']!r}))\n"


FAKE_ARRAY = """
class FakeDeviceArray:
    def __init__(self, shape, typestr="<f4"):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0, False), "version": 3}
"""
