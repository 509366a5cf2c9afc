"""What `check` reports: one Finding per node TensorRT rejects, inside a CheckReport."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Finding:
    node: str  # path: name, or parent/attribute/name inside If/Loop/Scan bodies
    op_type: str
    domain: str
    reason: str
    source: str  # "node parse", "whole-model parse", "parser abort", "static data"
    plugin: str | None = None  # covering trtplug plugin, None when no plugin covers the node
    # rejected: TensorRT cannot import it; plugin-library: it imports only with TensorRT's plugin
    # library (libnvinfer_plugin) loaded; not-in-rtx: TensorRT imports it through that library,
    # which TensorRT-RTX does not ship, or natively where TensorRT-RTX's importer asks for a plugin
    # it does not ship (NonZero); trtplug-plugin: a node `trtplug rewrite` wrote, which
    # imports once trtplug's plugins are registered.
    kind: str = "rejected"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckReport:
    model: str
    mode: str  # "parser" or "static"
    engine: str  # "tensorrt_rtx 1.7.1" or "static data, TensorRT 10.x"
    nodes: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def uncovered(self) -> list[Finding]:
        """Findings that stop the import: no covering plugin and not fixed by loading TensorRT's
        plugin library."""
        return [f for f in self.findings if f.plugin is None and f.kind != "plugin-library"]

    @property
    def exit_code(self) -> int:
        """0 when every node imports or is covered by a plugin, 1 otherwise."""
        return 1 if self.uncovered else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode,
            "engine": self.engine,
            "nodes": self.nodes,
            "rejected": len(self.findings),
            "uncovered": len(self.uncovered),
            "findings": [f.as_dict() for f in self.findings],
            "notes": self.notes,
            "stats": self.stats,
        }
