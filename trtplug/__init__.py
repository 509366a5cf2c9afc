"""trtplug: run ONNX models TensorRT cannot import, through IPluginV3 plugins.

Heavy optional dependencies (TensorRT, CuPy, ONNX Runtime, the compiled modules) load lazily:
importing trtplug or running `trtplug --help` needs none of them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pathlib import Path as _Path

# A source checkout used from its folder without installing it: the top-level graph_rewrites/ and
# pyplugins/ are this package's subpackages, as the wheel maps them (pyproject wheel.packages), so
# the repository root joins the package path. An installed trtplug has no such siblings.
_ROOT = _Path(__file__).resolve().parent.parent
if all((_ROOT / sub / "__init__.py").is_file() for sub in ("graph_rewrites", "pyplugins")):
    __path__.append(str(_ROOT))
