"""The `tensorrt` implementation: a TensorRT engine built from a one-node plugin model with the
plugin library loaded, exactly what a user's deployment runs. Needs full TensorRT (`tensorrt`)
and a GPU; TensorRT-RTX cannot stand in (it aborts when a plugin layer is added).
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Any

import onnx
from onnx import helper

from trtplug import native
from trtplug.parity.impl_base import Impl
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


def plugin_model(spec: OpSpec, attrs: dict[str, Any], inputs: list[tuple[str, Any]], outputs: list[str]) -> bytes:
    """One plugin node as the rewrite emits it, with `inputs` ((name, array) or ("", None)) as graph inputs."""
    from trtplug.graph_rewrites.plugin_node import make_plugin_node

    node = make_plugin_node(spec, [n for n, _ in inputs], outputs, attrs, name=f"{spec.key}_tensorrt")
    graph = helper.make_graph(
        [node],
        f"{spec.key}_tensorrt",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in inputs if n],
        [helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None) for n in outputs],
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid(spec.plugin.namespace, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10).SerializeToString()


class TensorRTImpl(Impl):
    name = "tensorrt"
    on_gpu = True
    markers = ("gpu", "tensorrt")  # type: ignore[assignment]

    def unavailable(self, spec: OpSpec) -> str | None:
        trt, reason = _tensorrt()
        return reason if trt is None else super().unavailable(spec)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        trt, _ = _tensorrt()
        named_ins = [(t.name, a) if a is not None else ("", None) for t, a in zip(spec.inputs, ins, strict=False)]
        out_names = [t.name for t in spec.outputs[: len(outs)]]
        engine = _build_engine(trt, plugin_model(spec, attrs, named_ins, out_names))
        context = engine.create_execution_context()
        xp = self.xp()
        keep = []  # zero-size tensors still need a valid address
        for name, array in [(n, a) for n, a in named_ins if n] + list(zip(out_names, outs, strict=True)):
            buffer = array if array.size else xp.empty(1, dtype=array.dtype)
            keep.append(buffer)
            context.set_tensor_address(name, buffer.data.ptr)
        stream = xp.cuda.get_current_stream()
        if not context.execute_async_v3(stream.ptr):
            raise RuntimeError(f"{spec.plugin.name}: TensorRT enqueue failed")
        stream.synchronize()


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
