"""Graph passes: node -> plugin node, subgraph patterns -> plugin, and validation of the result.
An ordinary package installed as trtplug.graph_rewrites (pyproject's wheel.packages mapping; a
source checkout is installed editable by scripts/setup.sh); import it as
`from trtplug.graph_rewrites import pipeline`.

    pipeline.py        the whole rewrite of a model (patterns, node pass, cleanup, validation)
    plugin_node.py     one node -> plugin node, driven by the op's spec
    attributes.py      ONNX attribute values -> plugin fields by TensorRT's importer rules
    node_pass.py       the node pass over a graph; which specs cover which op
    pattern.py         the declarative pattern layer over onnx-graphsurgeon
    pattern_pass.py    the pattern pass over a graph (matching, checks, replacement, report)
    rule.py            Rule / Form / Fusion: what a rule file declares
    rule_discovery.py  built-in rules and a plugin project's graph_rewrites/ rules
    erf_gelu.py, tanh_gelu.py, skip_layer_norm.py   the rules (one per file, `RULE = Rule(...)`)
    gelu_forms.py, layer_norm_forms.py               patterns the rules share
    graph_view.py, tensor_types.py, validate.py, changes.py
"""
