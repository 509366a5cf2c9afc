"""Where `trtplug new` writes: the trtplug repository (a built-in op) or a plugin project.

A plugin project is marked by `[tool.trtplug] package = "<name>"` in its pyproject.toml; the
repository by its shared plugin base (plugins/common/plugin_base.h) next to trtplug/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from trtplug.errors import TrtplugError
from trtplug.registry import project_package


@dataclass(frozen=True)
class Target:
    root: Path
    package: str  # "trtplug" for the repository, else the project's Python package
    exists: bool = True  # False: a new project, created with the op

    @property
    def is_repository(self) -> bool:
        return self.package == "trtplug"


def is_repository(root: Path) -> bool:
    return (root / "plugins" / "common" / "plugin_base.h").is_file() and (root / "trtplug" / "__init__.py").is_file()


def find_target(cwd: Path) -> Target:
    """The repository or plugin project that contains cwd."""
    for folder in (cwd, *cwd.parents):
        if is_repository(folder):
            return Target(folder, "trtplug")
        package = project_package(folder)
        if package:
            return Target(folder, package)
    raise TrtplugError(
        f"{cwd} is not inside the trtplug repository or a trtplug plugin project (create one with --project DIR)"
    )


def project_target(root: Path) -> Target:
    """--project DIR: an existing plugin project, or a new one (DIR absent or empty)."""
    package = project_package(root)
    if package:
        return Target(root, package)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise TrtplugError(
            f"--project {root}: exists and is not a trtplug plugin project (no [tool.trtplug] in pyproject.toml)"
        )
    package = re.sub(r"[^0-9a-zA-Z]+", "_", root.resolve().name).strip("_").lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", package) or package == "trtplug":
        raise TrtplugError(f"--project {root}: the folder name gives no valid Python package name ({package!r})")
    return Target(root, package, exists=False)
