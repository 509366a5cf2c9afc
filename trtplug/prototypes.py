"""Where an op's CuPy/NumPy prototype lives: one loader for parity, rewrite (prototype hooks such as
`node_problem`), the bindings' size-tensor checks and the prototype plugins."""

from __future__ import annotations

from functools import cache
from typing import Any

from trtplug.project_modules import import_builtin, load_project_module
from trtplug.registry import builtin_plugins_dir
from trtplug.spec import OpSpec


@cache
def pyplugin_module(spec: OpSpec) -> Any:
    """The op's CuPy prototype (forward, optional output_shapes, ...): trtplug.pyplugins.<folder>
    for a built-in, else the project's pyplugins/<folder>.py beside its plugins/ folder. An op
    family's module holds one prototype per member in `members` (keyed by op key)."""
    if spec.path.parent.parent.resolve() == builtin_plugins_dir().resolve():
        module = import_builtin(f"pyplugins.{spec.folder}")
    else:
        path = spec.path.parent.parent.parent / "pyplugins" / f"{spec.folder}.py"
        if not path.is_file():
            raise ImportError(f"{path}: no CuPy prototype for op {spec.key!r}")
        module = load_project_module(path, "pyplugins")
    if spec.folder == spec.key:
        return module
    members = getattr(module, "members", {})
    if spec.key not in members:
        raise ImportError(f"{module.__name__}: no prototype for family member {spec.key!r} in `members`")
    return members[spec.key]


def takes_bf16(prototype: Any) -> bool:
    """A prototype that reads and writes bf16 itself (Bf16Device on a GPU, ml_dtypes on the CPU)
    instead of float32 stand-ins (`takes_bf16 = True` in its module or family member)."""
    return bool(getattr(prototype, "takes_bf16", False))
