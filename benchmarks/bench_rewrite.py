"""`trtplug rewrite` time on 1k/10k/100k-node models against a plain onnx.load + onnx.save of the
same model (the floor: any rewrite reads and writes the file).

Models (a chain, so every node depends on the previous one):
  contrib   Add(x, bias) -> com.microsoft FastGelu blocks: half the nodes become plugin nodes
  patterns  torch-style erf-GELU blocks (bias Add, Div, Erf, Add, Mul, Mul): every block fused
            into one plugin node (test-only BiasGelu spec from tests/fixtures/rewrite)
  plain     Add/Relu only: nothing to rewrite, the cost of looking

The rewrite is timed end to end as the CLI runs it (load, input check, type inference, passes,
output checker and strict shape inference, atomic save). For reference, the `gs import` column
is what onnx-graphsurgeon's import of the same graph costs (the pattern pass pays it only for a
graph holding a rule's anchor op: the patterns models, not contrib or plain). Prints a table;
not a test.

    python benchmarks/bench_rewrite.py [--sizes 1000 10000 100000] [--kinds contrib patterns plain]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("trtplug") is None:  # run from a source checkout without an install
    sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "fixtures" / "rewrite" / "plugins"
WIDTH = 64


def _const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def _block(kind: str, i: int, x: str) -> tuple[list[onnx.NodeProto], str]:
    p = f"b{i}"
    if kind == "contrib":
        return [
            helper.make_node("Add", [x, "bias"], [f"{p}_a"], name=f"{p}_add"),
            helper.make_node("FastGelu", [f"{p}_a"], [f"{p}_y"], name=f"{p}_gelu", domain="com.microsoft"),
        ], f"{p}_y"
    if kind == "plain":
        return [
            helper.make_node("Add", [x, "bias"], [f"{p}_a"], name=f"{p}_add"),
            helper.make_node("Relu", [f"{p}_a"], [f"{p}_y"], name=f"{p}_relu"),
        ], f"{p}_y"
    return [
        helper.make_node("Add", [x, "bias"], [f"{p}_a"], name=f"{p}_bias"),
        helper.make_node("Div", [f"{p}_a", "sqrt2"], [f"{p}_s"], name=f"{p}_div"),
        helper.make_node("Erf", [f"{p}_s"], [f"{p}_e"], name=f"{p}_erf"),
        helper.make_node("Add", [f"{p}_e", "one"], [f"{p}_o"], name=f"{p}_one"),
        helper.make_node("Mul", [f"{p}_a", f"{p}_o"], [f"{p}_m"], name=f"{p}_mul"),
        helper.make_node("Mul", [f"{p}_m", "half"], [f"{p}_y"], name=f"{p}_half"),
    ], f"{p}_y"


def build(kind: str, nodes: int) -> onnx.ModelProto:
    per_block = 6 if kind == "patterns" else 2
    graph_nodes, x = [], "x"
    for i in range(math.ceil(nodes / per_block)):
        block, x = _block(kind, i, x)
        graph_nodes += block
    inits = [_const("bias", np.linspace(-1, 1, WIDTH)), _const("sqrt2", math.sqrt(2)), _const("one", 1.0)]
    inits.append(_const("half", 0.5))
    graph = helper.make_graph(
        graph_nodes,
        f"{kind}_{nodes}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", WIDTH])],
        initializer=inits,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


def time_load_save(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    onnx.save(onnx.load(src), dst)
    return time.perf_counter() - start


def time_gs_import(src: Path) -> float:
    import onnx_graphsurgeon as gs

    model = onnx.load(src)
    start = time.perf_counter()
    gs.import_onnx(model)
    return time.perf_counter() - start


def time_rewrite(src: Path, dst: Path) -> tuple[float, str]:
    from trtplug.commands.rewrite import rewrite
    from trtplug.rewrite_report import summary

    args = argparse.Namespace(
        model=str(src), output=str(dst), in_place=False, dry_run=False, only=[], exclude=[],
        no_patterns=False, plugins_dir=[str(FIXTURES)],
        all_covered=True, trt_version=None, backend="auto",  # the passes; a target adds one `check` run
    )  # fmt: skip
    start = time.perf_counter()
    result, _, _ = rewrite(args)
    return time.perf_counter() - start, summary(result, None).split(";")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--kinds", nargs="+", default=["contrib", "patterns", "plain"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size below 100k nodes (median)")
    args = parser.parse_args()
    print(f"{'model':<10} {'nodes':>7} {'load+save s':>12} {'rewrite s':>10} {'ratio':>6} {'gs import':>10}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:
            for size in args.sizes:
                src, dst = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
                onnx.save(build(kind, size), src)
                repeat = 1 if size >= 100000 else args.repeat
                base = statistics.median(time_load_save(src, dst) for _ in range(repeat))
                runs = [time_rewrite(src, dst) for _ in range(repeat)]
                took = statistics.median(r[0] for r in runs)
                gs_ratio = f"{time_gs_import(src) / base:.1f}x"
                row = f"{kind:<10} {size:>7} {base:>12.3f} {took:>10.3f} {took / base:>6.1f} {gs_ratio:>10}"
                print(f"{row}  {runs[0][1]}", flush=True)


if __name__ == "__main__":
    main()
