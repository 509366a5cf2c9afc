"""python -m trtplug.protoplugin [--list] | TOOL ARGS...: list which prototypes run as TensorRT
plugins, or register them and run a Python tool in this process (e.g. polygraphy run ...)."""

from __future__ import annotations

import runpy
import sys


def main(argv: list[str]) -> int:
    from trtplug import protoplugin

    if not argv or argv[0] in ("--list", "-h", "--help"):
        for key, reason in sorted(protoplugin.available().items()):
            print(f"{key}: {'runs as a plugin' if reason is None else reason}")
        if not argv or argv[0] != "--list":
            print(__doc__.strip(), file=sys.stderr)
        return 0
    try:
        outcome = protoplugin.register()
    except Exception as exc:  # a missing TensorRT is the usual one: say it, no traceback
        print(f"trtplug.protoplugin: {exc}", file=sys.stderr)
        return 2
    count = sum(v == "registered" for v in outcome.values())
    print(f"trtplug.protoplugin: {count} prototype plugins registered ({protoplugin.NAMESPACE})", file=sys.stderr)
    sys.argv = list(argv)
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
