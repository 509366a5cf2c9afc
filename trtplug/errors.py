"""User-facing errors: the CLI prints their message on one line and exits 2 (no traceback)."""

from __future__ import annotations

# What a scaffolded op's prototype and kernel say until they are written (`trtplug new`): parity
# reports such a result as a skip naming it, neither a pass nor a failure.
NOT_IMPLEMENTED_YET = "not implemented yet"


class TrtplugError(Exception):
    """An error caused by user input (a file, a flag, a spec); the message names the culprit."""


class SpecError(TrtplugError):
    """A plugin spec file is invalid; the message names the file and the field."""

    def __init__(self, path: object, field: str, problem: str) -> None:
        super().__init__(f"{path}: {field}: {problem}")
        self.path = path
        self.field = field
