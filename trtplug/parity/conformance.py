"""ONNX conformance node cases as the primary reference for specs that replace ai.onnx ops.

The installed `onnx` package ships, for each standard op, one-node models with inputs and the
expected outputs (onnx.backend.test.case.node). Each case of an op a spec replaces becomes a
parity case named "onnx:<test name>": inputs map onto the spec's inputs by position, node
attributes onto the spec's attributes. Cases the spec cannot run (a dtype it does not
support, an attribute it does not know, an opset it does not cover) are kept as skips with
the reason, so a report shows what the plugin leaves out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from trtplug.attr_rules import spec_value_problems
from trtplug.onnx_common import is_standard_domain
from trtplug.parity.cases import Case, default_attrs
from trtplug.spec import OpSpec
from trtplug.variadic import count_in, count_problem, expanded_inputs


@dataclass(frozen=True, eq=False)
class ConformanceCase:
    case: Case
    dtype: str  # of the spec's first input
    inputs: dict[str, np.ndarray]
    expected: list[np.ndarray]
    skip: str | None = None  # why the spec cannot run this case


@cache
def _node_testcases() -> tuple[Any, ...]:
    """Every one-node conformance case of the installed onnx (collecting them warns about casts)."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    return tuple(c for c in cases if c.model is not None and len(c.model.graph.node) == 1 and c.data_sets)


def _standard_op_types(spec: OpSpec) -> set[str]:
    return {r.op_type for r in spec.replaces if is_standard_domain(r.domain)}


def conformance_cases(spec: OpSpec) -> list[ConformanceCase]:
    """The conformance cases of the standard ops `spec` replaces (none for other domains)."""
    op_types = _standard_op_types(spec)
    if not op_types:
        return []
    found = []
    for test in _node_testcases():
        node = test.model.graph.node[0]
        if node.op_type not in op_types or not is_standard_domain(node.domain):
            continue
        opset = next(o.version for o in test.model.opset_import if is_standard_domain(o.domain))
        for index, (ins, outs) in enumerate(test.data_sets):
            name = f"onnx:{test.name}" + (f"#{index}" if len(test.data_sets) > 1 else "")
            found.append(_make_case(spec, name, node, opset, list(ins), list(outs)))
    return found


def _make_case(spec: OpSpec, name: str, node: Any, opset: int, ins: list, outs: list) -> ConformanceCase:
    from onnx import helper

    inputs: dict[str, np.ndarray] = {}
    values = iter(ins)  # the data set holds the named inputs only: an absent one ("") takes none
    count = count_in(spec, len(node.input))
    for tensor, onnx_name in zip(expanded_inputs(spec, count), node.input, strict=False):
        if onnx_name:
            inputs[tensor.name] = np.asarray(next(values))
    attrs = default_attrs(spec)
    counter = spec.derived_attribute("output_count")
    if counter is not None:  # the outputs up to the node's last used one, as the rewrite sets it
        attrs[counter.name] = max((i + 1 for i, o in enumerate(node.output) if o), default=1)
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        attrs[attribute.name] = value.decode() if isinstance(value, bytes) else value
    case = Case(name, {k: tuple(v.shape) for k, v in inputs.items()}, attrs, variadic_count=count)
    # The dtype the op runs in (spec.dtypes' input: the first floating one, else the first).
    deciding = next((t for t in spec.inputs if spec.dtypes_of(t) == spec.dtypes), spec.inputs[0])
    first = inputs.get(deciding.name, inputs.get(spec.inputs[0].name))
    dtype = str(first.dtype) if first is not None else "none"
    skip = _unsupported(spec, node, opset, inputs, attrs)
    return ConformanceCase(case, dtype, inputs, [np.asarray(o) for o in outs], skip)


def _unsupported(spec: OpSpec, node: Any, opset: int, inputs: dict[str, np.ndarray], attrs: dict) -> str | None:
    """Why `spec` cannot run this case, or None."""
    if not any(r.covers("", node.op_type, opset) for r in spec.replaces):
        return f"opset {opset} of {node.op_type} is not covered by {spec.plugin.name}"
    count = count_in(spec, len(node.input))
    problem = count_problem(spec, count)
    if problem is not None:
        return problem
    tensors = expanded_inputs(spec, count)
    if len(node.input) > len(tensors):
        return f"{len(node.input)} inputs, the spec has {len(spec.inputs)}"
    used = len([o for o in node.output if o])
    if spec.derived_attribute("output_count") is not None and "" in node.output[:used]:
        return "the node leaves an output before its last used one unnamed (its expected values are not stored)"
    required = len([t for t in spec.outputs if not t.optional])
    if not required <= used <= len(spec.outputs):
        return f"the node has {used} outputs; {spec.plugin.name} replaces nodes with {required}..{len(spec.outputs)}"
    known = {a.name for a in spec.onnx_attributes}
    for name in attrs:
        if name not in known and name not in {a.name for a in spec.attributes}:
            return f"attribute {name!r} is not supported by {spec.plugin.name}"
    missing = [a.name for a in spec.onnx_attributes if a.required and a.name not in attrs]
    if missing:
        return f"attribute {missing[0]!r} is absent; {spec.plugin.name} requires it"
    broken = spec_value_problems(spec, {k: v for k, v in attrs.items() if k in known})
    if broken:
        return f"{broken[0]} ({spec.plugin.name} leaves such nodes alone)"
    for tensor in tensors:
        if tensor.name in inputs and str(inputs[tensor.name].dtype) not in spec.dtypes_of(tensor):
            dtype = inputs[tensor.name].dtype
            return f"input {tensor.name!r} is {dtype}; {spec.plugin.name} supports {', '.join(spec.dtypes_of(tensor))}"
    missing = [t.name for t in tensors if not t.optional and t.name not in inputs]
    if missing:
        return f"required input {missing[0]!r} absent"
    return None
