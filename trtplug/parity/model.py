"""Model-level parity: does a rewritten model compute what the original does?

The original runs in ONNX Runtime (CPU, graph optimizations off: the reference is the graph as
written, but for the in-memory changes `_original_source` lists, each named in the result, e.g.
torch.onnx's RotaryEmbedding caches shared by the batch expanded to it (rotary_caches.py); where
ONNX Runtime still refuses it, in onnx.reference, and the result says so). The rewritten
model runs with each plugin op bound to one of trtplug's implementations (the NumPy prototype on
the CPU; CuPy, CUDA or the plugin host on a GPU), receiving exactly the fields TensorRT's parser
would pass, and its standard nodes in ONNX Runtime too (model_run.py), or in onnx.reference when
plugin nodes sit inside If/Loop/Scan bodies. Inputs: model_feeds.py.
Every graph output is compared with the loosest tolerance among the plugins the model uses: a
wrong attribute mapping or input order shows up as a numeric failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from trtplug.errors import TrtplugError
from trtplug.graph_rewrites.gqa_qk_norm import has_qk_norm, unfuse_qk_norms
from trtplug.graph_rewrites.opset_repair import planned_opset_raise, raise_opset_for_newer_ops
from trtplug.model_io import load_model
from trtplug.onnx_common import iter_nodes, opset_versions
from trtplug.parity.bf16_cpu import as_bf16, float32_feeds, has_bf16_boundary, inner_name, widen
from trtplug.parity.compare import Comparison, compare
from trtplug.parity.impl_base import Impl, poisoned, pyplugin_module
from trtplug.parity.model_feeds import DEFAULT_DIM, defaulted_dims, random_feeds, resolved_dims
from trtplug.parity.model_run import StretchError, plugins_in_subgraphs, run_in_stretches
from trtplug.parity.moe_dense import dense_geglu_moe, has_geglu_moe
from trtplug.parity.ort_session import cpu_session_noted, cpu_session_options
from trtplug.parity.qmoe_exact import exact_qmoe, has_approximate_qmoe
from trtplug.parity.rotary_caches import batch_shared_cache_nodes, expand_batch_shared_caches
from trtplug.protolib.dtypes import is_bf16
from trtplug.registry import Registry
from trtplug.shape_rules import apply_rule, is_value_dependent
from trtplug.spec import OpSpec, Tolerance
from trtplug.variadic import plugin_tensors

FALLBACK_TOLERANCE = Tolerance(1e-5, 1e-5)
BF16_NOTE = "bf16 ops computed in float32, rounded to bf16 after each op (ONNX Runtime's CPU has few bf16 kernels)"


@dataclass
class ModelParity:
    impl: str
    seed: int
    status: str  # pass | fail | error
    comparisons: list[Comparison] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    detail: str = ""
    engine: str = ""  # what ran the rewritten model's standard nodes: onnxruntime or onnx.reference
    reference: str = "onnxruntime"  # what ran the original (onnx.reference where ONNX Runtime failed)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "comparisons"}
        d["outputs"] = [c.as_dict() for c in self.comparisons]
        return d


def run_plugin(spec: OpSpec, impl: Impl, inputs: list[np.ndarray], attrs: dict[str, Any], count: int) -> tuple:
    """One plugin node through `impl`: outputs shaped by the spec's rules, poisoned first."""
    # An optional input with no elements is absent (the rewrite's stand-in before a present input).
    tensors = plugin_tensors(spec, len(inputs))
    given = [None if t.optional and x.size == 0 else x for t, x in zip(tensors, inputs, strict=False)]
    present = [(t, x) for t, x in zip(tensors, given, strict=False) if x is not None]
    shapes = {t.name: tuple(x.shape) for t, x in present}
    dtypes = {t.type: str(x.dtype) for t, x in present}
    xp = impl.xp()
    out_shapes = _output_shapes(spec, given, shapes, attrs)
    outs = [
        poisoned(xp, out_shapes[i], spec.output_dtype(t, attrs, dtypes)) for i, t in enumerate(spec.outputs[:count])
    ]
    while given and given[-1] is None:
        given.pop()
    impl.execute(spec, [None if x is None else xp.asarray(x) for x in given], outs, attrs)
    if impl.on_gpu:
        xp.cuda.get_current_stream().synchronize()
        outs = [xp.asnumpy(o) for o in outs]
    return tuple(outs) + _size_tensor_values(spec, outs, attrs, count)


