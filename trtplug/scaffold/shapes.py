"""Output shape rules of a scaffolded op (trtplug/shape_rules.py), from its elementwise kind or
by asking ONNX shape inference about a one-node model; (rule, known) per output, where an
unknown rule is a placeholder the generated spec marks TODO. An output whose inferred shape
has an unknown extent (NonZero's) is data-dependent: "dynamic:", with a size tensor."""

from __future__ import annotations

import numpy as np

from trtplug.scaffold.describe import OpDescription
from trtplug.scaffold.elementwise import Elementwise
from trtplug.shape_rules import VALUE_DEPENDENT

_PROBE_SHAPE = (3, 5, 17)


def output_rules(desc: OpDescription, body: Elementwise | None) -> list[tuple[str, bool]]:
    first = desc.inputs[0].name
    if desc.inputs[-1].variadic:  # the shape follows every tensor (Concat's axis sum, Sum's broadcast)
        return [
            (f"{VALUE_DEPENDENT}:{first}", False) if o.data_dependent else (f"same_as:{first}", False)
            for o in desc.outputs
        ]
    if body is not None:
        if body.arity == 2 and body.broadcast == "multidirectional":
            return [(f"broadcast:{first},{desc.inputs[1].name}", True)]
        return [(f"same_as:{first}", True)]
    inferred = _inferred_shapes(desc)
    rules = []
    for i, out in enumerate(desc.outputs):
        shape = inferred[i] if inferred and i < len(inferred) else None
        if out.data_dependent or (shape is not None and None in shape):
            rules.append((f"{VALUE_DEPENDENT}:{first}", False))  # extent known from a run: a size tensor
        elif shape == _PROBE_SHAPE:
            rules.append((f"same_as:{first}", True))
        elif shape == _PROBE_SHAPE[-1:]:
            rules.append((f"last_dim_of:{first}", True))
        else:
            rules.append((f"same_as:{first}", False))
    return rules


def _inferred_shapes(desc: OpDescription) -> list[tuple[int, ...] | None] | None:
    """Output shapes ONNX infers when every required input has _PROBE_SHAPE (None for a dim it
    leaves unknown: a data-dependent extent); None if it cannot."""
    if not desc.from_schema:
        return None
    import onnx
    from onnx import helper

    required = [t for t in desc.inputs if not t.optional]
    if any(t.shape_input or desc.dtypes_of(t)[0] not in ("float32", "float16") for t in required):
        return None  # index/shape inputs need real values, not a probe shape
    attrs = {a.name: a.default for a in desc.attributes if a.default is not None}
    node = helper.make_node(desc.op_type, [t.name for t in required], [t.name for t in desc.outputs], **attrs)
    node.domain = desc.domain
    elem = helper.np_dtype_to_tensor_dtype
    graph = helper.make_graph(
        [node],
        "probe",
        [helper.make_tensor_value_info(t.name, elem(np.dtype(desc.dtypes_of(t)[0])), _PROBE_SHAPE) for t in required],
        [helper.make_tensor_value_info(t.name, onnx.TensorProto.UNDEFINED, None) for t in desc.outputs],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(desc.domain, desc.since_version)])
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:  # inference refusing the probe just means the rule is left to the user
        return None
    shapes = []
    for out in inferred.graph.output:
        dims = out.type.tensor_type.shape.dim if out.type.tensor_type.HasField("shape") else None
        shapes.append(None if dims is None else tuple(d.dim_value if d.HasField("dim_value") else None for d in dims))
    return shapes
