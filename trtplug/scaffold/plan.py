"""The files a scaffolded op consists of, and everything their templates need to know.

The template context is computed here, once, so templates stay declarative: C++ and Python
names, the TensorRT type of each tensor, launcher arguments, output shape rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trtplug.scaffold.describe import OpDescription, TensorDesc
from trtplug.scaffold.elementwise import elementwise_body
from trtplug.scaffold.names import OpNames, lower_camel
from trtplug.scaffold.shapes import output_rules
from trtplug.scaffold.signatures import add_signatures
from trtplug.shape_rules import VALUE_DEPENDENT

TRT_TYPES = {
    "float32": "kFLOAT",
    "float16": "kHALF",
    "bfloat16": "kBF16",
    "int8": "kINT8",
    "uint8": "kUINT8",
    "int32": "kINT32",
    "int64": "kINT64",
    "bool": "kBOOL",
}
CUDA_TYPES = {"float32": "float", "float16": "__half", "bfloat16": "__nv_bfloat16"}
# A commented value rule per attribute type, for the spec to fill in (trtplug/attr_rules.py).
RULE_EXAMPLES = {
    "int": "min = 0, max = 8",
    "ints": "max_length = 4, min = 1",
    "float": "min = 0.0",
    "floats": "min_length = 1, min = 0.0",
    "string": 'choices = ["a", "b"]',
}
TOLERANCES = {"float32": ("1e-5", "1e-5"), "float16": ("2e-3", "2e-3"), "bfloat16": ("1e-2", "1e-2")}


@dataclass(frozen=True)
class OpFile:
    path: str  # relative to the target root
    template: str


def op_files(key: str) -> list[OpFile]:
    return [
        OpFile(f"plugins/{key}/spec.toml", "op/spec.toml.j2"),
        OpFile(f"plugins/{key}/{key}.h", "op/op.h.j2"),
        OpFile(f"plugins/{key}/{key}.cu", "op/op.cu.j2"),
        OpFile(f"plugins/{key}/binding.cpp", "op/binding.cpp.j2"),
        OpFile(f"plugins/{key}/plugin.cpp", "op/plugin.cpp.j2"),
        OpFile(f"pyplugins/{key}.py", "op/pyplugin.py.j2"),
    ]


def op_context(desc: OpDescription, names: OpNames) -> dict[str, Any]:
    body = None if desc.inputs[-1].variadic else elementwise_body(desc)
    rules = output_rules(desc, body)
    inputs = [_tensor(desc, t, i, "input") for i, t in enumerate(desc.inputs)]
    outputs = [_tensor(desc, t, i, "output") for i, t in enumerate(desc.outputs)]
    for out, (rule, known) in zip(outputs, rules, strict=True):
        out.update(rule=rule, rule_known=known, shape_cpp=_shape_cpp(rule, desc), size_tensor=False)
    size_tensors = _size_tensors(outputs)
    outputs += size_tensors
    for t in (*inputs, *outputs):
        t["trt_check"] = _trt_check(t, inputs)
    dtypes = desc.dtypes_of(desc.inputs[0])
    ctx = {
        "desc": desc,
        "names": names,
        "kind": "todo" if body is None else ("unary" if body.arity == 1 else "binary"),
        "body": body,
        "inputs": inputs,
        "outputs": outputs,
        "plugin_inputs": [t for t in inputs if not t["shape_input"]],
        "shape_inputs": [t for t in inputs if t["shape_input"]],
        # The plugin's inputs up to its last required one (absent optional ones before it: empty tensors).
        "min_inputs": max((t["position"] + 1 for t in inputs if not t["shape_input"] and not t["optional"]), default=0),
        "attributes": [_attribute(a) for a in desc.attributes],
        # Optional outputs: the rewrite sets this derived attribute to the count the node uses.
        # (A spec with size tensors has none: its plugin always produces every output.)
        "output_count": len(desc.outputs) if any(t.optional for t in desc.outputs) and not size_tensors else None,
        "size_tensors": size_tensors,
        "min_outputs": sum(not t.optional for t in desc.outputs),
        "constraints": {k: list(v) for k, v in desc.type_constraints.items()},
        "dtypes": [{"name": d, "trt": TRT_TYPES[d], "cuda": CUDA_TYPES.get(d)} for d in dtypes],
        "tolerances": _tolerances(desc, dtypes),
        "reference": _reference_kind(desc),
        "uses_shapes": body is None or body.arity == 2,
        "variadic": inputs[-1] if desc.inputs[-1].variadic else None,
    }
    add_signatures(ctx)
    return ctx


def _tolerances(desc: OpDescription, dtypes: list[str]) -> dict[str, tuple[str, str]]:
    """Tolerances of the first input's dtypes and of every float dtype an output can take (an op
    on integer codes, such as GatherBlockQuantized, is judged in its float output's dtype);
    integer dtypes compare exactly."""
    outputs = [d for t in desc.outputs for d in desc.dtypes_of(t) if d in TOLERANCES]
    return {d: TOLERANCES.get(d, ("0", "0")) for d in dict.fromkeys([*dtypes, *outputs])}


def _size_tensors(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One 0-D int32 size tensor after the outputs, the extent every data-dependent ("dynamic:")
    output shares until the user writes the real shapes (add one per extent that differs)."""
    dynamic = [t for t in outputs if t["rule"].startswith(VALUE_DEPENDENT)]
    if not dynamic:
        return []
    name = f"{dynamic[0]['name']}_count"
    index = len(outputs)
    for t in dynamic:
        t["size_index"] = index
    return [
        {
            **{k: None for k in ("anchor", "anchor_position")},
            **{k: False for k in ("optional", "shape_input", "rule_known")},
            "name": name,
            "type": "int32",
            "index": index,
            "position": index,
            "role": "output",
            "cpp": lower_camel(name),
            "dtypes": ["int32"],
            "trt_types": ["kINT32"],
            "rule": "",
            "shape_cpp": "",
            "size_tensor": True,
        }
    ]


