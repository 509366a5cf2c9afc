"""The TensorRT a rewrite targets, and which covered nodes it imports natively.

By default `trtplug rewrite` replaces only the covered nodes its target rejects: the target is the
parser that `check` would ask (TensorRT, else TensorRT-RTX), or the static data of a release with
--trt-version; --all-covered replaces every covered node. The verdicts come from `check` itself,
run on the input file, so a rewrite and a check of the same model always agree.

Nodes are matched by their first output name: unique in the model (bodies included), and stable
when the pattern rules fuse and renumber other nodes. A node whose op type changed (a fusion's
product) is not in the map and is always replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from trtplug.onnx_common import iter_nodes, node_opset, opset_versions


@dataclass
class Target:
    label: str  # "tensorrt_rtx 1.7.1" or "static data, TensorRT 10.16"
    native: dict[str, tuple[str, str]] = field(default_factory=dict)  # output -> (op_type, why it stays)


def resolve_target(
    path: str | Path,
    model: onnx.ModelProto,
    registry: Any,
    trt_version: str | None,
    backend: str,
    plugin_dirs: tuple[str, ...] = (),
) -> Target:
    """The target's verdict on every covered node of `model` (loaded from `path`)."""
    from trtplug.check.backend import choose_backend
    from trtplug.check.runner import check_model

    versions = opset_versions(model)
    covered = {
        label: node
        for label, node in iter_nodes(model.graph)
        if node.output and registry.covering(node.domain, node.op_type, node_opset(versions, node.domain))
    }
    static = trt_version is not None or choose_backend(backend) is None
    report = check_model(path, static, trt_version or "10", backend, plugin_dirs, verify_covers=False)
    target = Target(report.engine)
    if not covered:
        return target
    library = {f.node: f for f in report.findings if f.kind == "plugin-library"}
    rejected = {f.node for f in report.findings} - set(library)
    for label, node in covered.items():
        if label in rejected:
            continue
        why = f"{report.engine} imports it natively (--all-covered replaces it)"
        if label in library:
            why = f"{report.engine} imports it with libnvinfer_plugin loaded (--all-covered replaces it)"
        target.native[node.output[0]] = (node.op_type, why)
    return target
