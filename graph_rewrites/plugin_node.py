"""Node -> plugin node, driven by the op's spec: what TensorRT's plugin importer needs to find
and create the plugin.

op_type = plugin name, domain = plugin namespace, `plugin_version`/`plugin_namespace` set;
every spec attribute present as a field (node attribute, folded constant input, default, or
derived); shape inputs listed in `tensorrt_plugin_shape_input_indices`, those with a spec
`data_copy` passed once more, as regular inputs after the others; node and tensor names kept.
`plan` decides (raising NotRewritable with the reason), `apply` edits the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from trtplug.attr_rules import length_of_problems, value_problem, when_set_problems
from trtplug.onnx_common import dtype_name
from trtplug.shape_rules import apply_rule, is_value_dependent, rule_inputs
from trtplug.spec import OpSpec, TensorSpec
from trtplug.variadic import MAX_VARIADIC_INPUTS, expanded_inputs, variadic_input

from .attributes import NotRewritable, attribute_map, convert, make_field, raw_value
from .graph_view import GraphView, TensorType
from .packed_tables import repack_four_bit_inputs

SHAPE_INPUTS_ATTRIBUTE = "tensorrt_plugin_shape_input_indices"
_ELEM_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "int32": 6, "int64": 7, "bool": 9, "float16": 10, "bfloat16": 16}


def plugin_domain(spec: OpSpec) -> str:
    """The node domain of a plugin node: its namespace (a non-empty one keeps the checker happy)."""
    return spec.plugin.namespace or "trtplug"


@dataclass
class Plan:
    spec: OpSpec
    inputs: list[str]
    outputs: list[str]
    fields: list[onnx.AttributeProto]
    mapping: list[str] = field(default_factory=list)  # "name=value (where it came from)"
    folded: list[str] = field(default_factory=list)  # constant input tensors now held as fields
    output_types: dict[str, TensorType] = field(default_factory=dict)
    placeholders: list[onnx.TensorProto] = field(default_factory=list)  # empty stand-ins for absent inputs
    repacked: list[onnx.TensorProto] = field(default_factory=list)  # uint8 copies of 4-bit tables (packed_tables.py)


def plan(spec: OpSpec, node: onnx.NodeProto, view: GraphView) -> Plan:
    """How `node` becomes a `spec` plugin node; NotRewritable(reason) when it cannot."""
    repacked = repack_four_bit_inputs(node, view)
    node = repacked.node if repacked is not None else node  # the plan reads the uint8 tables
    bound, dtypes = _bind_inputs(spec, node, view)
    fields, mapping, folded = _fields(spec, node, view, bound)
    problem = _prototype_node_problem(spec, bound, view, fields)
    if problem:
        raise NotRewritable(problem)
    plugin_inputs = [t for t in node_tensors(spec, node) if t.fold_into is None]
    inputs = [bound.get(t.name, "") for t in plugin_inputs]
    while inputs and not inputs[-1] and not spec.data_copies:  # data copies sit at a fixed position
        inputs.pop()
    # TensorRT passes inputs by position: an absent optional input before a present one becomes an
    # empty (zero-element) constant, which the plugins read as absent.
    placeholders = []
    for i, name in enumerate(inputs):
        if not name:
            tensor = plugin_inputs[i]
            dtype = dtypes.get(tensor.type) or spec.unbound_dtype(tensor.type, dtypes) or spec.dtypes_of(tensor)[0]
            inputs[i] = view.fresh_name(f"{node.name or node.output[0]}_absent_{tensor.name}")
            placeholders.append(helper.make_tensor(inputs[i], _ELEM_TYPES[dtype], [0], []))
    shape_indices = [i for i, t in enumerate(plugin_inputs[: len(inputs)]) if t.shape_input]
    copies = [t.name for t in spec.data_copies]
    inputs += [bound[name] for name in copies]  # shape values for enqueue (a shape input never reaches it)
    outputs = _outputs(spec, node, view)
    counted = spec.derived_attribute("output_count")
    if counted is not None:
        fields.append(make_field(counted.name, "int", len(outputs)))
        mapping.append(f"{counted.name}={len(outputs)} (outputs in use)")
    fields.append(helper.make_attribute("plugin_version", spec.plugin.version))
    fields.append(helper.make_attribute("plugin_namespace", spec.plugin.namespace))
    if shape_indices:
        fields.append(make_field(SHAPE_INPUTS_ATTRIBUTE, "ints", shape_indices))
        mapping.append(f"{SHAPE_INPUTS_ATTRIBUTE}={shape_indices} (spec shape_input)")
    mapping += [f"{bound[name]}: {name} again as a device tensor (spec data_copy)" for name in copies]
    mapping += [
        f"{p.name}: empty {plugin_inputs[inputs.index(p.name)].name} (absent optional input)" for p in placeholders
    ]
    if repacked is not None:
        chosen = tuple(f"{name}=" for name in repacked.set_attributes)
        relabel = "(node attribute)", "(the uint8 repack's)"
        mapping = [m.replace(*relabel) if m.startswith(chosen) else m for m in mapping]
        mapping += repacked.notes
        folded += repacked.released  # removed unless another node reads them
    result = Plan(spec, inputs, outputs, fields, mapping, folded, placeholders=placeholders)
    result.repacked = repacked.tensors if repacked is not None else []
    attrs = {f.name: helper.get_attribute_value(f) for f in fields}  # the axis rules read the node's axis
    result.output_types = _output_types(spec, outputs, bound, dtypes, view, attrs)
    return result


def apply(node: onnx.NodeProto, chosen: Plan) -> None:
    node.op_type, node.domain = chosen.spec.plugin.name, plugin_domain(chosen.spec)
    del node.input[:]
    node.input.extend(chosen.inputs)
    del node.output[:]
    node.output.extend(chosen.outputs)
    del node.attribute[:]
    node.attribute.extend(chosen.fields)


def node_tensors(spec: OpSpec, node: onnx.NodeProto) -> tuple[TensorSpec, ...]:
    """The spec's inputs as `node` uses them: a variadic last input once per tensor the node
    passes (trtplug/variadic.py names them); NotRewritable when the node has too many or few.
    Trailing empty input names count as left out, as in ONNX."""
    variadic = variadic_input(spec)
    fixed = len(spec.inputs) - (variadic is not None)
    most = fixed + (MAX_VARIADIC_INPUTS if variadic is not None else 0)
    given = len(node.input)
    while given and not node.input[given - 1]:
        given -= 1
    if given > most:
        # A fixed list is named: the reader sees which input the plugin lacks (GatedAdd's gate_weight).
        takes = f" ({', '.join(t.name for t in spec.inputs)})" if variadic is None else ""
        raise NotRewritable(f"{given} inputs, {spec.plugin.name} takes at most {most}{takes}")
    if variadic is not None and given < fixed + variadic.min_count:
        least = fixed + variadic.min_count
        raise NotRewritable(f"{given} inputs, {spec.plugin.name} takes at least {least}")
    return expanded_inputs(spec, given - fixed)


def _bind_inputs(spec: OpSpec, node: onnx.NodeProto, view: GraphView) -> tuple[dict[str, str], dict[str, str]]:
    """Spec input name -> tensor name (present inputs), and type constraint -> dtype."""
    bound: dict[str, str] = {}
    dtypes: dict[str, str] = {}
    for index, tensor in enumerate(node_tensors(spec, node)):
        name = node.input[index] if index < len(node.input) else ""
        if not name:
            if not tensor.optional:
                raise NotRewritable(f"required input {tensor.name!r} is missing")
            continue
        bound[tensor.name] = name
        if tensor.fold_into is not None:
            continue  # becomes a field; its value is checked as the attribute's
        dtype = view.dtype(name)
        if dtype is None:
            raise NotRewritable(f"the dtype of input {tensor.name!r} ({name}) is unknown to shape inference")
        allowed = spec.dtypes_of(tensor)
        if dtype not in allowed:
            raise NotRewritable(
                f"input {tensor.name!r} ({name}) is {dtype}; {spec.plugin.name} supports {', '.join(allowed)}"
            )
        if dtypes.setdefault(tensor.type, dtype) != dtype:
            other = dtypes[tensor.type]
            raise NotRewritable(f"input {tensor.name!r} is {dtype} but another {tensor.type} input is {other}")
        shape = view.shape(name)
        if shape is not None and len(shape) < tensor.min_rank:
            raise NotRewritable(f"input {tensor.name!r} has rank {len(shape)}; the plugin needs >= {tensor.min_rank}")
    return bound, dtypes


def _fields(
    spec: OpSpec, node: onnx.NodeProto, view: GraphView, bound: dict[str, str]
) -> tuple[list[onnx.AttributeProto], list[str], list[str]]:
    attrs = attribute_map(node)
    known = {a.name for a in spec.onnx_attributes}
    for name in attrs:
        if name not in known:
            raise NotRewritable(f"attribute {name!r} is not a field of {spec.plugin.name} (TensorRT would drop it)")
    folding = {t.fold_into: t for t in spec.inputs if t.fold_into}
    fields, mapping, folded = [], [], []
    values: dict[str, Any] = {}  # converted field values, for the rules between attributes
    for attr in spec.onnx_attributes:
        source = folding.get(attr.name)
        tensor = bound.get(source.name, "") if source else ""
        if tensor:
            value = view.constant(tensor)
            if value is None:
                raise NotRewritable(
                    f"input {source.name!r} ({tensor}) is not a constant; {spec.plugin.name} takes it as "
                    f"attribute {attr.name!r}"
                )
            origin = f"constant input {tensor}"
            folded.append(tensor)
        elif attr.name in attrs:
            value, origin = raw_value(attrs[attr.name], view.base_dir or ""), "node attribute"
        elif attr.required:
            raise NotRewritable(f"required attribute {attr.name!r} is missing{_schema_default_note(node, attr.name)}")
        else:
            value, origin = attr.default, "absent on the node" if attr.default_means_absent else "default"
        converted = convert(attr.name, attr.type, value)
        problem = value_problem(attr, converted, _input_ranks(view, bound))
        if problem:
            raise NotRewritable(f"attribute {attr.name!r}: {problem}")
        fields.append(make_field(attr.name, attr.type, converted))
        mapping.append(f"{attr.name}={_short(converted)} ({origin})")
        values[attr.name] = converted
    present = {name for name, tensor in bound.items() if tensor}
    problems = [*length_of_problems(spec, values), *when_set_problems(spec, values, present)]
    problem = next(iter(problems), None)  # rules between attributes (and inputs)
    if problem:
        raise NotRewritable(problem)
    return fields, mapping, folded


def _prototype_node_problem(
    spec: OpSpec, bound: dict[str, str], view: GraphView, fields: list[onnx.AttributeProto]
) -> str | None:
    """The op prototype's own verdict on the node's static input shapes and types, where it has one:
    `node_problem(shapes, attrs, dtypes)`, both by spec input name (None: unknown to inference).
    For layouts no spec rule states (QMoE's raw codes against CUDA-prepacked ones)."""
    from trtplug.prototypes import pyplugin_module  # on first use: prototypes import NumPy-heavy helpers

    try:
        check = getattr(pyplugin_module(spec), "node_problem", None)
    except ImportError:
        return None
    if check is None:
        return None
    attrs = {f.name: helper.get_attribute_value(f) for f in fields}
    attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
    shapes = {name: view.shape(tensor) for name, tensor in bound.items()}
    return check(shapes, attrs, {name: view.dtype(tensor) for name, tensor in bound.items()})


def _schema_default_note(node: onnx.NodeProto, name: str) -> str:
    """Where the ONNX schema gives the absent attribute a default: the value the node means,
    which the plugin does not take (Resize's antialias = 0 is TensorRT's own Resize)."""
    try:
        schema = onnx.defs.get_schema(node.op_type, node.domain or "")
    except onnx.defs.SchemaError:
        return ""
    attr = schema.attributes.get(name)
    if attr is None or attr.default_value.type == onnx.AttributeProto.UNDEFINED:
        return ""
    value = helper.get_attribute_value(attr.default_value)
    value = value.decode() if isinstance(value, bytes) else value
    return f": the ONNX default {name}={value!r} applies, which the plugin does not take"


def _input_ranks(view: GraphView, bound: dict[str, str]) -> dict[str, int]:
    """Spec input name -> rank, for the inputs whose shape inference knows the rank (axis_of rules)."""
    shapes = {name: view.shape(tensor) for name, tensor in bound.items()}
    return {name: len(shape) for name, shape in shapes.items() if shape is not None}


def _outputs(spec: OpSpec, node: onnx.NodeProto, view: GraphView) -> list[str]:
    """The plugin node's outputs: unused trailing ones dropped where the plugin can skip them
    (an output_count field), unnamed ones the plugin still produces given fresh names."""
    if len(node.output) > len(spec.outputs):
        raise NotRewritable(f"{len(node.output)} outputs, {spec.plugin.name} has {len(spec.outputs)}")
    used = list(node.output)
    while used and not used[-1]:
        used.pop()
    unused = spec.unused_required_output(list(node.output))
    if unused is not None:  # e.g. a one-output MaxPool: TensorRT imports it; the plugin is for Indices
        raise NotRewritable(f"the node does not use output {unused!r}, which {spec.plugin.name} exists for")
    if spec.derived_attribute("output_count") is None:
        count = len(spec.outputs)  # the plugin always produces every output
    else:
        required = max(i for i, t in enumerate(spec.outputs) if not t.optional) + 1
        count = max(len(used), required)
    used += [""] * (count - len(used))
    base = node.name or node.op_type
    named = [name or view.fresh_name(f"{base}_{spec.outputs[i].name}_unused") for i, name in enumerate(used)]
    # TensorRT's parser binds every plugin output to a node output: size tensors get names too.
    return named + [view.fresh_name(f"{base}_{t.name}") for t in spec.size_tensors]


def _output_types(
    spec: OpSpec,
    outputs: list[str],
    bound: dict[str, str],
    dtypes: dict[str, str],
    view: GraphView,
    attrs: dict[str, Any],
) -> dict[str, TensorType]:
    shapes = {name: view.shape(tensor) for name, tensor in bound.items()}
    types = types_from_rules(spec, outputs, dtypes, shapes, attrs)
    # Where the rule cannot tell (value-dependent extents, inputs of unknown shape), the type ONNX
    # inferred for the replaced node's output stands: the plugin writes the same tensor (NonZero's
    # [rank, N] keeps its rank, so every node after it stays typed for the parser and `check`).
    for name, info in types.items():
        inferred = view.shape(name) if info.shape is None else None
        if inferred is not None:
            types[name] = TensorType(info.elem_type, inferred)
    return types


def types_from_rules(
    spec: OpSpec,
    outputs: list[str],
    dtypes: dict[str, str],
    shapes: dict[str, Any],
    attrs: dict[str, Any] | None = None,
) -> dict[str, TensorType]:
    """Output name -> type by the spec: dtype of the bound type constraint, shape by the rule
    (`attrs`: the node's attributes, for the rules that read its axis)."""
    types = {}
    for tensor, name in zip(spec.plugin_outputs, outputs, strict=False):
        if not name:
            continue
        dtype = spec.output_dtype(tensor, attrs or {}, dtypes)
        shape = () if tensor in spec.size_tensors else _rule_shape(tensor.shape, shapes, attrs)
        types[name] = TensorType(_ELEM_TYPES.get(dtype, 0), shape)
    return types


def _rule_shape(rule: str | None, shapes: dict[str, Any], attrs: dict[str, Any] | None = None) -> Any:
    """The rule's shape, or None (unknown) when an input it reads has no known shape, the shape
    depends on input values, or symbolic dims do not fit the rule."""
    if rule is None or is_value_dependent(rule) or any(shapes.get(n) is None for n in rule_inputs(rule)):
        return None
    try:
        return apply_rule(rule, shapes, attrs)
    except (TypeError, ValueError):
        return None


def spec_output_types(spec: OpSpec, node: onnx.NodeProto, types: dict[str, TensorType]) -> dict[str, TensorType]:
    """Types of the outputs of a node the spec covers (ONNX inference knows no contrib op)."""
    bound = {t.name: name for t, name in zip(spec.inputs, node.input, strict=False) if name}
    dtypes: dict[str, str] = {}
    for tensor in spec.inputs:
        info = types.get(bound.get(tensor.name, ""))
        if info is not None and info.elem_type:
            dtypes.setdefault(tensor.type, dtype_name(info.elem_type))
    shapes = {name: types[t].shape if t in types else None for name, t in bound.items()}
    attrs = {a.name: a.default for a in spec.attributes}
    attrs |= {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return types_from_rules(spec, list(node.output), dtypes, shapes, attrs)


def _short(value: Any) -> str:
    """Report text of a field value; floats as the shortest text of their float32 (the field type)."""
    if isinstance(value, float):
        text = str(np.float32(value))
    elif isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        text = "[" + ", ".join(str(np.float32(v)) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
