"""The part of a rewritten model before its first trtplug plugin node, for the whole-model parse.

A parser rejects a plugin node it has no creator for in its static checks, before it imports any
node, so the whole-model parse of a rewritten model confirms nothing: every node that fails only
in isolation (a Pad whose pads are computed from the input's shape) would stand. The prefix (the
top-level nodes before the first plugin node, its outputs the tensors later nodes read) parses on
its own and confirms those nodes in context.
"""

from __future__ import annotations

import onnx

from trtplug.model_io import subgraph_references


def plugin_prefix(model: onnx.ModelProto, plugin_domains: set[str]) -> tuple[bytes, int] | None:
    """(the prefix model, the index of the first plugin node), or None when the main graph has no
    plugin node or nothing before it that later nodes read."""
    nodes = model.graph.node
    first = next((i for i, n in enumerate(nodes) if n.domain in plugin_domains), None)
    if not first:
        return None
    read_later = {o.name for o in model.graph.output}
    for node in nodes[first:]:
        read_later.update(node.input)
        read_later |= subgraph_references(node)
    produced = [o for n in nodes[:first] for o in n.output if o]
    outputs = [name for name in dict.fromkeys(produced) if name in read_later]
    if not outputs:
        return None
    types = {v.name: v for v in (*model.graph.value_info, *model.graph.output)}
    prefix = onnx.ModelProto()
    prefix.CopyFrom(model)
    graph = prefix.graph
    del graph.node[first:]
    del graph.output[:]
    graph.output.extend(types[name] if name in types else onnx.ValueInfoProto(name=name) for name in outputs)
    return prefix.SerializeToString(), first
