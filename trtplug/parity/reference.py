"""Independent references: the ONNX op the plugin replaces, run by ONNX Runtime (CPU) or
onnx.reference, in float32 (fp16 and bf16 inputs upcast: their results are judged against fp32 math).
Ops neither has (CUDA-only contrib ops) use kind "numpy": plugins/<key>/reference.py defines
`reference(inputs: dict[str, np.ndarray], attrs: dict) -> list[np.ndarray]`, written from the
op's documentation in float64 and independent of the prototype.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx
from onnx import helper

from trtplug.errors import TrtplugError
from trtplug.onnx_common import is_standard_domain
from trtplug.parity.cases import Case, case_inputs
from trtplug.parity.ort_session import cpu_session
from trtplug.protolib.dtypes import BF16
from trtplug.prototypes import pyplugin_module
from trtplug.spec import OpSpec, TensorSpec

_ATTR_MAKERS = {"int": int, "ints": list, "float": float, "floats": list, "string": str}
_STANDARD_OPSET = 21


def one_node_model(spec: OpSpec, case: Case, inputs: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A model holding one node of the ONNX op `spec` replaces, with this case's inputs."""
    replaced = spec.replaces[0]
    names = [t.name if t.name in inputs else "" for t in case_inputs(spec, case)]
    while names and names[-1] == "":
        names.pop()  # trailing absent optional inputs are simply left out
    absent = {a.name for a in spec.onnx_attributes if a.default_means_absent and case.attrs.get(a.name) == a.default}
    absent |= {t.fold_into for t in spec.inputs if t.fold_into}  # the ONNX op takes these as inputs
    attrs = {
        k: _ATTR_MAKERS[a.type](case.attrs[k])
        for a in spec.onnx_attributes
        if (k := a.name) in case.attrs and k not in absent
    }
    # An empty list cannot be typed in a NodeProto: left out, the ONNX default (absent) applies.
    attrs = {k: v for k, v in attrs.items() if v != []}
    node = helper.make_node(
        replaced.op_type,
        names,
        [t.name for t in spec.outputs],
        domain=replaced.domain,
        name=f"{spec.key}_reference",
        **attrs,
    )
    graph = helper.make_graph(
        [node],
        f"{spec.key}_reference",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(inputs[n].dtype), inputs[n].shape)
            for n in names
            if n
        ],
        [helper.make_tensor_value_info(t.name, _output_type(spec, t, inputs, case.attrs), None) for t in spec.outputs],
    )
    opsets = [helper.make_opsetid("", _STANDARD_OPSET)]
    if not is_standard_domain(replaced.domain):
        opsets.append(helper.make_opsetid(replaced.domain, replaced.since_version))
    else:
        opset = max(_STANDARD_OPSET, replaced.since_version)
        opsets = [helper.make_opsetid("", min(opset, replaced.until_version or opset))]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def _output_type(spec: OpSpec, tensor: TensorSpec, inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> int:
    """Element type of an output (its dtype_attr's value, a constraint bound by an input, or a dtype)."""
    if tensor.dtype_attr is not None:
        return spec.output_elem_type(tensor, attrs)
    bound: dict[str, str] = {}
    for t in spec.inputs:
        if t.name in inputs:
            bound.setdefault(t.type, str(inputs[t.name].dtype))
    return helper.np_dtype_to_tensor_dtype(np.dtype(spec.output_dtype(tensor, attrs, bound)))


def _upcast(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32) if array.dtype in (np.float16, BF16) else array


def numpy_reference_path(spec: OpSpec) -> Path:
    return spec.path.parent / "reference.py"


@cache
def _numpy_reference_module(path: Path) -> ModuleType:
    loader_spec = importlib.util.spec_from_file_location(f"trtplug_reference_{path.parent.name}", path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    if not callable(getattr(module, "reference", None)):
        raise TrtplugError(f"{path}: defines no reference(inputs, attrs) function")
    return module


def reference_kind(spec: OpSpec, case: Case | None = None) -> str:
    """The case's own reference (a [[parity.cases]] pin), else the spec's."""
    return (case.reference if case is not None else "") or spec.reference


def reference_unavailable(spec: OpSpec, case: Case | None = None) -> str | None:
    kind = reference_kind(spec, case)
    if kind == "numpy" and not numpy_reference_path(spec).is_file():
        return f"{numpy_reference_path(spec)}: missing (reference kind 'numpy')"
    if kind == "onnxruntime":
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "onnxruntime is not installed (pip install 'trtplug[reference]')"
        return _without_cpu_kernel(spec) or (_attributes_unknown(spec, case) if case is not None else None)
    return None


def _attributes_unknown(spec: OpSpec, case: Case) -> str | None:
    """Why the installed ONNX Runtime cannot be the reference for a contrib op whose schema there
    lacks an attribute the case sets (an older release: 1.30's GatedRMSNorm has no 'activation')."""
    replaced = spec.replaces[0]
    if is_standard_domain(replaced.domain):
        return None
    known = _contrib_attributes().get((replaced.domain, replaced.op_type))
    if known is None:
        return None
    sent = {a.name for a in spec.onnx_attributes}  # derived ones (num_outputs) never reach the node
    sent -= {a.name for a in spec.onnx_attributes if a.default_means_absent and case.attrs.get(a.name) == a.default}
    unknown = sorted(name for name in case.attrs if name in sent and name not in known)
    if not unknown:
        return None
    import onnxruntime

    return (
        f"ONNX Runtime {onnxruntime.__version__}'s {replaced.domain}::{replaced.op_type} has no attribute "
        f"{', '.join(map(repr, unknown))} (the reference); a newer onnxruntime has it"
    )


@cache
def _contrib_attributes() -> dict[tuple[str, str], frozenset[str]]:
    from onnxruntime.capi import _pybind_state as ort_state

    return {
        (s.domain, s.name): frozenset(s.attributes)
        for s in ort_state.get_all_operator_schema()
        if not is_standard_domain(s.domain)
    }


def _without_cpu_kernel(spec: OpSpec) -> str | None:
    """Why the installed ONNX Runtime cannot be the reference for a contrib op it has no CPU kernel
    for (an older release than the op: ONNX Runtime 1.30 lacks MoE's and LinearAttention's), else None."""
    replaced = spec.replaces[0]
    if is_standard_domain(replaced.domain) or (replaced.domain, replaced.op_type) in _cpu_contrib_kernels():
        return None
    import onnxruntime

    return (
        f"ONNX Runtime {onnxruntime.__version__} has no CPU kernel for {replaced.domain}::{replaced.op_type} "
        "(the reference); a newer onnxruntime has it"
    )


@cache
def _cpu_contrib_kernels() -> frozenset[tuple[str, str]]:
    from onnxruntime.capi import _pybind_state as ort_state

    return frozenset(
        (k.domain, k.op_name)
        for k in ort_state.get_all_opkernel_def()
        if k.provider == "CPUExecutionProvider" and not is_standard_domain(k.domain)
    )


def run_reference(spec: OpSpec, case: Case, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Reference outputs for `inputs` (already rounded to the run's dtype)."""
    feeds = {k: _upcast(v) for k, v in inputs.items()}
    kind = reference_kind(spec, case)
    if kind == "numpy":
        return list(_numpy_reference_module(numpy_reference_path(spec)).reference(feeds, dict(case.attrs)))
    if kind == "onnxruntime":
        feeds = _around_onnxruntime_crashes(spec, feeds)
    model = one_node_model(spec, case, feeds)
    if kind == "onnxruntime":
        return _unwritten_rows_zeroed(spec, case, feeds, _run_onnxruntime(model, feeds))
    if kind == "onnx-reference":
        from onnx.reference import ReferenceEvaluator

        # onnx.reference divides by zero on its way to correct results (AffineGrid's step over a
        # one-pixel axis): its floating-point warnings are not findings about the plugin.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return list(ReferenceEvaluator(model).run(None, feeds))
    raise TrtplugError(f"{spec.path}: reference kind {kind!r} has no runner yet")


def onnxruntime_version() -> tuple[int, ...]:
    import onnxruntime as ort

    return tuple(int(p) for p in ort.__version__.split("+")[0].split(".")[:2] if p.isdigit())


def _around_onnxruntime_crashes(spec: OpSpec, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Feeds that keep ONNX Runtime's CPU kernels off their known crashes, computing the same.

    com.microsoft Attention without its (optional) bias: ONNX Runtime before 1.32 reads the absent
    tensor and the process dies with a segfault (seen with 1.30). A zero bias is the same math.
    """
    replaced = spec.replaces[0]
    bert = replaced.domain == "com.microsoft" and replaced.op_type == "Attention"
    if bert and "bias" not in feeds and "weights" in feeds and onnxruntime_version() < (1, 32):
        weights = feeds["weights"]
        return {**feeds, "bias": np.zeros(weights.shape[-1:], weights.dtype)}
    return feeds


def _unwritten_rows_zeroed(
    spec: OpSpec, case: Case, feeds: dict[str, np.ndarray], outputs: list[np.ndarray]
) -> list[np.ndarray]:
    """ONNX Runtime's outputs with the elements it leaves unwritten (garbage in reused memory: 3.7e19
    in a windowed GroupQueryAttention's present) set to the zeros the implementations write there."""
    inputs = [feeds.get(t.name) for t in spec.inputs]
    return zero_unwritten(spec, inputs, case.attrs, outputs)


def zero_unwritten(spec: OpSpec, inputs: list[Any], attrs: dict[str, Any], outputs: list[Any]) -> list[Any]:
    """`outputs` with zeros where the prototype's `reference_unwritten(inputs, attrs)` masks them."""
    prototype = pyplugin_module(spec)
    if not hasattr(prototype, "reference_unwritten"):
        return outputs
    masks = [*prototype.reference_unwritten(inputs, attrs), *[None] * len(outputs)]
    return [o if m is None else np.where(m, 0, o).astype(o.dtype) for o, m in zip(outputs, masks, strict=False)]


def _run_onnxruntime(model: onnx.ModelProto, feeds: dict[str, Any]) -> list[np.ndarray]:
    return list(cpu_session(model.SerializeToString()).run(None, feeds))
