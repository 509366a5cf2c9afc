"""Replace every node a registered plugin covers with a plugin node TensorRT's ONNX parser loads
through its plugin fallback (op_type = plugin name, plugin_version, plugin_namespace, fields
converted by the parser's rules), after fusing known subgraphs (erf-GELU, LayerNorm after a
residual Add) into the contrib op a plugin covers. Reports each replaced node with its field
mapping and each node left alone with the reason. The output passes the ONNX checker, is
topologically sorted and written atomically; the input is only overwritten with --in-place."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trtplug.commands import add_backend_argument, add_common_arguments
from trtplug.commands.check import trt_version
from trtplug.onnx_common import qualified_op


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.onnx", help="the model to rewrite")
    parser.add_argument("-o", "--output", metavar="OUT.onnx", help="where to write the rewritten model")
    parser.add_argument("--in-place", action="store_true", help="overwrite MODEL (atomically)")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    for flag, what in (("--only", "rewrite only"), ("--exclude", "leave alone")):
        parser.add_argument(
            flag,
            action="append",
            default=[],
            metavar="NAME",
            help=f"{what} nodes of this op type, domain::op, op key, plugin name or rule (repeatable)",
        )
    parser.add_argument("--no-patterns", action="store_true", help="skip the subgraph pattern rules")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--all-covered", action="store_true", help="replace every covered node, also those the target imports natively"
    )
    target.add_argument(
        "--trt-version",
        type=trt_version,
        metavar="X.Y",
        help="target: TensorRT release X.Y (static data, as `check --static`); default: the parser `check` uses",
    )
    add_backend_argument(parser, "target parser when no --trt-version is given")
    parser.add_argument(
        "--plugin-backend",
        choices=["native", "prototype"],
        default="native",
        help="what plugin nodes bind to: the native library (default) or the CuPy prototypes registered as "
        "TensorRT plugins (trtplug.protoplugin; needs Python with CuPy wherever the engine is built or loaded)",
    )
    parser.add_argument(
        "--plugin-override",
        action="store_true",
        help="leave standard-op nodes a plugin serves unchanged as ONNX nodes, bound through TensorRT's "
        "plugin override (>= 10.15: OnnxParserFlag.ENABLE_PLUGIN_OVERRIDE + TRTPLUG_PLUGIN_OVERRIDE)",
    )
    parser.add_argument("--markdown", action="store_true", help="report as a Markdown table")
    add_common_arguments(parser)


def selectable_names(registry: Any, rules: set[str]) -> set[str]:
    names = set(rules)
    for spec in registry:
        names |= {spec.key, spec.plugin.name}
        for replaced in spec.replaces:
            names |= {replaced.op_type, qualified_op(replaced.domain, replaced.op_type)}
    return names


def _selection(args: argparse.Namespace, registry: Any, rules: Any) -> Any:
    from trtplug.errors import TrtplugError
    from trtplug.graph_rewrites import changes, rule_discovery

    known = selectable_names(registry, rule_discovery.rule_names(rules))
    for flag, values in (("--only", args.only), ("--exclude", args.exclude)):
        for value in values:
            if value not in known:
                raise TrtplugError(f"{flag} {value}: names no plugin, op key, replaced op or rule")
    return changes.Selection(tuple(args.only), tuple(args.exclude))


def _check_override_target(args: argparse.Namespace) -> None:
    from trtplug.errors import TrtplugError
    from trtplug.graph_rewrites.plugin_override import MIN_TENSORRT

    version = getattr(args, "trt_version", None)
    if args.plugin_override and version is not None:
        major, minor = (int(part) for part in str(version).split(".")[:2])
        if (major, minor) < MIN_TENSORRT:
            raise TrtplugError(f"--plugin-override needs TensorRT >= 10.15 (its parser flag), not {version}")


def rewrite(args: argparse.Namespace) -> tuple[Any, Any, Path | None]:
    """Load, check, rewrite and (unless --dry-run) write; returns (result, model, output path)."""
    from trtplug.errors import TrtplugError
    from trtplug.graph_rewrites import pipeline, validate
    from trtplug.graph_rewrites.opset_repair import opset_gap_error, raise_opset_for_newer_ops
    from trtplug.graph_rewrites.rule_discovery import discover_rules
    from trtplug.model_io import load_valid_model
    from trtplug.model_write import copy_external_data, resolve_output, save_model_atomic
    from trtplug.registry import load_registry, project_rule_dirs

    _check_override_target(args)
    output = None if args.dry_run else resolve_output(args.model, args.output, args.in_place)
    registry = load_registry(args.plugins_dir)
    rules = discover_rules(project_rule_dirs(args.plugins_dir))  # a bad rule file fails before any work
    selection = _selection(args, registry, rules)
    model = load_valid_model(args.model)  # the same bad-input checks as `trtplug check`
    source_dir = Path(args.model).resolve().parent
    if repaired := raise_opset_for_newer_ops(model):  # before the checker, which refuses the model as written
        print(f"trtplug: {args.model}: {repaired}", file=sys.stderr)
    elif gap := opset_gap_error(model):
        raise TrtplugError(f"{args.model}: {gap}")
    note = validate.check_model(model, args.model, inference=False, base_dir=str(source_dir))
    if note:  # ONNX Runtime's default-domain ops, left unvalidated without onnxruntime
        print(f"trtplug: {args.model}: ONNX Runtime ops {note}", file=sys.stderr)
    options = pipeline.RewriteOptions(selection, not args.no_patterns, str(source_dir), rules)
    options.override = args.plugin_override
    target = None
    if not args.all_covered:
        from trtplug.rewrite_target import resolve_target

        target = resolve_target(args.model, model, registry, args.trt_version, args.backend, args.plugins_dir)
        options.native = target.native
    result = pipeline.rewrite_model(model, registry, options)
    result.target = target.label if target else "every covered node (--all-covered)"
    if args.plugin_backend == "prototype":
        from trtplug.graph_rewrites.prototype_backend import bind_to_prototypes

        bind_to_prototypes(model, registry, result)
    validate.check_model(model, "the rewritten model", result.input_infers_strictly, str(source_dir))
    if output is not None:
        copy_external_data(model, source_dir, output.resolve())
        save_model_atomic(model, output)
    return result, model, output


def run(args: argparse.Namespace) -> int:
    from trtplug.rewrite_report import print_report

    result, _, output = rewrite(args)
    print_report(args, result, output)
    return 0
