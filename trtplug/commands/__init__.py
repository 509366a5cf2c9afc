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
