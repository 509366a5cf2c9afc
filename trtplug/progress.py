"""A dependency-free progress bar on stderr for long runs (parity cases, checked nodes, bench jobs).

Shown only when stderr is a terminal (or TRTPLUG_PROGRESS=1), so logs, pipes and --json
output stay clean; TRTPLUG_PROGRESS=0 turns it off everywhere.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
_WIDTH = 30
_MIN_INTERVAL_S = 0.1


def progress_enabled(stream: TextIO) -> bool:
    setting = os.environ.get("TRTPLUG_PROGRESS")
    if setting is not None:
        return setting not in ("0", "")
    return stream.isatty()


class ProgressBar:
    """`label [####....] done/total`, redrawn at most every 0.1 s; `advance(n)` as work completes."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.label, self.done = total, label, 0
        self.enabled = (progress_enabled(self.stream) if enabled is None else enabled) and total > 0
        self._shown = 0.0
        self._open = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if not self.enabled or (now - self._shown < _MIN_INTERVAL_S and self.done < self.total):
            return
        self._shown = now
        filled = _WIDTH * min(self.done, self.total) // self.total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {self.done}/{self.total}")
        self.stream.flush()
        self._open = True
        if self.done >= self.total:
            self.close()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def progress(items: Iterable[T], total: int, label: str, stream: TextIO | None = None) -> Iterator[T]:
    """Yields `items`, drawing the bar as each one is done."""
    bar = ProgressBar(total, label, stream)
    try:
        for item in items:
            yield item
            bar.advance()
    finally:
        bar.close()
