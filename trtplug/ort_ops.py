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
