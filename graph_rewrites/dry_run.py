"""Which covered nodes `trtplug rewrite` would leave: a dry rewrite of a copy of the model (every
covered node, patterns included, as `rewrite --all-covered`; weights left on disk). A plugin that
covers a node's op type but cannot take that node (an input past its last, a dtype or attribute
it lacks) does not cover it: `check` and `list --model` ask this so that they agree with the rewrite."""

from __future__ import annotations

from pathlib import Path

from trtplug.graph_rewrites import pipeline
from trtplug.graph_rewrites.changes import LEFT
from trtplug.graph_rewrites.opset_repair import raise_opset_for_newer_ops

from trtplug.model_io import load_model


def nodes_left(model_path: Path, registry) -> dict[str, tuple[str, str]]:
    """Node name -> (op type, the rewrite's reason) for each node the rewrite leaves. Raises what
    loading or rewriting the model raises."""
    options = pipeline.RewriteOptions(base_dir=str(Path(model_path).resolve().parent))
    model = load_model(model_path)
    raise_opset_for_newer_ops(model)  # as the rewrite reads it
    changes = pipeline.rewrite_model(model, registry, options).changes
    return {c.node: (c.op.split("::")[-1], c.reason) for c in changes if c.action == LEFT}
