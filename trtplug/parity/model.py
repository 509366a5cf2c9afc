"""Model-level parity: does a rewritten model compute what the original does?

The original runs in ONNX Runtime (CPU, graph optimizations off: the reference is the graph as
written); the rewritten model runs in onnx.reference with each plugin op bound to one of
trtplug's implementations (the NumPy prototype on the CPU; CuPy, CUDA or the plugin host on a
GPU), receiving exactly the fields TensorRT's parser would pass. Every graph output is compared
with the loosest tolerance among the plugins the model uses: a wrong attribute mapping or input
order shows up as a numeric failure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from trtplug.errors import TrtplugError
from trtplug.onnx_common import is_standard_domain
from trtplug.parity.compare import Comparison, compare
from trtplug.parity.impl_base import Impl, poisoned, pyplugin_module
from trtplug.registry import Registry
from trtplug.shape_rules import apply_rule, is_value_dependent
from trtplug.spec import OpSpec, Tolerance

DEFAULT_DIM = 3  # symbolic or unknown dims of graph inputs, unless --dim says otherwise
FALLBACK_TOLERANCE = Tolerance(1e-5, 1e-5)


@dataclass
class ModelParity:
    impl: str
    seed: int
    status: str  # pass | fail | error
    comparisons: list[Comparison] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "comparisons"}
        d["outputs"] = [c.as_dict() for c in self.comparisons]
        return d


def _index_bounds(model: onnx.ModelProto, registry: Registry | None, name: str) -> tuple[int, int] | None:
    """[low, high) for an integer graph input that a covered op reads as indices: the op spec's
    [parity.values] hint for that input, sized by the initializers the node reads (e.g. a table)."""
    if registry is None:
        return None
    versions = {o.domain or "": o.version for o in model.opset_import}
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:
        spec = registry.covering(node.domain, node.op_type, versions.get(node.domain or "", 1))
        if spec is None or spec.parity is None or name not in node.input:
            continue
        tensor = spec.inputs[list(node.input).index(name)] if len(node.input) <= len(spec.inputs) else None
        hint = spec.parity.values.get(tensor.name) if tensor is not None else None
        if hint is not None:
            named = {t.name: shapes[n] for t, n in zip(spec.inputs, node.input, strict=False) if n in shapes}
            try:
                return hint.bounds(named)
            except KeyError:  # the bound names an input that is not a constant here
                continue
    return None


# Ops that pass index values through unchanged (only their layout or type changes).
_INDEX_PASS_THROUGH = {"Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity", "Expand"}


def _gather_bounds(model: onnx.ModelProto, name: str) -> tuple[int, int] | None:
    """[0, rows) for an integer input that reaches a standard Gather's indices through
    pass-through ops (BERT's token_type_ids into a 2-row table): the smallest table it indexes."""
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for used in node.input:
            consumers.setdefault(used, []).append(node)
    rows, frontier, seen = [], [name], {name}
    while frontier:
        tensor = frontier.pop()
        for node in consumers.get(tensor, []):
            standard = is_standard_domain(node.domain)
            if standard and node.op_type == "Gather" and len(node.input) > 1 and node.input[1] == tensor:
                axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
                table = shapes.get(node.input[0])
                if table and -len(table) <= axis < len(table):
                    rows.append(table[axis])
            elif standard and node.op_type in _INDEX_PASS_THROUGH and node.input[0] == tensor:
                frontier += [o for o in node.output if o and o not in seen]
                seen.update(node.output)
    return (0, min(rows)) if rows and min(rows) > 0 else None


def random_feeds(
    model: onnx.ModelProto, dims: dict[str, int], seed: int, registry: Registry | None = None
) -> dict[str, np.ndarray]:
    """Fresh inputs for every graph input that is not an initializer; integer inputs a covered op
    reads as indices stay within the tables they index."""
    rng = np.random.default_rng(seed)
    initializers = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        shape = tuple(
            d.dim_value if d.HasField("dim_value") else dims.get(d.dim_param, DEFAULT_DIM) for d in tensor.shape.dim
        )
        _refuse_oversized(value.name, shape, dtype)
        if dtype.kind == "f":
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            feeds[value.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            bounds = _index_bounds(model, registry, value.name) or _gather_bounds(model, value.name)
            low, high = bounds or (0, 4)  # small: valid as indices too
            feeds[value.name] = rng.integers(low, high, shape).astype(dtype)
    return feeds


def _refuse_oversized(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """A --dim value that makes an input larger than this machine's memory is the user's error;
    allocating it would be killed by the OS (overcommit) rather than raise MemoryError."""
    size = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if size > physical:
        raise TrtplugError(
            f"input {name!r} of shape {list(shape)} needs {size / 2**30:.1f} GiB, more than this machine's "
            f"{physical / 2**30:.1f} GiB of memory: choose smaller --dim values"
        )


def run_plugin(spec: OpSpec, impl: Impl, inputs: list[np.ndarray], attrs: dict[str, Any], count: int) -> tuple:
    """One plugin node through `impl`: outputs shaped by the spec's rules, poisoned first."""
    # An optional input with no elements is absent (the rewrite's stand-in before a present input).
    given = [None if t.optional and x.size == 0 else x for t, x in zip(spec.plugin_inputs, inputs, strict=False)]
    present = [(t, x) for t, x in zip(spec.plugin_inputs, given, strict=False) if x is not None]
    shapes = {t.name: tuple(x.shape) for t, x in present}
    dtypes = {t.type: str(x.dtype) for t, x in present}
    xp = impl.xp()
    out_shapes = _output_shapes(spec, given, shapes, attrs)
    outs = [poisoned(xp, out_shapes[i], dtypes.get(t.type, t.type)) for i, t in enumerate(spec.outputs[:count])]
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
        return [apply_rule(t.shape, shapes) for t in spec.outputs]
    prototype = pyplugin_module(spec)
    if not hasattr(prototype, "output_shapes"):
        raise TrtplugError(f"{spec.key}: value-dependent output shapes need output_shapes() in its prototype")
    return [tuple(s) for s in prototype.output_shapes(inputs, attrs)]


def plugin_op_classes(model: onnx.ModelProto, registry: Registry, impl: Impl) -> dict[str, Any]:
    """OpRun class per plugin op the rewritten model uses, keyed by plugin name."""
    from onnx.reference.op_run import OpRun

    from trtplug.graph_rewrites.plugin_node import plugin_domain as domain_of

    by_op = {(domain_of(s), s.plugin.name): s for s in registry}
    classes = {}
    for node in model.graph.node:
        spec = by_op.get((node.domain, node.op_type))
        if spec is None or spec.plugin.name in classes:
            continue
        unavailable = impl.unavailable(spec)
        if unavailable:
            raise TrtplugError(f"--impl {impl.name} cannot run {spec.plugin.name}: {unavailable}")
        fields = {a.name for a in spec.attributes}

        def _run(self, *inputs, _spec=spec, _fields=fields, **attrs):
            passed = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items() if k in _fields}
            return run_plugin(_spec, impl, list(inputs), passed, len(self.onnx_node.output))

        classes[spec.plugin.name] = type(spec.plugin.name, (OpRun,), {"op_domain": node.domain, "_run": _run})
    return classes


def _run_original(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def tolerance_for(specs: list[OpSpec], dtype: str) -> Tolerance:
    tolerances = [s.tolerances[dtype] for s in specs if dtype in s.tolerances] or [FALLBACK_TOLERANCE]
    return Tolerance(max(t.atol for t in tolerances), max(t.rtol for t in tolerances))


def model_parity(
    original: onnx.ModelProto, rewritten: onnx.ModelProto, registry: Registry, impl: Impl, seed: int, dims: dict
) -> ModelParity:
    """Run both models on the same fresh inputs and compare every graph output."""
    from onnx.reference import ReferenceEvaluator

    result = ModelParity(impl.name, seed, "error")
    classes = plugin_op_classes(rewritten, registry, impl)
    result.plugins = sorted(classes)
    feeds = random_feeds(original, dims, seed, registry)
    try:
        expected = _run_original(original, feeds)
    except Exception as exc:  # ONNX Runtime rejects the original model or these inputs
        raise TrtplugError(f"ONNX Runtime failed on the original model: {str(exc).splitlines()[0]}") from None
    try:
        evaluator = ReferenceEvaluator(rewritten, new_ops=list(classes.values()))
        actual = evaluator.run(None, feeds)
    except Exception as exc:  # an op onnx.reference lacks, or the implementation under test failing
        result.detail = f"running the rewritten model failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        return result
    specs = [s for s in registry if s.plugin.name in classes]
    names = [o.name for o in rewritten.graph.output]
    for name, a, e in zip(names, actual, expected, strict=True):
        tol = tolerance_for(specs, str(np.asarray(e).dtype))
        result.comparisons.append(compare(name, np.asarray(a), np.asarray(e), tol))
    result.status = "pass" if all(c.ok for c in result.comparisons) else "fail"
    return result
