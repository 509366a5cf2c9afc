"""The `tensorrt` implementation: a TensorRT engine built from a one-node plugin model with the
plugin library loaded, exactly what a user's deployment runs. Needs full TensorRT (`tensorrt`)
and a GPU; TensorRT-RTX cannot stand in (it aborts when a plugin layer is added).
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


def plugin_model(spec: OpSpec, case: Case, inputs: dict[str, Any]) -> tuple[bytes, list[str]]:
    """The case's one-node model of the ONNX op, put through `trtplug rewrite` (so the engine runs
    exactly the plugin node a user's rewritten model holds); returns it and its input names."""
    from trtplug.graph_rewrites import pipeline
    from trtplug.registry import Registry

    model = one_node_model(spec, case, {k: np.asarray(v) for k, v in inputs.items()})
    registry = Registry()
    registry.add(spec)
    result = pipeline.rewrite_model(model, registry)
    if not result.count("replaced"):
        reasons = "; ".join(c.reason for c in result.changes if c.reason)
        raise RuntimeError(f"the rewrite left the {spec.key} node alone: {reasons}")
    return model.SerializeToString(), [i.name for i in model.graph.input]


class TensorRTImpl(Impl):
    name = "tensorrt"
    on_gpu = True
    markers = ("gpu", "tensorrt")  # type: ignore[assignment]

    def unavailable(self, spec: OpSpec) -> str | None:
        trt, reason = _tensorrt()
        return reason if trt is None else super().unavailable(spec)

    def run_case(self, spec: OpSpec, case: Case, ins: list[Any], outs: list[Any]) -> None:
        trt, _ = _tensorrt()
        xp = self.xp()
        given = {t.name: a for t, a in zip(case_inputs(spec, case), ins, strict=False) if a is not None}
        model, input_names = plugin_model(spec, case, {k: to_host(xp, v) for k, v in given.items()})
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
