"""Merge `trtplug bench --json` documents (one per op, as scripts/gpu_bench_ops.sh writes them) into
one document and one generated markdown table, so a benchmark over every op can run in pieces that
each fit a time limit, and a crash in one op costs only that op's rows.

Rows that carry no time (errors, "not timed" disagreements) are listed on stderr and left out of
the markdown: an error row is never committed. Exit 1 when there were any, so a caller notices.

    python benchmarks/merge_bench_runs.py runs/*.json --markdown docs/benchmarks/h200.md --json all.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from trtplug.bench import report
from trtplug.fileio import atomic_write_text


def load_runs(paths: list[Path]) -> tuple[dict, list[SimpleNamespace], list[str]]:
    """The first document's environment (copy bandwidths of the others noted), the timed rows,
    and a line per untimed row or unreadable file."""
    env: dict = {}
    timed, problems = [], []
    figures: dict[str, list[float]] = {"copy_gbs": [], "fill_gbs": [], "read_gbs": []}
    for path in paths:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            problems.append(f"{path.name}: unreadable ({exc})")
            continue
        env = env or dict(doc["environment"])
        for key, seen in figures.items():
            if doc["environment"].get(key) is not None:
                seen.extend(_copy_figures(doc["environment"][key]))
        problems.extend(doc.get("untimed", []))  # a merged document's own
        for row in doc["timings"]:
            if row["ms"] is None:
                problems.append(f"{row['op']} {row['dtype']} {row['size_mb']} MB {row['impl']}: {row['note']}")
            else:
                timed.append(SimpleNamespace(**row))
    for key, seen in figures.items():
        if seen:
            env[key] = f"{min(seen):.0f}-{max(seen):.0f} (measured in each op's run; its rows use its own)"
    return env, timed, problems


def _copy_figures(copy: float | str) -> list[float]:
    """A run's copy (or fill) bandwidth, or a merged document's "LOW-HIGH (...)" range."""
    if isinstance(copy, (int, float)):
        return [float(copy)]
    return [float(x) for x in str(copy).split(" ")[0].split("-")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="trtplug bench --json documents")
    parser.add_argument("--markdown", type=Path, help="write the merged table as a generated document")
    parser.add_argument("--json", type=Path, help="write the merged document")
    parser.add_argument("--note", action="append", default=[], help="an extra environment fact (KEY=VALUE)")
    args = parser.parse_args(argv)
    env, timed, problems = load_runs(args.runs)
    for note in args.note:
        key, _, value = note.partition("=")
        env[key] = value
    if args.markdown:
        atomic_write_text(args.markdown, report.markdown(env, timed))
    if args.json:
        payload = {"environment": env, "timings": [vars(t) for t in timed], "untimed": problems}
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    print(f"{len(timed)} timed rows from {len(args.runs)} runs; {len(problems)} untimed")
    for line in problems:
        print(f"untimed: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
