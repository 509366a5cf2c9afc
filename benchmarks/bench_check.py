"""Time `trtplug check` on synthetic models of 1k, 10k and 100k nodes, parser and static mode.

The models repeat a transformer-like block (MatMul with a weight, Add, Gelu-ish activations,
LayerNormalization, a Reshape with a constant shape, an uncovered BitwiseAnd side branch every
block), so the signature cache and the whole-model parse are both exercised. Prints a table;
not a timed test. Usage: python benchmarks/bench_check.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BLOCK = 10  # nodes per block


def synthetic_model(nodes: int, hidden: int = 64) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((hidden, hidden)).astype(np.float32), "w")
    gamma = numpy_helper.from_array(np.ones(hidden, np.float32), "gamma")
    shape = numpy_helper.from_array(np.array([-1, hidden], np.int64), "shape")
    graph_nodes, x = [], "x"
    for b in range(nodes // BLOCK):
        p = f"b{b}_"
        graph_nodes += [
            helper.make_node("MatMul", [x, "w"], [p + "mm"], name=p + "matmul"),
            helper.make_node("Add", [p + "mm", x], [p + "add"], name=p + "add"),
            helper.make_node("Sigmoid", [p + "add"], [p + "sig"], name=p + "sigmoid"),
            helper.make_node("Mul", [p + "add", p + "sig"], [p + "silu"], name=p + "mul"),
            helper.make_node("LayerNormalization", [p + "silu", "gamma"], [p + "ln"], axis=-1, name=p + "ln"),
            helper.make_node("Reshape", [p + "ln", "shape"], [p + "r"], name=p + "reshape"),
            helper.make_node("Relu", [p + "r"], [p + "relu"], name=p + "relu"),
            helper.make_node("Cast", [p + "relu"], [p + "i"], to=TensorProto.INT32, name=p + "cast"),
            helper.make_node("BitwiseAnd", [p + "i", p + "i"], [p + "band"], name=p + "band"),
            helper.make_node("Tanh", [p + "relu"], [p + "out"], name=p + "tanh"),
        ]
        x = p + "out"
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", hidden])]
    outputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", hidden])]
    outputs += [helper.make_tensor_value_info(f"b{b}_band", TensorProto.INT32, None) for b in range(nodes // BLOCK)]
    graph = helper.make_graph(graph_nodes, "bench", inputs, outputs, initializer=[weight, gamma, shape])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def main() -> None:
    from trtplug.check.backend import choose_backend
    from trtplug.check.runner import check_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    backend = choose_backend("auto")
    modes = [("static", True)] + ([(f"parser ({backend})", False)] if backend else [])
    print(f"{'nodes':>7}  {'mode':<24} {'seconds':>8}  {'rejected':>8}  {'parses':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"bench_{size}.onnx"
            onnx.save(synthetic_model(size), str(path))
            for label, static in modes:
                start = time.perf_counter()
                report = check_model(path, static=static)
                seconds = time.perf_counter() - start
                parses = report.stats.get("parses", "-")
                print(f"{report.nodes:>7}  {label:<24} {seconds:>8.2f}  {len(report.findings):>8}  {parses:>6}")
    if not backend:
        print("parser mode skipped: no TensorRT parser importable (pip install tensorrt-rtx)")


if __name__ == "__main__":
    main()
