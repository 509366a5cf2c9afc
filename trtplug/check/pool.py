"""Parent side of the parser workers: batches of models per child, aborts and hangs survived.

A child that dies (std::terminate, segfault) or stalls past the timeout is replaced; the job it
was on is reported as aborted, with the last lines the child wrote to stderr, and the rest of
the batch runs in a new child.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtplug.errors import TrtplugError

Job = tuple[bytes, "str | None"]  # serialized model, model file path (for its external data)


@dataclass
class JobResult:
    errors: list[dict[str, Any]] = field(default_factory=list)
    aborted: str | None = None  # why the parser could not answer (abort, hang, exception)


@dataclass
class PoolInfo:
    backend: str = ""
    version: str = ""
    children: int = 0


def run_jobs(
    jobs: Sequence[Job],
    backend: str,
    progress: Callable[[int], None] | None = None,
    timeout_s: float = 120.0,
    info: PoolInfo | None = None,
) -> list[JobResult]:
    """Each job's parser errors, in order; `progress(n)` after each answer."""
    info = info or PoolInfo()
    results: list[JobResult | None] = [None] * len(jobs)
    with tempfile.TemporaryDirectory(prefix="trtplug-check-") as tmp:
        job_file = os.path.join(tmp, "jobs.pkl")
        with open(job_file, "wb") as handle:
            pickle.dump(list(jobs), handle, protocol=pickle.HIGHEST_PROTOCOL)
        start = 0
        while start < len(jobs):
            stderr_path = os.path.join(tmp, f"stderr{info.children}.txt")
            info.children += 1
            answered, ending = _run_child(backend, job_file, start, stderr_path, results, progress, timeout_s, info)
            if answered < len(jobs):  # the child died or stalled on job `answered`
                results[answered] = JobResult(aborted=_death_reason(stderr_path, ending))
                if progress:
                    progress(1)
            start = answered + 1
    return [r or JobResult(aborted="no answer") for r in results]


def _run_child(backend, job_file, start, stderr_path, results, progress, timeout_s, info) -> tuple[int, int | None]:
    """Run one child from job `start`: the first job it did not answer, and its exit code (None: stalled)."""
    command = [sys.executable, "-m", "trtplug.check.worker", backend, job_file, str(start)]
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=_child_env()
        )
    next_index, stalled = start, [False]
    try:
        for line in _lines(child.stdout, timeout_s, stalled):
            message = json.loads(line)
            if "fatal" in message:
                raise TrtplugError(f"parser backend: {message['fatal']}")
            if "backend" in message:
                info.backend, info.version = message["backend"], message["version"]
                continue
            index = message["i"]
            results[index] = JobResult(
                errors=message.get("errors", []),
                aborted=f"parser raised {message['exception']}" if "exception" in message else None,
            )
            next_index = index + 1
            if progress:
                progress(1)
    finally:
        if child.poll() is None:
            child.kill()
        code = child.wait()
        child.stdout.close()
    return next_index, None if stalled[0] else code


def _child_env() -> dict[str, str]:
    """The child imports this very trtplug, also when it runs from a source tree that is not installed."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _lines(stream, timeout_s: float, stalled: list[bool]):
    """Lines from a pipe; stops at EOF or after `timeout_s` without output (a hung parser)."""
    fd, buffer = stream.fileno(), b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            stalled[0] = True
            return
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from (line for line in complete if line.strip())


def _death_reason(stderr_path: str, code: int | None) -> str:
    if code is None:
        how = "parser gave no answer in time (hung); process killed"
    elif code < 0:
        try:
            how = f"parser aborted the process ({signal.Signals(-code).name})"
        except ValueError:
            how = f"parser aborted the process (signal {-code})"
    else:
        how = f"parser process exited with code {code}"
    with open(stderr_path, "rb") as handle:
        tail = [line.strip() for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    return f"{how}: {tail[-1][:300]}" if tail else how