def _size_tensor_values(spec: OpSpec, outs: list[np.ndarray], attrs: dict[str, Any], count: int) -> tuple:
    """The plugin node's size-tensor outputs (after the op's), from the prototype's rule."""
    if count <= len(spec.outputs):
        return ()
    values = pyplugin_module(spec).size_tensor_values(outs, attrs)
    return tuple(np.array(v, dtype=np.int32) for v in values[: count - len(spec.outputs)])


def _output_shapes(spec: OpSpec, inputs: list[Any], shapes: dict, attrs: dict[str, Any]) -> list[tuple[int, ...]]:
    """Output shapes by the spec's rules; rules that depend on input values or attributes
    ("dynamic:") ask the prototype's `output_shapes(inputs, attrs)`."""
    if not any(is_value_dependent(t.shape) for t in spec.outputs):
        return [apply_rule(t.shape, shapes, attrs) for t in spec.outputs]
    prototype = pyplugin_module(spec)
    if not hasattr(prototype, "output_shapes"):
        raise TrtplugError(f"{spec.key}: value-dependent output shapes need output_shapes() in its prototype")
    return [tuple(s) for s in prototype.output_shapes(inputs, attrs)]


def plugin_specs(model: onnx.ModelProto, registry: Registry, impl: Impl) -> dict[tuple[str, str], OpSpec]:
    """(domain, op_type) -> spec of every plugin op the rewritten model uses, subgraphs included;
    raises when `impl` cannot run one of them."""
    from trtplug.graph_rewrites.plugin_node import plugin_domain as domain_of
    from trtplug.protoplugin.plugin import NAMESPACE as PROTOTYPES

    by_op = {(domain, s.plugin.name): s for s in registry for domain in (domain_of(s), PROTOTYPES)}
    used = {}
    for _, node in iter_nodes(model.graph):
        spec = by_op.get((node.domain, node.op_type))
        if spec is not None and (node.domain, node.op_type) not in used:
            unavailable = impl.unavailable(spec)
            if unavailable:
                raise TrtplugError(f"--impl {impl.name} cannot run {spec.plugin.name}: {unavailable}")
            used[(node.domain, node.op_type)] = spec
    return used


def _plugin_attrs(spec: OpSpec, attrs: dict[str, Any]) -> dict[str, Any]:
    """The node's fields the plugin takes, as TensorRT's parser passes them (strings decoded)."""
    fields = {a.name for a in spec.attributes}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items() if k in fields}


def _float_dtypes(inputs: list[Any], seen: set[str]) -> None:
    """Adds the floating-point dtypes a plugin node ran in to `seen` (an fp16 or bf16 model with
    float32 inputs and outputs, GenAI's logits, is judged at fp16 or bf16 tolerances)."""
    seen.update(str(x.dtype) for x in inputs if x is not None and (np.asarray(x).dtype.kind == "f" or is_bf16(x)))


def _note_unwritten(spec: OpSpec, inputs: list[Any], attrs: dict[str, Any], names: Any, unwritten: dict) -> None:
    """Masks, by output name, of what ONNX Runtime leaves unwritten in the original node's outputs
    (the prototype's reference_unwritten: a windowed GroupQueryAttention's later present rows)."""
    prototype = pyplugin_module(spec)
    if hasattr(prototype, "reference_unwritten"):
        given = [
            None if t.optional and np.asarray(x).size == 0 else x for t, x in zip(spec.inputs, inputs, strict=False)
        ]
        masks = prototype.reference_unwritten(given, attrs)
        unwritten.update({n: m for n, m in zip(names, masks, strict=False) if m is not None})