def plugin_positions(desc: OpDescription) -> dict[int, int]:
    """Spec input index -> the plugin's input position: shape inputs reach only outputShapes."""
    kept = [i for i, t in enumerate(desc.inputs) if not t.shape_input]
    return {spec_index: position for position, spec_index in enumerate(kept)}


def _tensor(desc: OpDescription, t: TensorDesc, index: int, role: str) -> dict[str, Any]:
    positions = plugin_positions(desc)
    anchor = next(
        (i for i, x in enumerate(desc.inputs) if x.type == t.type and not x.optional and i in positions), None
    )
    anchor = None if role == "input" and anchor == index else anchor
    return {
        "name": t.name,
        "type": t.type,
        "optional": t.optional,
        "shape_input": role == "input" and t.shape_input,
        "index": index,
        "position": positions.get(index) if role == "input" else index,
        "role": role,
        "cpp": lower_camel(t.name),
        "dtypes": list(desc.dtypes_of(t)),
        "trt_types": [TRT_TYPES[d] for d in desc.dtypes_of(t)],
        "anchor": anchor,
        "anchor_position": None if anchor is None else positions[anchor],
        "variadic": role == "input" and t.variadic,
        "min_count": t.min_count,
    }


def _trt_check(t: dict[str, Any], inputs: list[dict[str, Any]]) -> str:
    """supportsFormatCombination's type test for tensor t (`d` is its desc, inOut the combination)."""
    if t["anchor"] is not None:
        return f"d.type == inOut[{t['anchor_position']}].desc.type"
    if t["role"] == "input" and t["index"] == 0:
        return "isSupported(d.type)"
    return " || ".join(f"d.type == DataType::{trt}" for trt in t["trt_types"])


def _shape_cpp(rule: str, desc: OpDescription) -> str:
    """getOutputShapes' expression for an output with this shape rule."""
    kind, _, ref = rule.partition(":")
    if kind == VALUE_DEPENDENT:
        return ""  # the template declares the size tensor
    positions = plugin_positions(desc)
    index = {t.name: positions[i] for i, t in enumerate(desc.inputs) if i in positions}
    if kind == "broadcast":
        a, b = (index[r] for r in ref.split(","))
        return f"broadcastDims(in[{a}], in[{b}], expr)"
    if kind == "last_dim_of":
        return f"lastDimOf(in[{index[ref]}], expr)"
    return f"in[{index[ref]}]"


def _attribute(attr: Any) -> dict[str, Any]:
    return {
        "name": attr.name,
        "type": attr.type,
        "required": attr.required,
        "default_toml": _toml_value(attr.type, _default(attr)),
        "schema_default": attr.default is not None,
        "choices": attr.choices,
        "choices_toml": "[" + ", ".join(_toml_value(attr.type, c) for c in attr.choices or ()) + "]",
        "rule_example": RULE_EXAMPLES[attr.type],
    }


def _default(attr: Any) -> Any:
    """The spec needs a default for every optional attribute; the schema sometimes has none."""
    if attr.default is not None:
        return attr.default
    return {"int": 0, "ints": [], "float": 0.0, "floats": [], "string": ""}[attr.type]


def _float_text(value: float) -> str:
    """Shortest text that reads back as the same float32 (0.01, not 0.009999999776482582)."""
    text = np.format_float_positional(np.float32(value), unique=True, trim="0")
    return text if not text.endswith(".") else text + "0"


def _toml_value(kind: str, value: Any) -> str:
    if kind == "string":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "float":
        return _float_text(value)
    if kind == "floats":
        return "[" + ", ".join(_float_text(v) for v in value) + "]"
    if kind == "ints":
        return "[" + ", ".join(str(int(v)) for v in value) + "]"
    return str(int(value))


def _reference_kind(desc: OpDescription) -> str:
    if desc.is_standard and desc.from_schema:
        return "onnx-reference"
    return "onnxruntime" if desc.domain == "com.microsoft" else "numpy"
