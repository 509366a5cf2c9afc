"""Access to the graph passes (graph_rewrites/, installed as trtplug.graph_rewrites).

In an installed trtplug they import as trtplug.graph_rewrites; in a source checkout that is not
installed, the top-level graph_rewrites/ folder is loaded under the same name, so the package's
relative imports and rule discovery work the same both ways.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "trtplug.graph_rewrites"


def graph_rewrites() -> ModuleType:
    try:
        return importlib.import_module(PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != PACKAGE:
            raise
    folder = Path(__file__).resolve().parent.parent / "graph_rewrites"
    spec = importlib.util.spec_from_file_location(
        PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"{folder}: graph_rewrites package not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


def submodule(name: str) -> ModuleType:
    """trtplug.graph_rewrites.<name> (e.g. "pipeline"), however the package is found."""
    graph_rewrites()
    return importlib.import_module(f"{PACKAGE}.{name}")
