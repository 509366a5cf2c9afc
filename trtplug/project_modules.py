"""Python files of a plugin PROJECT (a folder made by `trtplug new`, not a package): its
pyplugins/<key>.py prototypes and graph_rewrites/<rule>.py rules, loaded from their paths.

Built-in ones are ordinary modules (trtplug.pyplugins, trtplug.graph_rewrites). A project's are
loaded under a name that includes a digest of the file's full path, so two projects with an op or
a rule of the same name (or a project shadowing a built-in) never share a sys.modules entry.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_project_module(path: Path, kind: str) -> ModuleType:
    """The module at `path` (kind: "pyplugins" or "graph_rewrites"), loaded once per path."""
    path = path.resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"trtplug_project_{kind}_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportError(f"{path}: not a loadable Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # before executing, so dataclasses and pickling can find it
    try:
        loader_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_builtin(module: str) -> ModuleType:
    """trtplug.<module>, with a clear message when a source checkout was never installed."""
    try:
        return importlib.import_module(f"trtplug.{module}")
    except ModuleNotFoundError as exc:
        package = f"trtplug.{module.split('.')[0]}"
        if exc.name != package:  # the package is there; the module itself is missing
            raise
        raise ImportError(
            f"{exc.name} is not installed: install the source checkout (scripts/setup.sh runs "
            "`pip install -e .`), which maps the top-level folder into the trtplug package"
        ) from exc
