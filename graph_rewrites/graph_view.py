"""A read/edit view of one ONNX graph: producers, consumers, constants and tensor types.

Rules and the node pass read the graph through it. Structural edits (a subgraph replaced by one
node) are queued and applied in one pass that keeps node order: the new node takes the place of
the last node it replaces, so a topologically sorted graph stays sorted. The view works on the
protobuf directly, so names, doc strings, metadata and external-data references are untouched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from trtplug.onnx_common import dtype_name, is_standard_domain, node_subgraphs

Dim = int | str | None


@dataclass(frozen=True)
class TensorType:
    elem_type: int
    shape: tuple[Dim, ...] | None  # None: rank unknown; str dims are symbolic, None dims unknown


def names_used_inside(graph: onnx.GraphProto) -> set[str]:
    """Every tensor name a (sub)graph's nodes read, including outer-scope names."""
    used: set[str] = set()
    for node in graph.node:
        used.update(i for i in node.input if i)
        for _, sub in node_subgraphs(node):
            used |= names_used_inside(sub)
    return used


class GraphView:
    def __init__(self, graph: onnx.GraphProto, types: dict[str, TensorType], base_dir: str | None = None) -> None:
        self.graph, self.types, self.base_dir = graph, types, base_dir
        self._indexed = False  # producer/consumer indexes are built on first use: most nodes never need them
        self._producer: dict[str, onnx.NodeProto] = {}
        self._consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        self._position: dict[int, int] = {}
        self.initializers = {t.name: t for t in graph.initializer}
        self.graph_outputs = {o.name for o in graph.output}
        self._constants: dict[str, np.ndarray | None] = {}
        self._replacements: dict[int, onnx.NodeProto] = {}  # position of the last replaced node -> new
        self._removed: set[int] = set()
        self._fresh: set[str] = set()

    def _index(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        for index, node in enumerate(self.graph.node):
            self._position[id(node)] = index
            self._producer.update((out, node) for out in node.output if out)
            reads = {i for i in node.input if i}
            for _, sub in node_subgraphs(node):
                reads |= names_used_inside(sub)  # a control-flow node consumes what its body reads
            for name in reads:
                self._consumers[name].append(node)

    # ---- reading ------------------------------------------------------------------------------
    def producer(self, name: str) -> onnx.NodeProto | None:
        self._index()
        return self._producer.get(name)

    def consumers(self, name: str) -> list[onnx.NodeProto]:
        self._index()
        return self._consumers.get(name, [])

    def dtype(self, name: str) -> str | None:
        info = self.types.get(name)
        return dtype_name(info.elem_type) if info and info.elem_type else None

    def shape(self, name: str) -> tuple[Dim, ...] | None:
        info = self.types.get(name)
        return info.shape if info else None

    def constant(self, name: str) -> np.ndarray | None:
        """The value of an initializer or Constant node output (external data loaded), else None."""
        if name not in self._constants:
            self._constants[name] = self._load_constant(name)
        return self._constants[name]

    def scalar(self, name: str) -> float | None:
        value = self.constant(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def used_outside(self, name: str, nodes: list[onnx.NodeProto]) -> bool:
        """Whether `name` is a graph output or read by a node not in `nodes`."""
        inside = {id(n) for n in nodes}
        return name in self.graph_outputs or any(id(c) not in inside for c in self.consumers(name))

    def neighbours(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        """The producers of `node`'s inputs and the readers of its outputs."""
        found = [p for p in map(self.producer, node.input) if p is not None]
        return found + [c for out in node.output for c in self.consumers(out)]

    def position(self, node: onnx.NodeProto) -> int:
        self._index()
        return self._position[id(node)]

    def claimed(self, node: onnx.NodeProto) -> bool:
        return id(node) in self._removed

    def fresh_name(self, base: str) -> str:
        """A tensor name not used anywhere in this graph (for outputs a node leaves unnamed)."""
        self._index()
        taken = self._producer.keys() | self._consumers.keys() | self.initializers.keys()
        taken |= {v.name for v in self.graph.input} | self._fresh
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        self._fresh.add(name)
        return name

    def _load_constant(self, name: str) -> np.ndarray | None:
        if name in self.initializers:
            return numpy_helper.to_array(self.initializers[name], base_dir=self.base_dir or "")
        node = self.producer(name)
        if node is None or node.op_type != "Constant" or not is_standard_domain(node.domain):
            return None
        for attr in node.attribute:
            if attr.name == "value":
                return numpy_helper.to_array(attr.t, base_dir=self.base_dir or "")
            if attr.name in ("value_float", "value_int", "value_floats", "value_ints"):
                return np.asarray(onnx.helper.get_attribute_value(attr))
        return None

    # ---- editing ------------------------------------------------------------------------------
    def replace(self, nodes: list[onnx.NodeProto], new: onnx.NodeProto) -> None:
        """Queue: drop `nodes`, put `new` where the last of them was."""
        self._index()
        self._removed.update(id(n) for n in nodes)
        last = max(self._position[id(n)] for n in nodes)
        self._replacements[last] = new

    def apply(self) -> bool:
        """Perform the queued replacements; True when the graph changed."""
        if not self._removed:
            return False
        kept = []
        for index, node in enumerate(self.graph.node):
            if index in self._replacements:
                kept.append(self._replacements[index])
            elif id(node) not in self._removed:
                kept.append(node)
        copies = [onnx.NodeProto() for _ in kept]
        for copy, node in zip(copies, kept, strict=True):
            copy.CopyFrom(node)
        del self.graph.node[:]
        self.graph.node.extend(copies)
        return True
