"""One adapter over the ONNX parsers of `tensorrt` and `tensorrt_rtx` (same Python API).

Imports are lazy: `available_backends()` only looks for the modules; `ParserBackend` loads one,
and is meant to live in a child process (trtplug.check.worker), since the parser can abort.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

BACKENDS = ("tensorrt", "tensorrt_rtx")


def available_backends() -> list[str]:
    """Backend module names importable here, without importing them (that is slow)."""
    found = []
    for name in BACKENDS:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except (ImportError, ValueError):
            continue
    return found


def choose_backend(requested: str) -> str | None:
    """'auto' -> the first importable backend (full TensorRT first), else the named one if importable."""
    found = available_backends()
    if requested == "auto":
        return found[0] if found else None
    return requested if requested in found else None


@dataclass(frozen=True)
class ParserError:
    node: int  # index of the failing node in the parsed graph (-1 when not node-specific)
    node_name: str
    op_type: str
    desc: str
    code: str
    where: str  # parser source location, e.g. "onnxOpCheckers.cpp:1090 checkBitwiseAnd"

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class ParserBackend:
    """Parses serialized ONNX models with a fresh network each time; logs are discarded."""

    def __init__(self, module_name: str) -> None:
        self.trt = importlib.import_module(module_name)
        self.name = module_name
        self.version = getattr(self.trt, "__version__", "unknown")
        trt = self.trt

        class _Silent(trt.ILogger):
            def __init__(self) -> None:
                trt.ILogger.__init__(self)

            def log(self, severity: Any, msg: str) -> None:  # errors come back through the parser API
                pass

        self.logger = _Silent()
        self.builder = trt.Builder(self.logger)

    def _network(self) -> Any:
        flags = 0
        kind = getattr(self.trt, "NetworkDefinitionCreationFlag", None)
        if kind is not None and hasattr(kind, "EXPLICIT_BATCH"):  # TensorRT 8.x needs it, later ones ignore it
            flags = 1 << int(kind.EXPLICIT_BATCH)
        return self.builder.create_network(flags)

    def parse(self, model: bytes, folder: str | None = None) -> list[ParserError]:
        """The parser's errors for `model` (empty when it imports); `folder`: the model file path, for external data."""
        network = self._network()
        parser = self.trt.OnnxParser(network, self.logger)
        ok = parser.parse(model, folder) if folder else parser.parse(model)
        errors = [_convert(parser.get_error(i)) for i in range(parser.num_errors)]
        if not ok and not errors:
            errors.append(ParserError(-1, "", "", "the parser failed without saying why", "UNKNOWN", ""))
        return errors


def _convert(error: Any) -> ParserError:
    def field(name: str, default: Any) -> Any:
        getter = getattr(error, name, None)
        try:
            return getter() if getter is not None else default
        except Exception:  # older parsers lack some accessors
            return default

    where = f"{field('file', '')}:{field('line', '')} {field('func', '')}".strip(": ")
    return ParserError(
        node=int(field("node", -1)),
        node_name=str(field("node_name", "")),
        op_type=str(field("node_operator", "")),
        desc=" ".join(str(field("desc", "")).split()),
        code=str(field("code", "")).rsplit(".", 1)[-1],
        where=where,
    )
