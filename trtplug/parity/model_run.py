"""Running the rewritten model with its plugin nodes bound to one of trtplug's implementations.

Large-model mode (the default): the graph is cut at its plugin nodes; each stretch of standard
nodes runs in ONNX Runtime (CPU, optimizations off, as the original does), each plugin node through
the implementation, in rounds: all standard nodes that do not wait on a plugin output, then the
plugin nodes whose inputs are ready. Intermediate tensors are dropped once their last reader has
run, and a stretch carries only the initializers it reads, so memory stays near the weights.
Plugin nodes inside If/Loop/Scan bodies cannot be cut out of ONNX Runtime: such models (and any
stretch ONNX Runtime refuses) run whole in onnx.reference instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.onnx_pb import TensorProto

from trtplug.graph_rewrites.validate import node_reads  # inputs plus what bodies read from outside
from trtplug.onnx_common import iter_nodes, node_subgraphs
from trtplug.parity.ort_session import cpu_session
from trtplug.protolib.dtypes import BF16

BFLOAT16, FLOAT = TensorProto.BFLOAT16, TensorProto.FLOAT


class StretchError(Exception):
    """ONNX Runtime could not run a stretch of standard nodes (not a plugin failure)."""


PluginRunner = Callable[[onnx.NodeProto, list[Any]], tuple]


def plugins_in_subgraphs(model: onnx.ModelProto, plugin_ops: set[tuple[str, str]]) -> bool:
    """Whether a plugin node sits inside an If/Loop/Scan body (at any depth)."""
    bodies = (body for node in model.graph.node for _, body in node_subgraphs(node))
    return any((n.domain, n.op_type) in plugin_ops for body in bodies for _, n in iter_nodes(body))


def _ort_session(model: onnx.ModelProto) -> Any:
    return cpu_session(model.SerializeToString())


class _Stretches:
    """State of one segmented run: computed values and how many readers each still has."""

    def __init__(
        self,
        model: onnx.ModelProto,
        feeds: dict[str, np.ndarray],
        plugins: dict,
        run: PluginRunner,
        bf16: frozenset[str] = frozenset(),
    ):
        self.model, self.plugins, self.run_plugin, self.bf16 = model, plugins, run, bf16
        self.initializers = {t.name: t for t in model.graph.initializer}
        self.values: dict[str, Any] = dict(feeds)
        self.keep = {o.name for o in model.graph.output}
        # Nodes by position: protobuf hands out a new wrapper object on every access.
        self.nodes = list(model.graph.node)
        self.reads = [node_reads(n) for n in self.nodes]
        self.readers = Counter(r for reads in self.reads for r in reads)

    def value(self, name: str) -> Any:
        if name not in self.values and name in self.initializers:
            return numpy_helper.to_array(self.initializers[name])
        return self.values.get(name)

    def release(self, indices: Iterable[int]) -> None:
        for index in indices:
            for name in self.reads[index]:
                self.readers[name] -= 1
                if self.readers[name] <= 0 and name not in self.keep:
                    self.values.pop(name, None)

    def run_standard(self, indices: list[int], later: list[int]) -> None:
        nodes = [self.nodes[i] for i in indices]
        produced = {o for n in nodes for o in n.output if o}
        reads = set().union(*(self.reads[i] for i in indices)) - produced
        wanted = ({r for i in later for r in self.reads[i]} | self.keep) & produced
        if not wanted:  # dead nodes only (their outputs unread, e.g. a norm's unused statistics)
            return
        fed = sorted(r for r in reads if r in self.values)
        inits = [self.initializers[r] for r in sorted(reads) if r in self.initializers and r not in self.values]
        # bf16 crosses ONNX Runtime's Python API as float32 (it takes and returns no bf16 array):
        # a bf16 value is fed upcast and cast back inside, a bf16 result cast out and rounded back.
        feeds = {self._float_name(r): self._fed(r) for r in fed}
        inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), None) for n, v in feeds.items()
        ]
        nodes = [*self._casts(fed, BFLOAT16), *nodes, *self._casts(sorted(wanted), FLOAT)]
        outputs = [onnx.ValueInfoProto(name=self._float_name(o)) for o in sorted(wanted)]
        graph = helper.make_graph(nodes, "stretch", inputs, outputs, initializer=inits)
        part = helper.make_model(graph, opset_imports=self.model.opset_import, ir_version=self.model.ir_version)
        part.functions.extend(self.model.functions)
        try:
            results = _ort_session(part).run(None, feeds)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise StretchError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        for name, result in zip(sorted(wanted), results, strict=True):
            self.values[name] = result.astype(BF16) if name in self.bf16 else result

    def _float_name(self, name: str) -> str:
        return f"{name}/float32" if name in self.bf16 else name

    def _fed(self, name: str) -> Any:
        value = np.asarray(self.values[name])
        return value.astype(np.float32) if name in self.bf16 else value

    def _casts(self, names: list[str], to: int) -> list[onnx.NodeProto]:
        """Casts between each bf16 name and its float32 twin (into bf16 on entry, out on exit)."""
        pairs = [(self._float_name(n), n) if to == BFLOAT16 else (n, self._float_name(n)) for n in names]
        return [
            helper.make_node("Cast", [a], [b], to=to) for (a, b), n in zip(pairs, names, strict=True) if n in self.bf16
        ]

    def run_plugins(self, indices: list[int]) -> None:
        for node in (self.nodes[i] for i in indices):
            outs = self.run_plugin(node, [self.value(i) if i else None for i in node.input])
            self.values.update((name, value) for name, value in zip(node.output, outs, strict=False) if name)


def run_in_stretches(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    plugins: set[tuple[str, str]],
    run: PluginRunner,
    bf16: frozenset[str] = frozenset(),
) -> list[Any]:
    """The graph outputs of `model`: standard stretches in ONNX Runtime, plugin nodes through `run`
    (`bf16`: the model's bf16 tensors, which cross ONNX Runtime as float32; bf16_cpu.py)."""
    state = _Stretches(model, feeds, plugins, run, bf16)
    pending = list(range(len(state.nodes)))
    while pending:
        blocked: set[str] = set()
        standard, ready, later = [], [], []
        for index in pending:
            node = state.nodes[index]
            waits = bool(state.reads[index] & blocked)
            if (node.domain, node.op_type) in plugins and not waits:
                ready.append(index)
            elif not waits:
                standard.append(index)
                continue
            else:
                later.append(index)
            blocked.update(o for o in node.output if o)
        if standard:
            state.run_standard(standard, ready + later)
        state.run_plugins(ready)
        state.release(standard + ready)
        pending = later
    return [state.value(o.name) for o in model.graph.output]
