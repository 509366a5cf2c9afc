"""The `tensorrt` implementation: a TensorRT engine built from a one-node plugin model with the
plugin library loaded, exactly what a user's deployment runs; `tensorrt_proto`: the same engine
on the op's prototype registered as a TensorRT plugin (`rewrite --plugin-backend prototype`,
trtplug.protoplugin). Need full TensorRT (`tensorrt`) and a GPU; TensorRT-RTX cannot stand in
(it aborts when a plugin layer is added).
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

from trtplug import native
from trtplug.parity.cases import Case, case_inputs
from trtplug.parity.impl_base import Impl
from trtplug.parity.reference import one_node_model
from trtplug.protolib.dtypes import storage, to_host
from trtplug.spec import OpSpec


@lru_cache(maxsize=1)
def _tensorrt() -> tuple[ModuleType | None, str]:
    try:
        import tensorrt
    except ImportError as exc:
        return None, f"tensorrt is not importable ({exc}); TensorRT-RTX cannot run plugin layers"
    path = native.plugin_library_path()
    if path is None:
        return None, "libtrtplug_plugins.so is not built"
    tensorrt.get_plugin_registry().load_library(str(path))
    return tensorrt, ""


@lru_cache(maxsize=1)
def _tensorrt_with_prototypes() -> tuple[ModuleType | None, str]:
    try:
        import tensorrt
    except ImportError as exc:
        return None, f"tensorrt is not importable ({exc}); TensorRT-RTX cannot run plugin layers"
    from trtplug import protoplugin

    protoplugin.register(tensorrt)
    return tensorrt, ""


def plugin_model(spec: OpSpec, case: Case, inputs: dict[str, Any], prototype: bool = False) -> tuple[bytes, list[str]]:
    """The case's one-node model of the ONNX op, put through `trtplug rewrite` (so the engine runs
    exactly the plugin node a user's rewritten model holds; `prototype`: bound to the prototype
    plugins); returns it and its input names."""
    from trtplug.graph_rewrites import pipeline
    from trtplug.registry import Registry

    model = one_node_model(spec, case, {k: np.asarray(v) for k, v in inputs.items()})
    _fold_constant_inputs(model, spec, inputs)
    registry = Registry()
    registry.add(spec)
    result = pipeline.rewrite_model(model, registry)
    if not result.count("replaced"):
        reasons = "; ".join(c.reason for c in result.changes if c.reason)
        raise RuntimeError(f"the rewrite left the {spec.key} node alone: {reasons}")
    if prototype:
        from trtplug.graph_rewrites.prototype_backend import bind_to_prototypes

        bind_to_prototypes(model, registry, result)
    return model.SerializeToString(), [i.name for i in model.graph.input]


def _fold_constant_inputs(model: Any, spec: OpSpec, inputs: dict[str, Any]) -> None:
    """Inputs the rewrite folds into fields (spec fold_into) become initializers, as in an exported
    model: the rewrite leaves a node whose folded input is not a constant alone."""
    from onnx import numpy_helper

    folded = {t.name for t in spec.inputs if t.fold_into is not None and t.name in inputs}
    kept = [i for i in model.graph.input if i.name not in folded]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.graph.initializer.extend(numpy_helper.from_array(np.asarray(inputs[n]), n) for n in sorted(folded))


class TensorRTImpl(Impl):
    name = "tensorrt"
    on_gpu = True
    markers = ("gpu", "tensorrt")  # type: ignore[assignment]

    def unavailable(self, spec: OpSpec) -> str | None:
        trt, reason = self.tensorrt()
        return reason if trt is None else super().unavailable(spec)

    prototype = False  # the engine runs the native plugin (libtrtplug_plugins)

    def tensorrt(self) -> tuple[ModuleType | None, str]:
        return _tensorrt()

    def run_case(self, spec: OpSpec, case: Case, ins: list[Any], outs: list[Any]) -> None:
        trt, _ = self.tensorrt()
        xp = self.xp()
        plugin_inputs = [t for t in case_inputs(spec, case) if t.fold_into is None]  # as impl_base passes `ins`
        given = {t.name: a for t, a in zip(plugin_inputs, ins, strict=False) if a is not None}
        hosted = {k: to_host(xp, v) for k, v in given.items()}
        model, input_names = plugin_model(spec, case, hosted, self.prototype)
        context = _build_engine(trt, model).create_execution_context()
        out_names = [t.name for t in spec.outputs[: len(outs)]]
        keep = []  # zero-size tensors still need a valid address
        bound = [(n, given[n]) for n in input_names]
        allocators = {n: _output_allocator(trt, xp) for n in out_names} if spec.size_tensors else {}
        bound += [] if allocators else list(zip(out_names, outs, strict=True))
        for name, array in bound:
            array = storage(array)  # bf16: the uint16 bits (the engine's tensor types say bf16)
            buffer = array if array.size else xp.empty(1, dtype=array.dtype)
            keep.append(buffer)
            context.set_tensor_address(name, buffer.data.ptr)
        for name, allocator in allocators.items():
            context.set_output_allocator(name, allocator)
        stream = xp.cuda.get_current_stream()
        if not context.execute_async_v3(stream.ptr):
            raise RuntimeError(f"{spec.plugin.name}: TensorRT enqueue failed")
        stream.synchronize()
        for name, out in zip(out_names, outs, strict=True) if allocators else ():
            allocators[name].copy_into(out, name)


class TensorRTProtoImpl(TensorRTImpl):
    """The engine on the op's prototype plugin (namespace trtplug_proto): what a user deploys
    before the CUDA plugin exists."""

    name = "tensorrt_proto"
    prototype = True

    def tensorrt(self) -> tuple[ModuleType | None, str]:
        return _tensorrt_with_prototypes()

    def unavailable(self, spec: OpSpec) -> str | None:
        from trtplug.protoplugin.plugin import unsupported_reason

        reason = unsupported_reason(spec)
        if reason is not None:
            return f"its prototype does not run as a TensorRT plugin yet: {reason}"
        return super().unavailable(spec)


def _output_allocator(trt: ModuleType, xp: ModuleType) -> Any:
    """An IOutputAllocator: data-dependent outputs (size tensors) get memory once TensorRT knows
    their size, and report their actual shape afterwards."""

    class OutputAllocator(trt.IOutputAllocator):
        def __init__(self) -> None:
            super().__init__()
            self.buffer, self.shape = None, None

        def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
            self.buffer = xp.empty(max(size, 1), dtype=xp.uint8)
            return self.buffer.data.ptr

        def notify_shape(self, tensor_name: str, shape: Any) -> None:
            self.shape = tuple(shape)

        def copy_into(self, out: Any, name: str) -> None:
            if self.shape != tuple(out.shape):
                raise RuntimeError(f"output {name!r}: TensorRT reports shape {self.shape}, expected {out.shape}")
            if out.size:  # an empty output may never have been allocated
                out = storage(out)
                out[...] = self.buffer[: out.nbytes].view(out.dtype).reshape(out.shape)

    return OutputAllocator()


def _build_engine(trt: ModuleType, model: bytes) -> Any:
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)  # keep fp16 inputs fp16
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT's ONNX parser rejected the plugin model: {errors}")
    serialized = builder.build_serialized_network(network, builder.create_builder_config())
    if serialized is None:
        raise RuntimeError("TensorRT failed to build the engine (see its log above)")
    return trt.Runtime(logger).deserialize_cuda_engine(serialized)
