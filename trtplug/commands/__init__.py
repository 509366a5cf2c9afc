"""One module per `trtplug` subcommand: `add_arguments(parser)` and `run(args) -> exit code`."""

from __future__ import annotations

import argparse


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--plugins-dir (user plugin folders) and --json, shared by the commands that load ops."""
    parser.add_argument(
        "--plugins-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also load op specs from DIR/<op>/spec.toml (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_backend_argument(parser: argparse.ArgumentParser, role: str) -> None:
    """--backend: which ONNX parser answers (`check`'s verdicts, `rewrite`'s target)."""
    parser.add_argument(
        "--backend",
        choices=["auto", "tensorrt", "tensorrt_rtx"],
        default="auto",
        help=f"{role} (default: tensorrt if importable, else tensorrt_rtx)",
    )
