"""One generic Python IPluginV3 (core, build and runtime capabilities) and its creator, driven by
an op's spec, that runs the op's CuPy prototype on TensorRT's buffers and stream. Classes are
made per TensorRT module (`tensorrt` or `tensorrt_rtx`: the API both share)."""

from __future__ import annotations

from functools import cache
from typing import Any

from trtplug.protolib.dtypes import bf16_bits_to_float32, float32_to_bf16_bits
from trtplug.spec import OpSpec

from . import buffers, fields, shapes

NAMESPACE = "trtplug_proto"


def unsupported_reason(spec: OpSpec) -> str | None:
    """Why `spec`'s prototype cannot run as a TensorRT plugin yet (None when it can)."""
    if any(t.shape_input or t.fold_into for t in spec.inputs) or spec.data_copies:
        return "it takes shape inputs or constant inputs as fields"
    if spec.inputs[-1].variadic:  # the logic maps tensor positions to the spec's fixed inputs
        return "it takes a variadic input"
    return shapes.value_dependent_reason(spec)


def _tensor_at(spec: OpSpec, pos: int) -> Any:
    inputs = spec.plugin_inputs
    return inputs[pos] if pos < len(inputs) else spec.outputs[pos - len(inputs)]


def output_count(spec: OpSpec, attrs: dict[str, Any]) -> int:
    counted = spec.derived_attribute("output_count")
    return int(attrs[counted.name]) if counted is not None else len(spec.outputs)


class ProtoLogic:
    """What the plugin answers, free of TensorRT's base classes (tested without TensorRT)."""

    def __init__(self, trt: Any, spec: OpSpec, attrs: dict[str, Any]) -> None:
        self.trt, self.spec, self.attrs = trt, spec, attrs

    def output_types(self, input_types: list[Any]) -> list[Any]:
        bound: dict[str, Any] = {}
        for tensor, data_type in zip(self.spec.plugin_inputs, input_types, strict=False):
            bound.setdefault(tensor.type, data_type)
        outputs = self.spec.outputs[: output_count(self.spec, self.attrs)]
        return [bound.get(t.type) or buffers.trt_dtype(self.trt, t.type) for t in outputs]

    def supports(self, pos: int, in_out: list[Any], num_inputs: int) -> bool:
        desc = in_out[pos].desc
        if desc.format != self.trt.TensorFormat.LINEAR:
            return False
        tensor = _tensor_at(self.spec, pos if pos < num_inputs else len(self.spec.plugin_inputs) + pos - num_inputs)
        allowed = [buffers.trt_dtype(self.trt, name) for name in self.spec.dtypes_of(tensor)]
        if desc.type not in allowed:
            return False
        for earlier in range(pos):  # one type per constraint: the first tensor of it decides
            other = _tensor_at(
                self.spec, earlier if earlier < num_inputs else len(self.spec.plugin_inputs) + earlier - num_inputs
            )
            if other.type == tensor.type and in_out[earlier].desc.type != desc.type:
                return False
        return True

    def run(self, input_desc: list[Any], output_desc: list[Any], inputs: list[int], outputs: list[int], stream: int):
        import cupy as cp

        from trtplug.parity.impl_base import pyplugin_module

        ins = []
        for tensor, desc, pointer in zip(self.spec.plugin_inputs, input_desc, inputs, strict=False):
            array = self._view(cp, desc, pointer)
            # The rewrite's stand-in for an absent optional input is a 1-D empty tensor; an empty
            # batch's inputs keep their rank.
            standin = tensor.optional and array.shape == (0,)
            ins.append(None if standin else self._to_compute(cp, desc, array))
        views = [self._view(cp, desc, pointer) for desc, pointer in zip(output_desc, outputs, strict=True)]
        outs = [self._compute_buffer(cp, desc, view) for desc, view in zip(output_desc, views, strict=True)]
        with cp.cuda.ExternalStream(int(stream)):
            pyplugin_module(self.spec).forward(cp, ins, outs, self.attrs)
            for view, out in zip(views, outs, strict=True):
                if out is not view:  # bf16: rounded into TensorRT's buffer
                    view[...] = float32_to_bf16_bits(cp, out)

    def _view(self, cp: Any, desc: Any, pointer: int) -> Any:
        dtype = buffers.spec_dtype(self.trt, desc.type)
        return buffers.device_view(cp, pointer, tuple(int(d) for d in desc.dims), dtype)

    def _is_bf16(self, desc: Any) -> bool:
        return desc.type == self.trt.DataType.BF16

    def _to_compute(self, cp: Any, desc: Any, array: Any) -> Any:
        return bf16_bits_to_float32(cp, array) if self._is_bf16(desc) else array

    def _compute_buffer(self, cp: Any, desc: Any, view: Any) -> Any:
        return cp.full(view.shape, cp.nan, dtype=cp.float32) if self._is_bf16(desc) else view


