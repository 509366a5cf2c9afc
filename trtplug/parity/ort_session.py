"""ONNX Runtime CPU sessions as parity runs them: the model as written (graph optimizations off, so
nothing compared is fused or reordered first), and no log output below fatal: a failure reaches
the caller as an exception, which trtplug reports in its own words (ONNX Runtime's error log line
would repeat it, in red, before trtplug's report)."""

from __future__ import annotations

from typing import Any


def cpu_session_options() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # fatal only
    return options


def cpu_session(source: bytes | str, options: Any = None) -> Any:
    """A CPU InferenceSession on a serialized model (or a path), with `options` or the above."""
    import onnxruntime as ort

    options = cpu_session_options() if options is None else options
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
