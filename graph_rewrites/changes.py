"""What a rewrite did to each node it considered, and the --only/--exclude selection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from trtplug.onnx_common import qualified_op
from trtplug.spec import OpSpec

REPLACED, FUSED, LEFT, EXCLUDED = "replaced", "fused", "left", "excluded"
OVERRIDE = "override"  # left as the ONNX op; the parser binds it to the plugin (plugin_override.py)


@dataclass
class Change:
    node: str  # node name (path inside control-flow bodies); for a fusion, the node it is named after
    op: str  # domain::op_type of the node, or of the canonical op a pattern produces
    action: str  # replaced | fused | left | excluded
    plugin: str = ""  # "name v<version> (<namespace>)"
    mapping: list[str] = field(default_factory=list)  # field=value (source)
    reason: str = ""  # why it was left alone or excluded
    rule: str = ""  # pattern rule, for fusions and pattern near-misses
    nodes: list[str] = field(default_factory=list)  # nodes a fusion replaced

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plugin_label(spec: OpSpec) -> str:
    return f"{spec.plugin.name} v{spec.plugin.version} ({spec.plugin.namespace})"


def op_label(domain: str, op_type: str) -> str:
    return qualified_op(domain, op_type)


@dataclass(frozen=True)
class Selection:
    """--only / --exclude: each value names an ONNX op type, domain::op_type, op key, plugin
    name or rule; a node or fusion is rewritten when any of its names is selected."""

    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def refusal(self, names: Iterable[str]) -> str | None:
        names = set(names)
        if self.only and not names & set(self.only):
            return "not selected by --only"
        hit = sorted(names & set(self.exclude))
        return f"excluded by --exclude {hit[0]}" if hit else None


def spec_names(spec: OpSpec) -> set[str]:
    return {spec.key, spec.plugin.name}


def selected_specs(selection: Selection, specs: list[OpSpec], names: set[str]) -> tuple[list[OpSpec], str | None]:
    """The specs --only/--exclude allow for a node known by `names`, else why none is allowed."""
    allowed, refusal = [], None
    for spec in specs:
        why = selection.refusal(names | spec_names(spec))
        if why is None:
            allowed.append(spec)
        refusal = refusal or why
    return allowed, None if allowed else refusal
