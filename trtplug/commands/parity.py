"""Check every implementation of each op against its independent reference (ONNX Runtime
CPU for com.microsoft ops, onnx.reference / conformance cases for standard ops) over edge
shapes, fp32 and fp16, with outputs poisoned before each run. Exit 1 on any mismatch."""

from __future__ import annotations

import argparse
import secrets
from collections import Counter
from pathlib import Path

from trtplug.commands import add_common_arguments
from trtplug.errors import TrtplugError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from trtplug.parity.impls import IMPLS

    parser.add_argument("--op", action="append", metavar="OP", help="op key (repeatable; default all)")
    parser.add_argument("--impl", action="append", choices=sorted(IMPLS), help="implementation (repeatable)")
    parser.add_argument("--dtype", action="append", metavar="DTYPE", help="float32, float16, ... (repeatable)")
    parser.add_argument("--case", action="append", metavar="CASE", help="case name, e.g. odd, strided (repeatable)")
    parser.add_argument("--seed", type=int, help="input seed (default: fresh, printed for reproduction)")
    parser.add_argument(
        "--huge", action="store_true", help="add the past-2**31-elements case (GPU, row-wise ops; minutes)"
    )
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML report with error histograms")
    parser.add_argument(
        "--model", metavar="ORIG.onnx", help="model-level parity: the original model (with --rewritten)"
    )
    parser.add_argument("--rewritten", metavar="OUT.onnx", help="the model `trtplug rewrite` made from --model")
    parser.add_argument(
        "--inputs",
        metavar="FILE",
        help="with --model: real inputs, an .npz or Polygraphy's JSON (one comparison per input set)",
    )
    parser.add_argument(
        "--dim", action="append", default=[], metavar="NAME=VALUE", help="size of a symbolic input dim (repeatable)"
    )
    add_common_arguments(parser)


def _row(result) -> list[str]:
    worst = max(result.comparisons, key=lambda c: c.max_abs, default=None)
    numbers = (
        (f"{worst.max_abs:.3g}", f"{worst.max_rel:.3g}", str(worst.mismatches), f"{worst.min_atol_to_pass:.3g}")
        if worst
        else ("-", "-", "-", "-")
    )
    detail = result.detail.splitlines()[0] if result.detail else ""
    return [result.op, result.impl, result.dtype, result.case, result.status.upper(), *numbers, detail]


def run(args: argparse.Namespace) -> int:
    _check_options(args)  # in milliseconds, before the registry and the cases load
    from trtplug.parity.impls import IMPLS
    from trtplug.parity.runner import Selection, plan, run_parity
    from trtplug.progress import progress
    from trtplug.registry import load_registry
    from trtplug.report import format_table, print_json

    registry = load_registry(args.plugins_dir)
    if args.model or args.rewritten:
        from trtplug.commands.parity_model import run_model_parity

        return run_model_parity(args, registry)
    specs = registry.select(args.op)
    _check_selection(args, specs)
    selection = Selection(
        impls=tuple(args.impl or IMPLS),
        dtypes=frozenset(args.dtype) if args.dtype else None,
        cases=frozenset(args.case) if args.case else None,
        huge=args.huge,
    )
    jobs = plan(specs, selection)
    if args.case and not jobs:
        raise TrtplugError(f"--case {', '.join(args.case)}: no selected op has such a case")
    seed = args.seed if args.seed is not None else secrets.randbits(31)
    cases = progress(jobs, len(jobs), "parity")
    results = list(run_parity(cases, selection.impls, seed))
    counts = Counter(r.status for r in results)
    if args.html:
        from trtplug.parity.html_report import write_html

        write_html(args.html, results, seed)
    if args.json:
        print_json("parity", {"seed": seed, "counts": dict(counts), "results": [r.as_dict() for r in results]})
    else:
        headers = ["OP", "IMPL", "DTYPE", "CASE", "STATUS", "MAX_ABS", "MAX_REL", "MISMATCH", "MIN_ATOL", "DETAIL"]
        print(format_table(headers, [_row(r) for r in results]))
        print(f"seed {seed}: " + ", ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "error", "skip")))
    return 1 if counts["fail"] or counts["error"] else 0


def _check_options(args: argparse.Namespace) -> None:
    """Option errors that need no registry: unknown dtype, unwritable report, malformed --dim."""
    from trtplug.commands.parity_model import parse_dims
    from trtplug.spec import DTYPES

    for dtype in args.dtype or []:
        if dtype not in DTYPES:
            raise TrtplugError(f"--dtype {dtype}: unknown dtype (known: {', '.join(DTYPES)})")
    if args.html:
        _check_writable(args.html)
    parse_dims(args.dim)
    if args.inputs and not (args.model or args.rewritten):
        raise TrtplugError("--inputs gives a model's inputs: use it with --model and --rewritten")


def _check_selection(args: argparse.Namespace, specs) -> None:
    """Selections the selected specs cannot run, found before the (slow) conformance cases load."""
    from trtplug.parity.cases import default_cases

    known = {d for s in specs for d in s.dtypes}
    for dtype in args.dtype or []:
        if dtype not in known:
            raise TrtplugError(f"--dtype {dtype}: no selected op runs in it (known: {', '.join(sorted(known))})")
    # Conformance cases ("onnx:...") are only known once planned; the spec-derived names are cheap.
    names = {c.name for s in specs for c in default_cases(s, huge=args.huge)}
    unknown = [c for c in args.case or [] if not c.startswith("onnx:") and c not in names]
    if unknown and len(unknown) == len(args.case):
        raise TrtplugError(f"--case {', '.join(args.case)}: no selected op has such a case")


def _check_writable(path: Path) -> None:
    """Fail before the run, not after minutes of it, when the report cannot be written."""
    from trtplug.parity.html_report import require_matplotlib

    require_matplotlib()
    if not path.parent.resolve().is_dir():
        raise TrtplugError(f"--html {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise TrtplugError(f"--html {path}: is a folder")
