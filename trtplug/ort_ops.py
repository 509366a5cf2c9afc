"""ONNX Runtime's extensions of the default domain, which the ONNX checker does not know.

ONNX Runtime registers some contrib ops in the default domain (SimplifiedLayerNormalization,
emitted by ONNX Runtime GenAI's model builder into every Llama/Qwen decoder layer). The ONNX
checker refuses them ("No Op registered for ..."), while ONNX Runtime loads the model. Such a node
is validated here against ONNX Runtime's own schema when onnxruntime is installed (input and
output counts), and the checker then sees it in a private domain, which it does not validate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache

import onnx

from trtplug.errors import TrtplugError
from trtplug.onnx_common import is_standard_domain, iter_nodes

# Where the checker sees default-domain ops it has no schema for (never written to a model file).
CHECKER_DOMAIN = "trtplug.unchecked"


@cache
def ort_default_domain_schemas() -> dict[str, tuple[int, int, int, int]] | None:
    """op_type -> (min inputs, max inputs, min outputs, max outputs) of ONNX Runtime's
    default-domain ops unknown to onnx; None when onnxruntime is not installed."""
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state
    except ImportError:
        return None
    schemas = {}
    for schema in ort_state.get_all_operator_schema():
        if is_standard_domain(schema.domain) and not onnx.defs.has(schema.name):
            schemas[schema.name] = (schema.min_input, schema.max_input, schema.min_output, schema.max_output)
    return schemas


def unknown_default_domain_nodes(model: onnx.ModelProto) -> list[tuple[str, onnx.NodeProto]]:
    """Nodes of the default domain that no onnx schema describes (bodies included)."""
    functions = {f.name for f in model.functions if is_standard_domain(f.domain)}
    return [
        (path, node)
        for path, node in iter_nodes(model.graph)
        if is_standard_domain(node.domain) and node.op_type not in functions and not onnx.defs.has(node.op_type)
    ]


def validate_with_ort(nodes: list[tuple[str, onnx.NodeProto]], what: str) -> str | None:
    """Raise for a node ONNX Runtime does not know either, or whose counts break its schema;
    returns a note when onnxruntime is missing and the nodes went unvalidated."""
    schemas = ort_default_domain_schemas()
    if schemas is None:
        names = sorted({node.op_type for _, node in nodes})
        return f"not validated (onnxruntime not installed): {', '.join(names)}"
    for path, node in nodes:
        if not node.op_type:
            raise TrtplugError(f"{what}: node {path!r} has an empty op_type")
        if node.op_type not in schemas:
            raise TrtplugError(
                f"{what}: node {path!r}: no ONNX or ONNX Runtime op {node.op_type!r} in the default domain"
            )
        min_in, max_in, min_out, max_out = schemas[node.op_type]
        if not min_in <= len(node.input) <= max_in or not min_out <= len(node.output) <= max_out:
            raise TrtplugError(
                f"{what}: node {path!r} ({node.op_type}) has {len(node.input)} inputs and {len(node.output)} "
                f"outputs; ONNX Runtime's schema allows {min_in}..{max_in} and {min_out}..{max_out}"
            )
    return None


@contextlib.contextmanager
def hidden_from_checker(model: onnx.ModelProto, nodes: list[tuple[str, onnx.NodeProto]]) -> Iterator[None]:
    """Move `nodes` into CHECKER_DOMAIN for the duration (in place, no copy of the weights)."""
    if not nodes:
        yield
        return
    original = [node.domain for _, node in nodes]
    for _, node in nodes:
        node.domain = CHECKER_DOMAIN
    model.opset_import.add(domain=CHECKER_DOMAIN, version=1)
    try:
        yield
    finally:
        for (_, node), domain in zip(nodes, original, strict=True):
            node.domain = domain
        del model.opset_import[-1]


_TENSOR_TYPES = {f"tensor({onnx.helper.tensor_dtype_to_string(t).removeprefix('TensorProto.').lower()})": t for t in (
    onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE,
    onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT32, onnx.TensorProto.INT64,
    onnx.TensorProto.BOOL, onnx.TensorProto.FLOAT8E4M3FN)}  # fmt: skip


@cache
def _ort_type_signatures() -> dict[tuple[str, str], tuple[list[str], list[str], dict[str, list[int]]]]:
    """(domain, op_type) -> (input type params, output type params, param -> allowed elem types)
    from ONNX Runtime's schemas (latest version of each op); {} without onnxruntime."""
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state
    except ImportError:
        return {}
    latest: dict[tuple[str, str], object] = {}
    for schema in ort_state.get_all_operator_schema():
        key = ("" if is_standard_domain(schema.domain) else schema.domain, schema.name)
        if key not in latest or schema.since_version > latest[key].since_version:
            latest[key] = schema
    return {
        key: (
            [p.typeStr for p in s.inputs],
            [p.typeStr for p in s.outputs],
            {
                c.type_param_str: [_TENSOR_TYPES[t] for t in c.allowed_type_strs if t in _TENSOR_TYPES]
                for c in s.type_constraints
            },
        )
        for key, s in latest.items()
    }


def ort_output_elem_types(node: onnx.NodeProto, known: dict[str, int]) -> dict[str, int]:
    """Element types of a node's outputs from ONNX Runtime's schema of its op (contrib ops ONNX
    inference has no schema for): an output's type parameter bound by a typed input, or allowing
    one type only. `known` maps tensor names to element types."""
    domain = "" if is_standard_domain(node.domain) else node.domain
    signature = _ort_type_signatures().get((domain, node.op_type))
    if signature is None:
        return {}
    inputs, outputs, allowed = signature
    bound: dict[str, int] = {}
    for index, name in enumerate(node.input):
        param = inputs[min(index, len(inputs) - 1)] if inputs else None
        if name and param and name in known:
            bound.setdefault(param, known[name])
    found = {}
    for index, name in enumerate(node.output):
        param = outputs[min(index, len(outputs) - 1)] if outputs else None
        elem = bound.get(param) or (allowed.get(param, [None])[0] if len(allowed.get(param, [])) == 1 else None)
        if name and elem:
            found[name] = elem
    return found
