"""Find every node TensorRT's ONNX parser rejects, with the parser's reason and the trtplug plugin
that covers it (if any). Uses the real parser (tensorrt or tensorrt_rtx) when importable, else
shipped capability data (--static). Exit 0 when every node imports or is covered by a plugin, 1
when uncovered rejected nodes remain, 2 on bad input."""

from __future__ import annotations

import argparse
import sys

from trtplug.commands import add_backend_argument, add_common_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.onnx", help="the ONNX model to check")
    parser.add_argument("--static", action="store_true", help="judge from shipped capability data, not the parser")
    parser.add_argument(
        "--trt-version",
        type=trt_version,
        default="10",
        metavar="X.Y",
        help="TensorRT release for --static: 10.0 ... 10.16, 11.0 ... 11.5, or 10 / 11 for the latest (default 10)",
    )
    add_backend_argument(parser, "parser to ask")
    parser.add_argument("--markdown", action="store_true", help="Markdown report")
    parser.add_argument("--no-whole-model", action="store_true", help="skip the confirming whole-model parse")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="S", help="seconds one parse may take")
    add_common_arguments(parser)


def trt_version(text: str) -> str:
    from trtplug.check.static import resolve_version
    from trtplug.errors import TrtplugError

    try:
        return resolve_version(text)
    except TrtplugError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--trt-version {text}: ")) from None


def run(args: argparse.Namespace) -> int:
    from trtplug.check.render import print_markdown, print_report_json, print_table, progress_bar
    from trtplug.check.runner import check_model
    from trtplug.progress import progress_enabled

    progress = progress_bar(not args.no_progress and progress_enabled(sys.stderr))
    report = check_model(
        args.model,
        static=args.static,
        trt_version=args.trt_version,
        backend=args.backend,
        plugin_dirs=args.plugins_dir,
        whole_model=not args.no_whole_model,
        progress=progress,
        timeout_s=args.timeout,
    )
    if args.json:
        print_report_json(report)
    elif args.markdown:
        print_markdown(report)
    else:
        print_table(report)
    return report.exit_code
