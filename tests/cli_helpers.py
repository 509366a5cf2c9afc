"""The trtplug CLI run in this process: the same exit code, stdout and stderr as a subprocess,
without a new interpreter importing onnx and the registry again (~1.5 s a call). The tests of
the real entry point (tests/test_cli.py's run_cli: heavy dependencies blocked) stay subprocesses."""

from __future__ import annotations

import contextlib
import io
import subprocess


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    from trtplug.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["trtplug", *args], code, out.getvalue(), err.getvalue())
