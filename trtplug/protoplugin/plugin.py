"""One generic Python IPluginV3 (core, build and runtime capabilities) and its creator, driven by
an op's spec, that runs the op's CuPy prototype on TensorRT's buffers and stream. Classes are
made per TensorRT module (`tensorrt` or `tensorrt_rtx`: the API both share)."""

from __future__ import annotations

from functools import cache
from typing import Any

from trtplug.errors import TrtplugError
from trtplug.protolib.dtypes import Bf16Device, bf16_bits_to_float32, float32_to_bf16_bits, storage
from trtplug.spec import OpSpec
from trtplug.variadic import count_problem, plugin_tensors, tensorrt_tensors, variadic_input

from . import buffers, fields, shapes

NAMESPACE = "trtplug_proto"


def unsupported_reason(spec: OpSpec) -> str | None:
    """Why `spec`'s prototype cannot run as a TensorRT plugin yet (None when it can). Folded
    inputs arrive as fields, shape inputs in get_output_shapes, data copies as regular inputs, a
    variadic input's tensors as the regular inputs past the fixed ones."""
    return shapes.value_dependent_reason(spec)


def regular_inputs(spec: OpSpec, count: int | None = None) -> list[Any]:
    """The inputs TensorRT passes as tensors, in its order: the plugin inputs that are not shape
    inputs, then the data copies (graph_rewrites/plugin_node.py writes them so). With `count`
    (TensorRT's nbInputs), a variadic last input is repeated for every tensor past the fixed ones
    (trtplug/variadic.py names them "data_0", "data_0#1", ...)."""
    tensors = spec.plugin_inputs if count is None else tensorrt_tensors(spec, count)
    return [t for t in tensors if not t.shape_input] + list(spec.data_copies)


def check_input_count(spec: OpSpec, count: int) -> None:
    """TrtplugError naming the plugin when TensorRT's `count` regular inputs leave the variadic
    input fewer than min_count or more than the cap (nothing to check without one)."""
    if variadic_input(spec) is None:
        return
    fixed = sum(not t.shape_input for t in spec.plugin_inputs[:-1])
    problem = count_problem(spec, count - fixed)
    if problem is not None:
        raise TrtplugError(f"{spec.plugin.name}: {count} inputs: {problem}")


def shape_inputs(spec: OpSpec) -> list[Any]:
    """The inputs TensorRT passes to get_output_shapes only (their values), in order."""
    return [t for t in spec.plugin_inputs if t.shape_input]


def _tensor_at(spec: OpSpec, regular: list[Any], pos: int, num_inputs: int) -> Any:
    """The spec tensor at TensorRT's in/out position `pos` (size tensors after the outputs), given
    regular_inputs for its `num_inputs` inputs."""
    if pos < num_inputs:
        return regular[pos]
    return spec.plugin_outputs[pos - num_inputs]


def output_count(spec: OpSpec, attrs: dict[str, Any]) -> int:
    """The outputs in use (the derived output_count field, else all); size tensors not counted."""
    counted = spec.derived_attribute("output_count")
    return int(attrs[counted.name]) if counted is not None else len(spec.outputs)


def node_inputs(spec: OpSpec, inputs: list[Any]) -> list[Any]:
    """The prototype's inputs (spec.plugin_inputs order, None where absent) as many as a rewritten
    node has: every plugin input when there are data copies (they sit after all of them; the
    absent ones become empty placeholders), else up to the last present one."""
    if spec.data_copies:
        return [*inputs, *[None] * (len(spec.plugin_inputs) - len(inputs))]
    inputs = list(inputs)
    while inputs and inputs[-1] is None:
        inputs.pop()
    return inputs


def tensorrt_inputs(spec: OpSpec, inputs: list[Any]) -> list[Any]:
    """prototype_inputs' inverse: the prototype's inputs (spec.plugin_inputs order) as TensorRT
    passes them as tensors (shape inputs dropped, data copies appended)."""
    tensors = plugin_tensors(spec, len(inputs))
    named = dict(zip([t.name for t in tensors], inputs, strict=False))
    plain = [named[t.name] for t in tensors if not t.shape_input and t.name in named]
    return plain + [named.get(t.name) for t in spec.data_copies]


