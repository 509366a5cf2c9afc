"""trtplug: run ONNX models TensorRT cannot import, through IPluginV3 plugins.

Heavy optional dependencies (TensorRT, CuPy, ONNX Runtime, the compiled modules) load lazily:
importing trtplug or running `trtplug --help` needs none of them.
"""

from __future__ import annotations

__version__ = "0.1.0"
