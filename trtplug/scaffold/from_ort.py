"""The schemas ONNX Runtime registers beyond onnx's own (com.microsoft and its other contrib
domains), as `onnx.defs.OpSchema` objects, so that `trtplug new --from com.microsoft::Op`
scaffolds from the schema as it does for standard ops. Needs onnxruntime; None without it."""

from __future__ import annotations

from typing import Any


def ort_schema(domain: str, op_type: str, opset: int | None) -> Any | None:
    """ONNX Runtime's schema of domain::op_type in effect at `opset` (latest when None), converted;
    None when onnxruntime is absent or has no such op."""
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort
    except ImportError:
        return None
    versions = [
        s
        for s in ort.get_all_operator_schema()
        if s.name == op_type and s.domain == domain and (opset is None or s.since_version <= opset)
    ]
    if not versions:
        return None
    return _converted(max(versions, key=lambda s: s.since_version))


def _converted(schema: Any) -> Any:
    from onnx import AttributeProto
    from onnx.defs import OpSchema

    def parameter(p: Any) -> OpSchema.FormalParameter:
        option = getattr(OpSchema.FormalParameterOption, p.option.name)
        return OpSchema.FormalParameter(
            p.name, p.typeStr, p.description, param_option=option, is_homogeneous=p.isHomogeneous
        )

    def attribute(a: Any) -> OpSchema.Attribute:
        default = AttributeProto.FromString(a._default_value) if a._default_value else AttributeProto()
        if default.type:
            return OpSchema.Attribute(a.name, default, a.description)
        return OpSchema.Attribute(a.name, getattr(OpSchema.AttrType, a.type.name), a.description, required=a.required)

    return OpSchema(
        schema.name,
        schema.domain,
        schema.since_version,
        schema.doc or "",
        inputs=[parameter(p) for p in schema.inputs],
        outputs=[parameter(p) for p in schema.outputs],
        type_constraints=[
            (c.type_param_str, list(c.allowed_type_strs), c.description) for c in schema.type_constraints
        ],
        attributes=[attribute(a) for a in schema.attributes.values()],
    )
