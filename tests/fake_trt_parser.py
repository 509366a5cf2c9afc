"""A stand-in for the tensorrt module's parser API, to test the worker pool without TensorRT: a model
whose bytes contain ABORT_ME kills the process (like std::terminate), HANG_ME never answers,
REJECT_ME gets one parser error."""

from __future__ import annotations

import os
import time

__version__ = "0.fake"


class ILogger:
    def __init__(self) -> None:
        pass


class Builder:
    def __init__(self, logger: ILogger) -> None:
        pass

    def create_network(self, flags: int = 0) -> object:
        return object()


class _Error:
    def node(self) -> int:
        return 0

    def node_name(self) -> str:
        return ""

    def node_operator(self) -> str:
        return "RejectMe"

    def desc(self) -> str:
        return "fake rejection"

    def code(self) -> str:
        return "ErrorCode.UNSUPPORTED_NODE"


class OnnxParser:
    def __init__(self, network: object, logger: ILogger) -> None:
        self.num_errors = 0

    def parse(self, model: bytes, path: str | None = None) -> bool:
        if b"ABORT_ME" in model:
            print("terminate called after throwing an instance of 'fake::Error'", flush=True)
            os.abort()
        if b"HANG_ME" in model:
            time.sleep(3600)
        self.num_errors = int(b"REJECT_ME" in model)
        return not self.num_errors

    def get_error(self, index: int) -> _Error:
        return _Error()
