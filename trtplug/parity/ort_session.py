"""ONNX Runtime CPU sessions as parity runs them: the model as written (graph optimizations off, so
nothing compared is fused or reordered first), and no log output below fatal: a failure reaches
the caller as an exception, which trtplug reports in its own words (ONNX Runtime's error log line
would repeat it, in red, before trtplug's report).

A model whose IR version is newer than the installed ONNX Runtime reads (onnx 1.23 writes IR 14,
ONNX Runtime 1.30 reads up to 13; ONNX Runtime's own quantizer saves such files) is loaded again
with its IR version lowered in memory: the version is a header, and any feature of the newer IR
the model really uses is still refused by ONNX Runtime, in its own words. The file is unchanged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import onnx

_IR_TOO_NEW = re.compile(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)")


def cpu_session_options() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # fatal only
    return options


def cpu_session(source: bytes | str, options: Any = None) -> Any:
    """A CPU InferenceSession on a serialized model (or a path), with `options` or the above."""
    return cpu_session_noted(source, options)[0]


def cpu_session_noted(source: bytes | str, options: Any = None) -> tuple[Any, str]:
    """`cpu_session`, and a note saying when the model's IR version had to be lowered ("" if not)."""
    import onnxruntime as ort

    options = cpu_session_options() if options is None else options
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"]), ""
    except Exception as exc:  # re-raised as is unless the IR version alone was refused
        versions = _IR_TOO_NEW.search(str(exc))
        if versions is None:
            raise
    declared, readable = (int(v) for v in versions.groups())
    lowered = _with_ir_version(source, readable, options)
    note = f"IR version {declared} read as {readable}, the newest ONNX Runtime {ort.__version__} reads"
    return ort.InferenceSession(lowered, options, providers=["CPUExecutionProvider"]), note


def _with_ir_version(source: bytes | str, ir_version: int, options: Any) -> bytes:
    """The model serialized with `ir_version`; a file's external weights stay on disk, found
    through the session's external-initializer folder."""
    if isinstance(source, bytes | bytearray):
        model = onnx.ModelProto.FromString(bytes(source))
    else:
        model = onnx.load(str(source), load_external_data=False)
        folder = str(Path(source).resolve().parent)
        options.add_session_config_entry("session.model_external_initializers_file_folder_path", folder)
    model.ir_version = ir_version
    return model.SerializeToString()