def prototype_inputs(spec: OpSpec, arrays: list[Any]) -> list[Any]:
    """The prototype's inputs in spec.plugin_inputs order from TensorRT's regular inputs: a shape
    input is its data copy where the spec has one, else None (its values never reach enqueue)."""
    regular = regular_inputs(spec, len(arrays))
    by_name = {t.name: a for t, a in zip(regular[: len(regular) - len(spec.data_copies)], arrays, strict=False)}
    copies = arrays[len(regular) - len(spec.data_copies) :] if spec.data_copies else []
    by_name.update({t.name: a for t, a in zip(spec.data_copies, copies, strict=False)})
    inputs = [by_name.get(t.name) for t in tensorrt_tensors(spec, len(arrays))]
    while inputs and inputs[-1] is None:
        inputs.pop()
    return inputs


class ProtoLogic:
    """What the plugin answers, free of TensorRT's base classes (tested without TensorRT)."""

    def __init__(self, trt: Any, spec: OpSpec, attrs: dict[str, Any]) -> None:
        self.trt, self.spec, self.attrs = trt, spec, attrs

    def outputs(self) -> list[Any]:
        """TensorRT's outputs: those in use, then the size tensors."""
        return [*self.spec.outputs[: output_count(self.spec, self.attrs)], *self.spec.size_tensors]

    def regular(self, count: int) -> list[Any]:
        """The spec tensor behind each of TensorRT's `count` regular inputs (the count checked)."""
        check_input_count(self.spec, count)
        return regular_inputs(self.spec, count)

    def output_types(self, input_types: list[Any]) -> list[Any]:
        bound: dict[str, Any] = {}
        for tensor, data_type in zip(self.regular(len(input_types)), input_types, strict=False):
            bound.setdefault(tensor.type, data_type)
        names = {k: buffers.spec_dtype(self.trt, v) for k, v in bound.items()}
        return [
            buffers.trt_dtype(self.trt, self.spec.output_dtype(t, self.attrs, {}))
            if t.dtype_attr is not None
            else bound.get(t.type) or buffers.trt_dtype(self.trt, self.spec.output_dtype(t, self.attrs, names))
            for t in self.outputs()
        ]

    def supports(self, pos: int, in_out: list[Any], num_inputs: int) -> bool:
        regular = self.regular(num_inputs)
        desc = in_out[pos].desc
        if desc.format != self.trt.TensorFormat.LINEAR:
            return False
        tensor = _tensor_at(self.spec, regular, pos, num_inputs)
        names = (
            self.spec.dtypes_of(tensor)
            if tensor.dtype_attr is None
            else [self.spec.output_dtype(tensor, self.attrs, {})]
        )
        allowed = [buffers.trt_dtype(self.trt, name) for name in names]
        if desc.type not in allowed:
            return False
        for earlier in range(pos):  # one type per constraint: the first tensor of it decides
            other = _tensor_at(self.spec, regular, earlier, num_inputs)
            if other.type == tensor.type and in_out[earlier].desc.type != desc.type:
                return False
        return True

    def run(self, input_desc: list[Any], output_desc: list[Any], inputs: list[int], outputs: list[int], stream: int):
        regular = self.regular(len(input_desc))  # the count checked before any buffer is read
        import cupy as cp

        from trtplug.prototypes import pyplugin_module, takes_bf16

        prototype = pyplugin_module(self.spec)
        native_bf16 = takes_bf16(prototype)
        with cp.cuda.ExternalStream(int(stream)):
            arrays = []
            for tensor, desc, pointer in zip(regular, input_desc, inputs, strict=False):
                array = self._view(cp, desc, pointer)
                # The rewrite's stand-in for an absent optional input is a 1-D empty tensor; an empty
                # batch's inputs keep their rank.
                standin = tensor.optional and array.shape == (0,)
                arrays.append(None if standin else self._to_compute(cp, desc, array, native_bf16))
            ins = prototype_inputs(self.spec, arrays)
            used = len(output_desc) - len(self.spec.size_tensors)
            shapes_now = self._data_dependent_shapes(prototype, ins)
            views = [
                self._view(cp, desc, pointer, shapes_now[i] if shapes_now else None)
                for i, (desc, pointer) in enumerate(zip(output_desc[:used], outputs[:used], strict=True))
            ]
            pairs = zip(output_desc, views, strict=False)
            outs = [self._compute_buffer(cp, desc, view, native_bf16) for desc, view in pairs]
            prototype.forward(cp, ins, outs, self.attrs)
            for view, out in zip(views, outs, strict=True):
                if storage(out) is not view:  # bf16 computed on a float32 stand-in: rounded into TensorRT's buffer
                    view[...] = float32_to_bf16_bits(cp, out)
            if self.spec.size_tensors:
                counts = prototype.size_tensor_values(outs, self.attrs)
                for count, pointer in zip(counts, outputs[used:], strict=True):
                    buffers.device_view(cp, pointer, (), "int32")[...] = int(count)

    def output_shapes(self, inputs: list[Any], shape_values: list[Any], builder: Any) -> list[Any]:
        """get_output_shapes: TensorRT's regular inputs (data copies last) and shape-input values."""
        spec = self.spec
        named = {t.name: list(v) for t, v in zip(shape_inputs(spec), shape_values, strict=False)}
        plugin_dims = list(inputs)[: len(self.regular(len(inputs))) - len(spec.data_copies)]
        every = shapes.output_shapes(self.trt, spec, plugin_dims, builder, self.attrs, named)
        used = output_count(spec, self.attrs)
        return every[:used] + every[len(spec.outputs) :]

    def _data_dependent_shapes(self, prototype: Any, ins: list[Any]) -> list[tuple[int, ...]] | None:
        """With size tensors, TensorRT's output buffers hold the upper bound: the outputs are
        written packed at the actual shapes, which the prototype computes from the values."""
        if not self.spec.size_tensors:
            return None
        return [tuple(int(d) for d in s) for s in prototype.output_shapes(ins, self.attrs)]

    def _view(self, cp: Any, desc: Any, pointer: int, shape: tuple[int, ...] | None = None) -> Any:
        dtype = buffers.spec_dtype(self.trt, desc.type)
        dims = shape if shape is not None else tuple(int(d) for d in desc.dims)
        return buffers.device_view(cp, pointer, dims, dtype)

    def _is_bf16(self, desc: Any) -> bool:
        return desc.type == self.trt.DataType.BF16

    def _to_compute(self, cp: Any, desc: Any, array: Any, native_bf16: bool) -> Any:
        """The array the prototype reads: bf16 bits as a Bf16Device where it takes bf16, else upcast."""
        if not self._is_bf16(desc):
            return array
        return Bf16Device(array) if native_bf16 else bf16_bits_to_float32(cp, array)

    def _compute_buffer(self, cp: Any, desc: Any, view: Any, native_bf16: bool) -> Any:
        if not self._is_bf16(desc):
            return view
        return Bf16Device(view) if native_bf16 else cp.full(view.shape, cp.nan, dtype=cp.float32)


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
            self.num_outputs = output_count(spec, attrs) + len(spec.size_tensors)

        def get_capability_interface(self, type: Any) -> Any:
            return self

        def clone(self) -> Any:
            return ProtoPlugin(self.logic.spec, dict(self.logic.attrs))

        def get_output_data_types(self, input_types: list[Any]) -> list[Any]:
            return self.logic.output_types(input_types)

        def get_output_shapes(self, inputs: list[Any], shape_inputs: list[Any], builder: Any) -> list[Any]:
            return self.logic.output_shapes(inputs, shape_inputs, builder)

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