def _reference_classes(specs: dict[tuple[str, str], OpSpec], impl: Impl, seen: set[str], unwritten: dict) -> list[Any]:
    """An onnx.reference OpRun class per plugin op, running it through `impl`."""
    from onnx.reference.op_run import OpRun

    classes = []
    for (domain, op_type), spec in specs.items():

        def _run(self, *inputs, _spec=spec, **attrs):
            _float_dtypes(list(inputs), seen)
            fields = _plugin_attrs(_spec, attrs)
            _note_unwritten(_spec, list(inputs), fields, self.onnx_node.output, unwritten)
            return run_plugin(_spec, impl, list(inputs), fields, len(self.onnx_node.output))

        classes.append(type(op_type, (OpRun,), {"op_domain": domain, "_run": _run}))
    return classes


def _run_rewritten(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    specs: dict[tuple[str, str], OpSpec],
    impl: Impl,
    seen: set[str],
    unwritten: dict[str, Any],
) -> tuple[list[Any], str]:
    """The rewritten model's outputs and the engine that ran its standard part; the float dtypes
    the plugin nodes ran in are added to `seen`, the masks of what the original's op leaves
    unwritten to `unwritten`."""
    if not plugins_in_subgraphs(model, set(specs)):

        def run(node: onnx.NodeProto, inputs: list[Any]) -> tuple:
            _float_dtypes(inputs, seen)
            spec = specs[(node.domain, node.op_type)]
            attrs = _plugin_attrs(spec, {a.name: helper.get_attribute_value(a) for a in node.attribute})
            _note_unwritten(spec, inputs, attrs, node.output, unwritten)
            return run_plugin(spec, impl, inputs, attrs, len(node.output))

        try:
            if not has_bf16_boundary(model):
                return run_in_stretches(model, feeds, set(specs), run), "onnxruntime"
            wide = onnx.ModelProto()
            wide.CopyFrom(model)
            widened, bf16 = widen(wide)
            outputs = run_in_stretches(wide, float32_feeds(feeds), set(specs), run, bf16)
            for name in widened:  # a plugin writing a graph output wrote it under its bf16 name
                if inner_name(name) in unwritten:
                    unwritten[name] = unwritten.pop(inner_name(name))
            return as_bf16([o.name for o in model.graph.output], widened, outputs), f"onnxruntime ({BF16_NOTE})"
        except StretchError:
            pass  # a stretch ONNX Runtime cannot run: the whole graph in onnx.reference instead
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(model, new_ops=_reference_classes(specs, impl, seen, unwritten))
    return evaluator.run(None, feeds), "onnx.reference"


# ONNX Runtime's CPU MatMulNBits at accuracy_level 4 quantizes the activations to int8 per block
# (W4A8): an approximation the plugins (and TensorRT) do not make. The reference runs level 0.
EXACT_ACCURACY = 0


def _approximate_nbits(model: onnx.ModelProto) -> list[onnx.AttributeProto]:
    """accuracy_level attributes of com.microsoft MatMulNBits nodes that let ONNX Runtime
    lower precision (levels 2-4; 0 and 1 are float32)."""
    return [
        a
        for _, n in iter_nodes(model.graph)
        if n.op_type == "MatMulNBits" and n.domain == "com.microsoft"
        for a in n.attribute
        if a.name == "accuracy_level" and a.i > 1
    ]


def _qk_norm_nodes(model: onnx.ModelProto) -> int:
    return sum(has_qk_norm(n) for _, n in iter_nodes(model.graph))


