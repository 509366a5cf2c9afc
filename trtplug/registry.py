"""Op registry: discovers plugins/<op>/spec.toml folders; nothing to edit when an op is added.

Built-in specs come from the source checkout's plugins/ folder when trtplug runs from one
(editable install, tests), else from the copy installed inside the package. User plugin
projects add folders through TRTPLUG_PLUGIN_PATH (os.pathsep-separated) or `extra_dirs`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from trtplug.errors import SpecError, TrtplugError
from trtplug.spec import OpSpec, load_spec

_PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_plugins_dir() -> Path:
    source = _PACKAGE_DIR.parent / "plugins"
    if any(source.glob("*/spec.toml")):
        return source
    return _PACKAGE_DIR / "plugins"


def plugin_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    env = [p for p in os.environ.get("TRTPLUG_PLUGIN_PATH", "").split(os.pathsep) if p]
    return [builtin_plugins_dir(), *(Path(p) for p in (*env, *extra_dirs))]


@dataclass
class Registry:
    ops: dict[str, OpSpec] = field(default_factory=dict)

    def __iter__(self) -> Iterator[OpSpec]:
        return iter(self.ops.values())

    def __len__(self) -> int:
        return len(self.ops)

    def get(self, key: str) -> OpSpec:
        try:
            return self.ops[key]
        except KeyError:
            raise TrtplugError(f"unknown op {key!r} (known: {', '.join(sorted(self.ops)) or 'none'})") from None

    def covering(self, domain: str, op_type: str, opset: int) -> OpSpec | None:
        """The op whose plugin replaces this ONNX node type, if any."""
        for spec in self.ops.values():
            if any(r.covers(domain, op_type, opset) for r in spec.replaces):
                return spec
        return None

    def select(self, keys: Iterable[str] | None) -> list[OpSpec]:
        return list(self.ops.values()) if not keys else [self.get(k) for k in keys]

    def add(self, spec: OpSpec) -> None:
        if spec.key in self.ops:
            raise SpecError(spec.path, "<folder>", f"op {spec.key!r} already defined in {self.ops[spec.key].path}")
        for other in self.ops.values():
            if other.plugin.name == spec.plugin.name and other.plugin.namespace == spec.plugin.namespace:
                raise SpecError(
                    spec.path, "plugin.name", f"duplicate plugin name {spec.plugin.name!r} (also in {other.path})"
                )
        self.ops[spec.key] = spec


def load_registry(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> Registry:
    """Load every spec under the plugin folders; raises SpecError naming the file and field."""
    registry = Registry()
    for folder in plugin_dirs(extra_dirs):
        if not folder.is_dir():
            raise TrtplugError(f"{folder}: plugin folder does not exist")
        for spec_path in sorted(folder.glob("*/spec.toml")):
            registry.add(load_spec(spec_path))
    return registry


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    return load_registry()
