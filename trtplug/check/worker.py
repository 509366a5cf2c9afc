"""Child process that asks the parser about a batch of models: `python -m trtplug.check.worker
BACKEND JOBFILE START`. JOBFILE is a pickled list of (model bytes, external-data folder or None);
one JSON line per job from START on goes to the original stdout, flushed, so when the parser
aborts the process the parent knows which job did it and re-runs the rest in a new child.
"""

from __future__ import annotations

import json
import os
import pickle
import sys


def _protocol_stream():
    """The real stdout for results; fd 1 then points at stderr so library prints cannot corrupt it."""
    stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return stream


def main(argv: list[str]) -> int:
    backend_name, job_file, start = argv[0], argv[1], int(argv[2])
    out = _protocol_stream()
    try:
        from trtplug.check.backend import ParserBackend

        backend = ParserBackend(backend_name)
    except Exception as exc:
        out.write(json.dumps({"fatal": f"cannot load {backend_name}: {type(exc).__name__}: {exc}"}) + "\n")
        return 3
    out.write(json.dumps({"backend": backend.name, "version": backend.version}) + "\n")
    with open(job_file, "rb") as handle:
        jobs = pickle.load(handle)
    for index in range(start, len(jobs)):
        model, folder = jobs[index]
        try:
            errors = [e.as_dict() for e in backend.parse(model, folder)]
            out.write(json.dumps({"i": index, "errors": errors}) + "\n")
        except Exception as exc:  # a Python-level failure of one job is a finding, not a dead worker
            out.write(json.dumps({"i": index, "exception": f"{type(exc).__name__}: {exc}"}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