def _original_source(original: onnx.ModelProto, path: str | None, options: Any) -> tuple[Any, str, list[str]]:
    """What ONNX Runtime loads for the original (its file when nothing must change: no second
    in-memory copy), the note on what changed ("" when nothing) and the outputs a bf16 model's
    widening made float32 (bf16_cpu.py)."""
    bf16 = has_bf16_boundary(original)
    qmoe, geglu = has_approximate_qmoe(original), has_geglu_moe(original)
    opset_raise, shared_caches = planned_opset_raise(original), batch_shared_cache_nodes(original)
    changes = _approximate_nbits(original) or _qk_norm_nodes(original) or bf16 or qmoe or geglu
    if not (changes or opset_raise or shared_caches):
        return (path if path is not None else original.SerializeToString()), "", []
    exact = load_model(path) if path is not None else onnx.ModelProto()  # external weights stay on disk
    if path is None:
        exact.CopyFrom(original)  # the caller's model stays as written
    notes = [raise_opset_for_newer_ops(exact, opset_raise)] if opset_raise else []
    if expanded := expand_batch_shared_caches(exact, shared_caches):  # same nodes, same order as original
        notes.append(
            f"the caches of {expanded} ai.onnx RotaryEmbedding expanded from batch 1 to the input's: "
            "ONNX Runtime refuses caches shared by the batch, which the op's other readers broadcast"
        )
    if levels := _approximate_nbits(exact):
        for attribute in levels:
            attribute.i = EXACT_ACCURACY
        notes.append(f"{len(levels)} MatMulNBits at accuracy_level 0: level 4 quantizes activations to int8")
    folder = str(Path(path).resolve().parent) if path is not None else None
    if qmoe and (replaced := exact_qmoe(exact, folder)):
        notes.append(
            f"{replaced} QMoE as float MoE on their dequantized weights: ONNX Runtime's CPU QMoE quantizes "
            "the activations of 8-bit block experts to int8, and runs MXFP4 experts on CUDA only"
        )
    if geglu and (replaced := dense_geglu_moe(exact, folder)):
        notes.append(
            f"{replaced} geglu MoE/QMoE as their dense standard-op mixture: ONNX Runtime's CPU kernels "
            "take no geglu (CUDA-only)"
        )
    unfused, _ = unfuse_qk_norms(exact.graph, opset_versions(exact).get("", 1))
    if unfused:
        notes.append(
            f"the q/k RMS norms of {len(unfused)} GroupQueryAttention as SimplifiedLayerNormalization nodes: "
            "ONNX Runtime's CPU kernel refuses them fused"
        )
    widened, _ = widen(exact) if bf16 else ([], frozenset())
    if bf16:
        notes.append(BF16_NOTE)
    if folder is not None:
        options.add_session_config_entry("session.model_external_initializers_file_folder_path", folder)
    return exact.SerializeToString(), "; ".join(notes), widened


def _original_session(original: onnx.ModelProto, path: str | None) -> tuple[Any, str, list[str]]:
    """ONNX Runtime on the original, the note on what the reference changed (see above) and the
    outputs widened from bf16."""
    options = cpu_session_options()
    source, note, widened = _original_source(original, path, options)
    try:
        session, ir_note = cpu_session_noted(source, options)
    except Exception as exc:  # ONNX Runtime rejects the original model
        raise TrtplugError(f"ONNX Runtime cannot load the original model: {str(exc).splitlines()[0]}") from None
    return session, "; ".join(n for n in (note, ir_note) if n), widened


def _run_original_onnxruntime(
    original: onnx.ModelProto, path: str | None, feeds: list[dict[str, np.ndarray]]
) -> tuple[list[list], str]:
    session, note, widened = _original_session(original, path)
    names = [o.name for o in session.get_outputs()]
    try:
        outputs = [as_bf16(names, widened, session.run(None, float32_feeds(feed))) for feed in feeds]
    except Exception as exc:  # ONNX Runtime rejects these inputs
        raise TrtplugError(f"ONNX Runtime failed on the original model: {str(exc).splitlines()[0]}") from None
    return outputs, f"onnxruntime ({note})" if note else "onnxruntime"


