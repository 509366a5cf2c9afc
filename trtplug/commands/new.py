"""Scaffold a new op: spec, CUDA kernel + launcher, IPluginV3 adapter, pybind11 binding and CuPy
prototype, inside the trtplug repository or a plugin project (--project DIR creates one). The
op comes from its ONNX schema (--from ai.onnx::Col2Im) or, for ops onnx has no schema for, from
--input/--output/--attr/--type flags or a small TOML file (--spec-file). Elementwise ops get a
working naive kernel; others a TODO that fails loudly until the kernel is written.

`trtplug new --rule NAME --op KEY` scaffolds a pattern rule instead: graph_rewrites/NAME.py
(pattern, check, replacement by op KEY's plugin) and tests/test_rule_NAME.py.

Existing files are never overwritten without --force; --dry-run prints the files and a diff."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "op", nargs="?", metavar="OP", help="op name in snake_case: folder plugins/OP/, module pyplugins/OP.py"
    )
    parser.add_argument(
        "--rule", metavar="NAME", help="scaffold a pattern rule graph_rewrites/NAME.py instead of an op"
    )
    parser.add_argument("--op", dest="rule_op", metavar="KEY", help="with --rule: the op key whose plugin it targets")
    parser.add_argument("--from", dest="source", metavar="DOMAIN::OpType", help="the ONNX op (ai.onnx::Col2Im)")
    parser.add_argument("--opset", type=int, help="schema version to read (default: the latest)")
    parser.add_argument("--spec-file", metavar="FILE", help="TOML op description for ops without an ONNX schema")
    parser.add_argument("--input", action="append", default=[], metavar="NAME[:TYPE][?]", help="an input (? optional)")
    parser.add_argument("--output", action="append", default=[], metavar="NAME[:TYPE]", help="an output")
    parser.add_argument("--attr", action="append", default=[], metavar="NAME:TYPE[=DEFAULT]", help="an attribute")
    parser.add_argument("--type", action="append", default=[], metavar="T=DTYPE,...", help="a type constraint")
    parser.add_argument("--dtype", action="append", metavar="DTYPE", help="dtypes of the first input (repeatable)")
    parser.add_argument("--plugin-name", help="TensorRT plugin name (default: Trtplug<OpType>)")
    parser.add_argument("--project", metavar="DIR", help="a plugin project (created when DIR is absent or empty)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    parser.add_argument("--dry-run", action="store_true", help="print the files and a diff; write nothing")


def _plan(args: argparse.Namespace, target) -> tuple[list, str]:
    """The files to write and what they are, for an op or (--rule) a pattern rule."""
    from trtplug.errors import TrtplugError

    if args.rule is not None:
        if args.op or args.source or not args.rule_op:
            raise TrtplugError("--rule NAME takes --op KEY (the op whose plugin it targets) and no OP or --from")
        from trtplug.scaffold.rule_files import plan_rule_files

        return plan_rule_files(target, args.rule, args.rule_op), f"rule {args.rule} -> op {args.rule_op}"
    if not args.op or args.rule_op:
        raise TrtplugError("trtplug new takes OP (an op) or --rule NAME --op KEY (a pattern rule)")
    from trtplug.scaffold.generate import describe_op, plan_files

    desc = describe_op(args)
    return plan_files(target, desc, args.op, args.plugin_name), f"{desc.qualified} -> {args.op}"


def run(args: argparse.Namespace) -> int:
    from trtplug.scaffold.target import find_target, project_target
    from trtplug.scaffold.write import check_conflicts, dry_run, write_all

    target = project_target(Path(args.project)) if args.project else find_target(Path.cwd())
    files, what = _plan(args, target)
    if args.dry_run:
        print(dry_run(files, target.root))
        check_conflicts(files, args.force)
        return 0
    written = write_all(files, args.force)
    where = "the trtplug repository" if target.is_repository else f"project {target.package}"
    print(f"{what} in {where} ({target.root}):")
    for f in written:
        print(f"  wrote {f.path.relative_to(target.root)}")
    if not written:
        print("  every file is already up to date")
    print(
        f"next: write the pattern in graph_rewrites/{args.rule}.py and the model in its test, then pytest"
        if args.rule
        else next_steps(target, args.op)
    )
    return 0


def next_steps(target, key: str) -> str:
    build = "bash scripts/setup.sh" if target.is_repository else "pip install --no-build-isolation -e ."
    return (
        f"next: write the kernel in plugins/{key}/{key}.cu and pyplugins/{key}.py, build ({build}), "
        f"then trtplug parity --op {key}"
    )
