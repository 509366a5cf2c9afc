"""List the registered plugins: the ONNX ops each replaces, its dtypes, and which
implementations (reference, numpy, cupy, cuda, plugin, protoplugin, tensorrt) can run here, with the reason when not."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trtplug.commands import add_common_arguments
from trtplug.spec import OpSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="MODEL.onnx", help="list the nodes of MODEL and the plugin that covers each (if any)"
    )
    add_common_arguments(parser)


def availability(spec: OpSpec) -> dict[str, str | None]:
    """Implementation name -> None when available, else why not."""
    from trtplug.parity.impls import IMPLS
    from trtplug.parity.reference import reference_unavailable

    result: dict[str, str | None] = {"reference": reference_unavailable(spec)}
    result.update({name: impl.unavailable(spec) for name, impl in IMPLS.items()})
    return result


def describe(spec: OpSpec) -> dict[str, Any]:
    return {
        "op": spec.key,
        "plugin": {"name": spec.plugin.name, "version": spec.plugin.version, "namespace": spec.plugin.namespace},
        "replaces": [str(r) for r in spec.replaces],
        "dtypes": list(spec.dtypes),
        "spec": str(spec.path),
        "implementations": availability(spec),
    }


def model_coverage(path: str, registry: Any) -> list[dict[str, str]]:
    """Every node of the model with the trtplug plugin that replaces it ("" when none, with the
    reason in "note" when a plugin covers the op type but the rewrite would leave this node)."""
    from trtplug.graph_rewrites.opset_repair import raise_opset_for_newer_ops
    from trtplug.model_io import load_valid_model
    from trtplug.onnx_common import domain_label, iter_nodes, opset_versions

    model = load_valid_model(path)
    raise_opset_for_newer_ops(model)  # as check and rewrite read it (torch's opset-18 DeformConv)
    versions = opset_versions(model)
    rows = []
    for name, node in iter_nodes(model.graph):
        spec = registry.covering(node.domain, node.op_type, versions.get(node.domain, 1))
        if spec is not None and spec.unused_required_output(list(node.output)):
            spec = None  # the plugin exists for an output this node does not use
        row = {"node": name, "op_type": node.op_type, "domain": domain_label(node.domain)}
        rows.append({**row, "plugin": spec.plugin.name if spec else "", "note": ""})
    _note_nodes_left(path, registry, rows)
    return rows


def _note_nodes_left(path: str, registry: Any, rows: list[dict[str, str]]) -> None:
    """Covered rows whose node the rewrite would leave lose their plugin and say why, as `check` does."""
    if not any(r["plugin"] for r in rows):
        return
    from pathlib import Path

    from trtplug.graph_rewrites.dry_run import nodes_left

    try:
        left = nodes_left(Path(path), registry)
    except Exception as exc:  # the op-type listing stands; say what could not be confirmed
        print(f"list: covering plugins not confirmed by a dry rewrite ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    for row in rows:
        op_type, reason = left.get(row["node"], ("", ""))
        if row["plugin"] and op_type == row["op_type"]:
            row["note"] = f"{row['plugin']} cannot take this node ({reason}): rewrite leaves it"
            row["plugin"] = ""


def run(args: argparse.Namespace) -> int:
    from trtplug.registry import load_registry
    from trtplug.report import format_table, print_json

    registry = load_registry(args.plugins_dir)
    if args.model:
        nodes = model_coverage(args.model, registry)
        if args.json:
            print_json("list.model", {"model": args.model, "nodes": nodes})
        else:
            print(format_table(["NODE", "OP", "DOMAIN", "COVERED BY", "NOTE"], [list(n.values()) for n in nodes]))
            print(f"{sum(bool(n['plugin']) for n in nodes)} of {len(nodes)} nodes covered by a trtplug plugin")
        return 0
    ops = [describe(spec) for spec in registry]
    if args.json:
        print_json("list", {"ops": ops})
        return 0
    rows = [
        [
            op["op"],
            f"{op['plugin']['name']} v{op['plugin']['version']} ({op['plugin']['namespace']})",
            ", ".join(op["replaces"]),
            ",".join(op["dtypes"]),
            " ".join(k for k, why in op["implementations"].items() if why is None) or "-",
        ]
        for op in ops
    ]
    print(format_table(["OP", "PLUGIN", "REPLACES", "DTYPES", "AVAILABLE HERE"], rows))
    missing = {(k, why) for op in ops for k, why in op["implementations"].items() if why}
    for name, why in sorted(missing):
        print(f"  {name}: unavailable here: {why}")
    return 0
