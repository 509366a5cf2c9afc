"""The `trtplug` command. Subcommands live in trtplug/commands/, one module each, and import
their heavy dependencies inside `run`, so `trtplug --help` needs no TensorRT, CuPy or GPU.

Exit codes: 0 success, 1 the command's check failed (e.g. parity mismatches), 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from trtplug import __version__
from trtplug.errors import TrtplugError

COMMANDS = {
    "doctor": "environment report: Python, ONNX, TensorRT, CUDA, GPU, compiled parts",
    "list": "registered plugins, the ONNX ops they replace, implementations available here",
    "parity": "numerical parity of every implementation against independent references",
    "check": "every node TensorRT's ONNX parser rejects, why, and the plugin that covers it",
    "rewrite": "replace the nodes a plugin covers with plugin nodes TensorRT loads",
    "bench": "time each op's CUDA kernel, CuPy prototype and torch equivalent on this GPU",
    "new": "scaffold a new op (spec, kernel, plugin, binding, prototype) in the repository or a plugin project",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trtplug",
        description="Make ONNX models that TensorRT cannot import run in TensorRT, through plugins.",
    )
    parser.add_argument("--version", action="version", version=f"trtplug {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        module = importlib.import_module(f"trtplug.commands.{name}")
        command = sub.add_parser(name, help=summary, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def one_line(message: str) -> str:
    """Control characters (a newline in a file name) escaped, so an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except TrtplugError as exc:
        print(f"trtplug {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            f"trtplug {args.command}: error: not enough memory (are --dim values or model sizes too large?)",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # e.g. `trtplug check model.onnx | head`: the reader left, stay quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"trtplug {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("TRTPLUG_DEBUG"):
            raise
        print(
            f"trtplug {args.command}: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set TRTPLUG_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
