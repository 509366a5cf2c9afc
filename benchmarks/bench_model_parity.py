"""`trtplug parity --model` on a 12-layer BERT-base-sized encoder (hidden 768, FFN 3072, vocab 30522:
110M parameters, 440 MB of fp32 weights) in the form ONNX Runtime's transformer optimizer leaves it
(EmbedLayerNormalization, SkipLayerNormalization, BiasGelu/FastGelu/Gelu/QuickGelu, see
tests/encoder_model.py), rewritten by `trtplug rewrite`. Prints the wall time and peak memory
(resident set) of each CLI run, and the peak as a multiple of the weights. Not a test.

    python benchmarks/bench_model_parity.py [--layers 12] [--seq 128] [--batch 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.encoder_model import BERT_BASE, encoder_model  # noqa: E402


def run_cli(args: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last output line) of one `trtplug` run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trtplug", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out.splitlines() if line.strip()]
    return time.perf_counter() - start, usage.ru_maxrss / 1024, proc.returncode, lines[-2] if len(lines) > 1 else out


def build(path: Path, layers: int) -> None:
    """Writes the encoder. Run in a child process: a child forked from a parent that held the model
    would start with the parent's pages, and its peak-RSS reading would include them."""
    model = encoder_model(layers=layers, dims=BERT_BASE)
    onnx.save(model, path)
    print(sum(len(t.raw_data) for t in model.graph.initializer) / 2**20)  # weights, MB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # internal: the child that writes the model
    args = parser.parse_args()
    if args.build:
        build(args.build, args.layers)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        original, rewritten = Path(tmp) / "bert.onnx", Path(tmp) / "bert.trt.onnx"
        child = [sys.executable, __file__, "--layers", str(args.layers), "--build", str(original)]
        weights_mb = float(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
        print(f"encoder: {args.layers} layers, {weights_mb:.0f} MB of weights, batch {args.batch}, seq {args.seq}")
        print(f"{'step':<8} {'seconds':>8} {'peak MB':>8} {'x weights':>9}  result")
        steps = {
            "rewrite": ["rewrite", str(original), "-o", str(rewritten)],
            "parity": [
                "parity", "--model", str(original), "--rewritten", str(rewritten),
                "--dim", f"batch={args.batch}", "--dim", f"seq={args.seq}", "--seed", "0",
            ],
        }  # fmt: skip
        code = 0
        for step, cli in steps.items():
            seconds, peak, rc, last = run_cli(cli)
            print(f"{step:<8} {seconds:>8.1f} {peak:>8.0f} {peak / weights_mb:>9.2f}  exit {rc}: {last}")
            code = code or rc
    return code


if __name__ == "__main__":
    sys.exit(main())
