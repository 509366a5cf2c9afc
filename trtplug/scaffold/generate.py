"""From command-line arguments to the planned files of one op (and of a new project)."""

from __future__ import annotations

import argparse
from pathlib import Path

from trtplug.errors import TrtplugError
from trtplug.scaffold.describe import OpDescription, from_file, from_flags, parse_qualified, select_dtypes
from trtplug.scaffold.from_onnx import find_schema, from_schema
from trtplug.scaffold.names import OpNames, op_names
from trtplug.scaffold.plan import op_context, op_files
from trtplug.scaffold.render import render
from trtplug.scaffold.target import Target
from trtplug.scaffold.write import Planned

PROJECT_FILES = {
    "pyproject.toml": "project/pyproject.toml.j2",
    "CMakeLists.txt": "project/CMakeLists.txt.j2",
    "README.md": "project/README.md.j2",
    ".gitignore": "project/gitignore.j2",
    "{package}/__init__.py": "project/package_init.py.j2",
    "pyplugins/__init__.py": "project/pyplugins_init.py.j2",
    "graph_rewrites/__init__.py": "project/graph_rewrites_init.py.j2",
    "tests/test_parity.py": "project/tests/test_parity.py.j2",
}


def describe_op(args: argparse.Namespace) -> OpDescription:
    """The op from --spec-file, else the ONNX schema of --from, else the flags."""
    flags = (args.input, args.output, args.attr, args.type)
    if args.spec_file:
        desc = from_file(Path(args.spec_file))
    else:
        if not args.source:
            raise TrtplugError("say which op to scaffold: --from DOMAIN::OpType, or --spec-file FILE")
        domain, op_type = parse_qualified(args.source)
        schema = None if any(flags) else find_schema(domain, op_type, args.opset)
        if schema is None:
            desc = from_flags(domain, op_type, *flags, since_version=args.opset or 1)
        else:
            desc = from_schema(schema)
    return select_dtypes(desc, tuple(args.dtype) if args.dtype else None)


def check_plugin_unique(target: Target, names: OpNames) -> None:
    """The plugin name must be new among the ops the target's registry would load."""
    from trtplug.registry import load_registry

    extra = [] if target.is_repository or not (target.root / "plugins").is_dir() else [target.root / "plugins"]
    try:
        registry = load_registry(extra)
    except TrtplugError:
        return  # a broken spec elsewhere is not this command's business; the file checks still apply
    for spec in registry:
        if spec.plugin.name == names.plugin and spec.key != names.key:
            raise TrtplugError(f"plugin name {names.plugin!r} is taken by op {spec.key!r} ({spec.path})")


def plan_files(target: Target, desc: OpDescription, key: str, plugin_name: str | None) -> list[Planned]:
    names = op_names(key, desc.op_type, plugin_name)
    check_plugin_unique(target, names)
    context = op_context(desc, names)
    files = [Planned(target.root / f.path, render(f.template, context)) for f in op_files(key)]
    if not target.exists:
        project = {"package": target.package}
        files += [
            Planned(target.root / path.format(**project), render(template, project))
            for path, template in PROJECT_FILES.items()
        ]
    return files