def _run_original(
    original: onnx.ModelProto, path: str | None, feeds: list[dict[str, np.ndarray]]
) -> tuple[list[list], str]:
    """The original's outputs for every feed and what ran it: ONNX Runtime, else onnx.reference
    (named with ONNX Runtime's error), else a TrtplugError with both errors."""
    try:
        return _run_original_onnxruntime(original, path, feeds)
    except TrtplugError as ort_error:
        try:
            outputs = _run_original_reference(original, path, feeds)
        except Exception as exc:  # onnx.reference lacks an op, or fails too
            note = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            raise TrtplugError(f"{ort_error}; onnx.reference failed too ({note})") from None
        return outputs, f"onnx.reference ({str(ort_error).removesuffix('.')})"


def _run_original_reference(original: onnx.ModelProto, path: str | None, feeds: list[dict[str, np.ndarray]]) -> list:
    """The original in onnx.reference, its weights read from `path` (the in-memory copy has none)."""
    from onnx.reference import ReferenceEvaluator

    model = original if path is None else load_model(path, load_weights=True)
    evaluator = ReferenceEvaluator(model)
    return [evaluator.run(None, feed) for feed in feeds]


def tolerance_for(specs: list[OpSpec], dtypes: set[str]) -> Tolerance:
    """The loosest tolerance of the plugins in any of `dtypes` (the output's and those they ran in)."""
    tolerances = [s.tolerances[d] for s in specs for d in dtypes if d in s.tolerances] or [FALLBACK_TOLERANCE]
    return Tolerance(max(t.atol for t in tolerances), max(t.rtol for t in tolerances))


def model_parity(
    original: onnx.ModelProto,
    rewritten: onnx.ModelProto,
    registry: Registry,
    impl: Impl,
    seed: int,
    dims: dict,
    feeds: list[dict[str, np.ndarray]] | None = None,
    original_path: str | None = None,
) -> ModelParity:
    """Run both models on the same inputs (fresh random ones unless `feeds` are given, one run per
    feed) and compare every graph output."""
    result = ModelParity(impl.name, seed, "error")
    specs = plugin_specs(rewritten, registry, impl)
    result.plugins = sorted(s.plugin.name for s in specs.values())
    dims = dims if feeds else resolved_dims(original, dims)
    drawn = [] if feeds else defaulted_dims(original, dims)
    feeds = feeds or [random_feeds(original, dims, seed, registry)]
    try:
        expected_sets, result.reference = _run_original(original, original_path, feeds)  # freed before ours
    except TrtplugError as exc:
        if not drawn:
            raise
        hint = f"--dim NAME=VALUE gives one its real size; these took {DEFAULT_DIM}: {', '.join(drawn)}"
        raise TrtplugError(f"{exc} (the inputs' symbolic dims may be the cause: {hint})") from None
    names = [o.name for o in rewritten.graph.output]
    for index, (feed, expected) in enumerate(zip(feeds, expected_sets, strict=True)):
        ran_in: set[str] = set()
        unwritten: dict[str, Any] = {}
        try:
            actual, result.engine = _run_rewritten(rewritten, feed, specs, impl, ran_in, unwritten)
        except Exception as exc:  # an op onnx.reference lacks, or the implementation under test failing
            result.detail = f"running the rewritten model failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            return result
        suffix = f"[{index}]" if len(feeds) > 1 else ""
        for name, a, e in zip(names, actual, expected, strict=True):
            if name in unwritten:  # ONNX Runtime's unwritten elements: the implementations' zeros
                e = np.where(unwritten[name], 0, e).astype(np.asarray(e).dtype)
            tol = tolerance_for(list(specs.values()), {str(np.asarray(e).dtype), *ran_in})
            result.comparisons.append(compare(name + suffix, np.asarray(a), np.asarray(e), tol))
    result.status = "pass" if all(c.ok for c in result.comparisons) else "fail"
    return result