@cache
def plugin_classes(trt: Any) -> tuple[type, type]:
    """(Plugin, Creator) classes over `trt`'s plugin interfaces."""

    class ProtoPlugin(trt.IPluginV3, trt.IPluginV3OneCore, trt.IPluginV3OneBuild, trt.IPluginV3OneRuntime):
        def __init__(self, spec: OpSpec, attrs: dict[str, Any]) -> None:
            trt.IPluginV3.__init__(self)
            trt.IPluginV3OneCore.__init__(self)
            trt.IPluginV3OneBuild.__init__(self)
            trt.IPluginV3OneRuntime.__init__(self)
            self.logic = ProtoLogic(trt, spec, attrs)
            self.plugin_name, self.plugin_version = spec.plugin.name, spec.plugin.version
            self.plugin_namespace = NAMESPACE
            self.num_outputs = output_count(spec, attrs)

        def get_capability_interface(self, type: Any) -> Any:
            return self

        def clone(self) -> Any:
            return ProtoPlugin(self.logic.spec, dict(self.logic.attrs))

        def get_output_data_types(self, input_types: list[Any]) -> list[Any]:
            return self.logic.output_types(input_types)

        def get_output_shapes(self, inputs: list[Any], shape_inputs: list[Any], builder: Any) -> list[Any]:
            return shapes.output_shapes(trt, self.logic.spec, inputs, builder, self.logic.attrs)[: self.num_outputs]

        def supports_format_combination(self, pos: int, in_out: list[Any], num_inputs: int) -> bool:
            return self.logic.supports(pos, in_out, num_inputs)

        def configure_plugin(self, inputs: list[Any], outputs: list[Any]) -> None:
            return None

        def get_workspace_size(self, inputs: list[Any], outputs: list[Any]) -> int:
            return 0

        def get_valid_tactics(self) -> list[int]:
            return []

        def set_tactic(self, tactic: int) -> None:
            return None

        def on_shape_change(self, inputs: list[Any], outputs: list[Any]) -> None:
            return None

        def attach_to_context(self, context: Any) -> Any:
            return self.clone()

        def get_fields_to_serialize(self) -> Any:
            collection, self._field_data = fields.field_collection(trt, self.logic.spec, self.logic.attrs)
            return collection

        def enqueue(self, input_desc, output_desc, inputs, outputs, workspace, stream) -> None:
            self.logic.run(input_desc, output_desc, inputs, outputs, stream)

    class ProtoCreator(trt.IPluginCreatorV3One):
        def __init__(self, spec: OpSpec) -> None:
            trt.IPluginCreatorV3One.__init__(self)
            self.spec = spec
            self.name, self.plugin_version, self.plugin_namespace = spec.plugin.name, spec.plugin.version, NAMESPACE
            self.field_names, self._field_data = fields.field_collection(trt, spec, None)

        def create_plugin(self, name: str, field_collection: Any, phase: Any) -> Any:
            return ProtoPlugin(self.spec, fields.attrs_from_fields(self.spec, field_collection))

    return ProtoPlugin, ProtoCreator
