"""Exporter output whose ai.onnx opset is older than one of its ops: torch 2.14's dynamo exporter
writes torchvision's DeformConv2d as DeformConv (an opset-19 op) into a model that imports ai.onnx
18, its default. The ONNX checker and ONNX Runtime refuse such a model outright. When every other
ai.onnx op of the model means the same at the newer opset (its schema is unchanged, or changed only
by added types, attributes or modes), reading the model at that opset is what its author meant:
`rewrite` writes it so and `parity --model` runs the original so, each saying it did."""

from __future__ import annotations

import onnx

from trtplug.onnx_common import STANDARD_DOMAINS, iter_nodes, opset_versions

# Ops whose new version at an opset only added types, attributes (with defaults that keep the old
# meaning) or modes, so that a model written for the version before means the same. Opset 19: fp8
# and other new types (Cast/CastLike/QuantizeLinear's `saturate` applies to fp8 only), AveragePool's
# dilations, Pad's wrap mode, Resize's half_pixel_symmetric.
ADDITIVE_CHANGES = {
    19: {
        "AveragePool",
        "Cast",
        "CastLike",
        "Constant",
        "DequantizeLinear",
        "Equal",
        "Identity",
        "If",
        "Loop",
        "Pad",
        "QuantizeLinear",
        "Reshape",
        "Resize",
        "Scan",
        "Shape",
        "Size",
    },
}


def _since(op_type: str, opset: int) -> int | None:
    """The version of op_type's ai.onnx schema in force at `opset` (None: no such op there)."""
    try:
        return onnx.defs.get_schema(op_type, opset, "").since_version
    except onnx.defs.SchemaError:
        return None


def _standard_ops(model: onnx.ModelProto) -> set[str]:
    return {node.op_type for _, node in iter_nodes(model.graph) if (node.domain or "") in STANDARD_DOMAINS}


def _needed_opset(ops: set[str], declared: int) -> tuple[int, list[str]]:
    """The newest since-version among ops absent at `declared` but known later, and those ops."""
    newest = onnx.defs.onnx_opset_version()
    newer = sorted(op for op in ops if _since(op, declared) is None and _since(op, newest) is not None)
    needed = max((_first_version(op, declared, newest) for op in newer), default=declared)
    return needed, newer


def _first_version(op_type: str, after: int, newest: int) -> int:
    return next(v for v in range(after + 1, newest + 1) if _since(op_type, v) is not None)


def _changed_meaning(ops: set[str], declared: int, target: int) -> list[str]:
    """Ops (all known at declared) whose schema changes between declared and target other than by
    ADDITIVE_CHANGES."""
    changed = []
    for op in sorted(ops):
        versions = {v for v in range(declared + 1, target + 1) if _since(op, v) == v}
        if any(op not in ADDITIVE_CHANGES.get(v, ()) for v in versions):
            changed.append(op)
    return changed


def _opset_gap(model: onnx.ModelProto) -> tuple[int, int, list[str], list[str]] | None:
    """(declared, needed opset, ops newer than declared, other ops that change meaning up to the
    needed opset) when some ai.onnx op is newer than the model's import, else None. Local functions
    import their own opsets: a model with any is left as it is."""
    declared = opset_versions(model).get("", 0)
    ops = _standard_ops(model)
    if declared < 1 or model.functions or not ops:
        return None
    target, newer = _needed_opset(ops, declared)
    return (declared, target, newer, _changed_meaning(ops - set(newer), declared, target)) if newer else None


def planned_opset_raise(model: onnx.ModelProto) -> tuple[int, str] | None:
    """(opset, note) when model's ai.onnx import should be read at a newer opset (see the module
    docstring), else None."""
    gap = _opset_gap(model)
    if gap is None or gap[3]:
        return None
    declared, target, newer, _ = gap
    return target, (
        f"ai.onnx opset {declared} read as {target}: {', '.join(newer)} exists only from opset {target} on, "
        "and every other ai.onnx op of the model means the same there"
    )


def opset_gap_error(model: onnx.ModelProto) -> str:
    """Why a model with ops newer than its ai.onnx import cannot be read at a newer opset ("" when
    it has none, or can): for an error that tells the user what to re-export."""
    gap = _opset_gap(model)
    if gap is None or not gap[3]:
        return ""
    declared, target, newer, changed = gap
    return (
        f"{', '.join(newer)} exists only from ai.onnx opset {target} on, but the model imports opset {declared}, "
        f"and {', '.join(changed)} means something else at opset {target}: export it at opset {target} or later"
    )


def raise_opset_for_newer_ops(model: onnx.ModelProto, plan: tuple[int, str] | None = None) -> str:
    """Apply `plan` (by default planned_opset_raise(model)) to model; its note, "" when nothing changed."""
    plan = plan or planned_opset_raise(model)
    if plan is None:
        return ""
    for imp in model.opset_import:
        if (imp.domain or "") in STANDARD_DOMAINS:
            imp.version = plan[0]
    return plan[1]
