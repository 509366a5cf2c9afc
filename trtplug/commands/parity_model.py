"""`trtplug parity --model ORIG --rewritten OUT`: the rewritten model against the original,
ORT CPU vs onnx.reference with plugin ops run by trtplug's implementations (see
trtplug/parity/model.py). Exit 1 when any output differs beyond the plugins' tolerances."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from trtplug.errors import TrtplugError


def parse_dims(values: list[str]) -> dict[str, int]:
    dims = {}
    for value in values:
        name, sep, size = value.partition("=")
        if not sep or not name or not size.isdigit():
            raise TrtplugError(f"--dim {value}: expected NAME=VALUE with a non-negative integer VALUE")
        dims[name] = int(size)
    return dims


def check_same_interface(original: Any, rewritten: Any, args: argparse.Namespace) -> None:
    """A rewrite keeps the graph's inputs and outputs; differing ones mean unrelated models."""
    for kind in ("input", "output"):
        names = [
            [v.name for v in getattr(m.graph, kind) if v.name not in {t.name for t in m.graph.initializer}]
            for m in (original, rewritten)
        ]
        if names[0] != names[1]:
            raise TrtplugError(
                f"{args.model} and {args.rewritten}: graph {kind}s differ ({', '.join(names[0]) or 'none'} vs "
                f"{', '.join(names[1]) or 'none'}); is the second model a rewrite of the first?"
            )


def run_model_parity(args: argparse.Namespace, registry: Any) -> int:
    from trtplug.model_io import load_valid_model, without_weights
    from trtplug.parity.impls import IMPLS
    from trtplug.parity.model import model_parity
    from trtplug.parity.model_feeds import load_input_file
    from trtplug.report import format_table, print_json

    if not (args.model and args.rewritten):
        raise TrtplugError("model-level parity needs both --model ORIG.onnx and --rewritten OUT.onnx")
    if args.inputs and args.seed is not None:
        raise TrtplugError("--inputs gives the inputs; --seed applies only to random ones")
    if args.op or args.dtype:
        raise TrtplugError("--op/--dtype select per-op parity; they do not apply with --model")
    dims = parse_dims(args.dim)
    # Only the original's interface and node walks stay in memory: ONNX Runtime reads it from its
    # file, so its weights are held once (by ONNX Runtime), beside the rewritten model's.
    original = without_weights(load_valid_model(args.model))
    rewritten = load_valid_model(args.rewritten, load_weights=True)
    check_same_interface(original, rewritten, args)
    feeds = load_input_file(args.inputs, original) if args.inputs else None
    seed = args.seed if args.seed is not None else secrets.randbits(31)
    results = [
        model_parity(original, rewritten, registry, IMPLS[i], seed, dims, feeds, args.model)
        for i in args.impl or ["numpy"]
    ]
    if args.json:
        print_json(
            "parity.model",
            {"model": args.model, "rewritten": args.rewritten, "seed": seed, "results": [r.as_dict() for r in results]},
        )
    else:
        rows = []
        for r in results:
            rows += [
                [
                    r.impl,
                    c.output,
                    "PASS" if c.ok else "FAIL",
                    f"{c.max_abs:.3g}",
                    f"{c.max_rel:.3g}",
                    str(c.mismatches),
                    f"{c.min_atol_to_pass:.3g}",
                ]
                for c in r.comparisons
            ]
            if r.status == "error":
                rows.append([r.impl, "-", "ERROR", "-", "-", "-", "-"])
        print(format_table(["IMPL", "OUTPUT", "STATUS", "MAX_ABS", "MAX_REL", "MISMATCH", "MIN_ATOL"], rows))
        for r in results:
            plugins = ", ".join(r.plugins) or "none"
            engine = f"; standard nodes in {r.engine}" if r.engine else ""
            print(f"{r.impl}: {r.status} (plugins run: {plugins}{engine}){': ' + r.detail if r.detail else ''}")
            if r.reference != "onnxruntime":
                print(f"{r.impl}: the original ran in {r.reference}")
        print(f"inputs {args.inputs}" if args.inputs else f"seed {seed}")
    return 0 if all(r.status == "pass" for r in results) else 1
