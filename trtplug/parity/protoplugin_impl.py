"""The `protoplugin` implementation: an op's prototype run through the generic Python TensorRT
plugin (trtplug.protoplugin), enqueued as TensorRT enqueues it: device pointers, tensor
descriptors and a raw stream handle, absent optional inputs as empty tensors. Descriptor types
come from `tensorrt`/`tensorrt_rtx` when importable, else from stand-in enums."""

from __future__ import annotations

from typing import Any

from trtplug.parity.impl_base import Impl, pyplugin_module
from trtplug.spec import OpSpec


class ProtoPluginImpl(Impl):
    name = "protoplugin"
    on_gpu = True

    def unavailable(self, spec: OpSpec) -> str | None:
        from trtplug.protoplugin.plugin import unsupported_reason

        reason = unsupported_reason(spec)
        if reason is not None:
            return f"its prototype does not run as a TensorRT plugin yet: {reason}"
        return super().unavailable(spec)

    def execute(self, spec: OpSpec, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
        from trtplug.parity.impls import fill_absent
        from trtplug.protolib.dtypes import storage
        from trtplug.protolib.size_tensors import check_counts, count_buffer
        from trtplug.protoplugin import tensorrt_module
        from trtplug.protoplugin.plugin import ProtoLogic, node_inputs, tensorrt_inputs
        from trtplug.protoplugin.standin import TRT, descriptor

        cp = self.xp()
        trt = tensorrt_module() or TRT
        plugin_ins = tensorrt_inputs(spec, fill_absent(cp, spec, node_inputs(spec, ins)))
        counts = [count_buffer(cp)[0] for _ in spec.size_tensors]  # 0-D size tensors, poisoned
        logic = ProtoLogic(trt, spec, attrs)
        logic.run(
            [descriptor(trt, a) for a in plugin_ins],
            [descriptor(trt, o) for o in [*outs, *counts]],
            [storage(a).data.ptr for a in plugin_ins],
            [storage(o).data.ptr for o in [*outs, *counts]],
            cp.cuda.get_current_stream().ptr,
        )
        if counts:  # the outputs are exact here (the reference's shapes): their extents are the counts
            expected = pyplugin_module(spec).size_tensor_values(outs, attrs)
            check_counts(cp, cp.stack(counts), expected, spec.key)
