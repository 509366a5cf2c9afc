"""`rewrite --plugin-backend prototype`: plugin nodes bind to the CuPy prototypes registered as
TensorRT plugins (trtplug.protoplugin, namespace trtplug_proto) instead of the native library.
Same plugin names, versions and fields; only the namespace (and node domain) differ. A node whose
prototype cannot run as a plugin keeps the native binding and the report says why."""

from __future__ import annotations

import onnx
from onnx import helper

from trtplug.onnx_common import iter_nodes
from trtplug.registry import Registry

from .changes import FUSED, REPLACED
from .pipeline import PLUGIN_OPSET, RewriteResult
from .plugin_node import plugin_domain


def bind_to_prototypes(model: onnx.ModelProto, registry: Registry, result: RewriteResult) -> None:
    from trtplug.protoplugin.plugin import NAMESPACE, unsupported_reason

    specs = {(plugin_domain(s), s.plugin.name): s for s in registry}
    kept: dict[str, str] = {}  # plugin name -> why it stays native
    for _, node in iter_nodes(model.graph):
        spec = specs.get((node.domain, node.op_type))
        if spec is None:
            continue
        reason = unsupported_reason(spec)
        if reason is not None:
            kept[spec.plugin.name] = reason
            continue
        node.domain = NAMESPACE
        for attr in node.attribute:
            if attr.name == "plugin_namespace":
                attr.s = NAMESPACE.encode()
    used = any(node.domain == NAMESPACE for _, node in iter_nodes(model.graph))
    if used and NAMESPACE not in {imp.domain for imp in model.opset_import}:
        model.opset_import.append(helper.make_opsetid(NAMESPACE, PLUGIN_OPSET))
    for change in result.changes:
        if change.action not in (REPLACED, FUSED) or not change.plugin:
            continue
        name = change.plugin.split(" ")[0]
        if name in kept:
            change.reason = f"native plugin: its prototype cannot run as a TensorRT plugin ({kept[name]})"
        else:
            change.plugin = change.plugin.replace("(trtplug)", f"({NAMESPACE})")
