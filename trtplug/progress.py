"""A dependency-free progress bar on stderr for long runs (parity cases, check nodes).

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


def progress(items: Iterable[T], total: int, label: str, stream: TextIO | None = None) -> Iterator[T]:
    """Yields `items`, drawing `label [####....] done/total` on `stream` as it goes."""
    stream = stream or sys.stderr
    if not progress_enabled(stream) or total <= 0:
        yield from items
        return
    last = 0.0
    done = 0
    try:
        for item in items:
            now = time.monotonic()
            if now - last >= _MIN_INTERVAL_S:
                _draw(stream, label, done, total)
                last = now
            yield item
            done += 1
        _draw(stream, label, done, total)
    finally:
        stream.write("\n")
        stream.flush()


def _draw(stream: TextIO, label: str, done: int, total: int) -> None:
    filled = _WIDTH * done // total
    stream.write(f"\r{label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total}")
    stream.flush()
