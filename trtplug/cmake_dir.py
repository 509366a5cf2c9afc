"""Where trtplug's CMake helpers are, for plugin projects: `python -m trtplug.cmake_dir` prints it.

A project's CMakeLists.txt adds the folder to CMAKE_MODULE_PATH and includes TrtplugProject,
which finds the shared sources and headers (plugins/common) relative to itself.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def cmake_dir() -> Path:
    """The source checkout's cmake/ (editable installs, tests), else the copy in the package."""
    source = _PACKAGE_DIR.parent / "cmake"
    if (source / "TrtplugProject.cmake").is_file():
        return source
    return _PACKAGE_DIR / "cmake"


if __name__ == "__main__":
    print(cmake_dir())
