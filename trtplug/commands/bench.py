"""Time each op's CUDA launcher (the kernel the plugin runs), its CuPy prototype and the torch
equivalent on this GPU, as bytes moved per second against a device copy measured in the same run
and as a ratio to torch. Outputs are checked to agree before anything is timed. Needs a CUDA GPU."""

from __future__ import annotations

import argparse
from pathlib import Path

from trtplug.commands import add_common_arguments

DEFAULT_SIZES_MB = (16, 64, 256, 1024)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MB sizes like 64,256,1024") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--op", action="append", metavar="OP", help="op key (repeatable; default all)")
    parser.add_argument("--dtype", action="append", metavar="DTYPE", help="float32, float16, ... (repeatable)")
    parser.add_argument(
        "--sizes", type=_sizes, default=list(DEFAULT_SIZES_MB), help="first-input sizes in MB (default 16,64,256,1024)"
    )
    parser.add_argument("--plot", type=Path, metavar="PNG", help="write GB/s vs size, one line per implementation")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write the results as a generated document")
    add_common_arguments(parser)


def _gpu() -> object:
    from trtplug.errors import TrtplugError

    try:
        import cupy as cp

        if cp.cuda.runtime.getDeviceCount() > 0:
            return cp
        reason = "CUDA reports no device"
    except ImportError:
        reason = "CuPy is not installed"
    except Exception as exc:  # the CUDA driver is missing or broken
        reason = f"CUDA is unusable: {exc}"
    raise TrtplugError(f"needs a CUDA GPU with CuPy ({reason}); benchmarks do not run on the CPU")


def run(args: argparse.Namespace) -> int:
    from trtplug.bench import report
    from trtplug.bench.runner import Roofline, bench_op
    from trtplug.bench.timing import copy_bandwidth_gbs, fill_bandwidth_gbs, read_bandwidth_gbs
    from trtplug.errors import TrtplugError
    from trtplug.progress import progress
    from trtplug.registry import load_registry
    from trtplug.report import format_table, print_json
    from trtplug.spec import DTYPES

    for path in (args.plot, args.markdown):  # before the registry loads and the GPU starts
        if path is not None and not path.parent.resolve().is_dir():
            raise TrtplugError(f"{path}: folder {path.parent} does not exist")
    for dtype in args.dtype or []:
        if dtype not in DTYPES:
            raise TrtplugError(f"--dtype {dtype}: unknown dtype (known: {', '.join(DTYPES)})")
    specs = load_registry(args.plugins_dir).select(args.op)
    cp = _gpu()
    try:
        import torch
    except ImportError:
        torch = None
    copy_gbs = copy_bandwidth_gbs(cp, torch=torch)
    roof = Roofline(copy_gbs, fill_bandwidth_gbs(cp, torch=torch), read_bandwidth_gbs(cp, torch=torch))
    jobs = [(s, d, mb) for s in specs for d in s.dtypes if not args.dtype or d in args.dtype for mb in args.sizes]
    timings = []
    for spec, dtype, mb in progress(jobs, len(jobs), "bench"):
        timings.extend(bench_op(cp, spec, dtype, mb, torch, roof))
        cp.get_default_memory_pool().free_all_blocks()
    env = report.environment(cp, torch, copy_gbs, roof.fill_gbs, roof.read_gbs)
    if args.plot:
        report.write_plot(args.plot, timings, copy_gbs)
    if args.markdown:
        report.write_markdown(args.markdown, env, timings)
    if args.json:
        print_json("bench", {"environment": env, "timings": [t.as_dict() for t in timings]})
    else:
        print(
            f"{env['device']}: device copy {copy_gbs:.0f} GB/s, fill {roof.fill_gbs:.0f} GB/s, "
            f"read {roof.read_gbs:.0f} GB/s"
        )
        print(format_table(report.HEADERS, report.rows(timings)))
    return 0
