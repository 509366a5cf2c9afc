"""Op registry: discovers plugins/<op>/spec.toml folders (a family folder holds several ops);
nothing to edit when an op is added.

Built-in specs come from the source checkout's plugins/ folder when trtplug runs from one
(editable install, tests), else from the copy installed inside the package. User plugin
projects add folders through TRTPLUG_PLUGIN_PATH (os.pathsep-separated) or `extra_dirs`, and
installed ones through the `trtplug.plugins` entry point group: each entry point names the
project's package, whose plugins/ folder (source checkout or installed copy) is loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from trtplug.errors import SpecError, TrtplugError
from trtplug.spec import OpSpec, load_specs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_plugins_dir() -> Path:
    source = _PACKAGE_DIR.parent / "plugins"
    if any(source.glob("*/spec.toml")):
        return source
    return _PACKAGE_DIR / "plugins"


def plugin_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    env = [p for p in os.environ.get("TRTPLUG_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs = [builtin_plugins_dir(), *entry_point_dirs(), *(Path(p) for p in (*env, *extra_dirs))]
    unique: dict[Path, Path] = {}
    for folder in dirs:  # a project both installed and named with --plugins-dir loads once
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


def project_rule_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """The graph_rewrites/ folders beside plugin projects' plugins/ folders (where their
    pyplugins/ are too); the built-in rules are the trtplug.graph_rewrites package."""
    builtin = builtin_plugins_dir().resolve()
    found = [d.parent / "graph_rewrites" for d in plugin_dirs(extra_dirs) if d.resolve() != builtin]
    return [d for d in found if d.is_dir()]


ENTRY_POINT_GROUP = "trtplug.plugins"


def project_package(root: Path) -> str | None:
    """The [tool.trtplug] package of root/pyproject.toml, or None when root is no plugin project."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TrtplugError(f"{path}: cannot read: {exc}") from None
    package = data.get("tool", {}).get("trtplug", {}).get("package")
    return package if isinstance(package, str) else None


def owning_package(spec_path: Path) -> str | None:
    """The Python package whose compiled parts hold the op of this spec: "trtplug" for built-ins;
    for a plugin project, the package that holds its installed plugins/ folder or the one its
    pyproject.toml names ([tool.trtplug] package) in a source checkout; None for a bare folder."""
    folder = spec_path.resolve().parent.parent
    if folder == builtin_plugins_dir().resolve():
        return "trtplug"
    if (folder.parent / "__init__.py").is_file():
        return folder.parent.name
    return project_package(folder.parent)


def package_plugins_dir(package_dir: Path) -> Path:
    """A plugin project's plugins/ folder: beside the package in a source checkout (editable
    install), else the copy installed inside the package."""
    source = package_dir.parent / "plugins"
    if (package_dir.parent / "pyproject.toml").is_file() and any(source.glob("*/spec.toml")):
        return source
    return package_dir / "plugins"


def entry_point_dirs() -> list[Path]:
    """The plugins/ folders of the packages registered under the trtplug.plugins entry point group."""
    from importlib.metadata import entry_points

    dirs = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = entry.load()
        except Exception as exc:  # a broken third-party package must say which one it is
            raise TrtplugError(f"entry point {ENTRY_POINT_GROUP}:{entry.name} ({entry.value}): {exc}") from None
        files = getattr(module, "__file__", None)
        if not files:
            raise TrtplugError(f"entry point {ENTRY_POINT_GROUP}:{entry.name}: {entry.value} is not a package")
        dirs.append(package_plugins_dir(Path(files).resolve().parent))
    return dirs


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
            for spec in load_specs(spec_path):  # an op family's folder holds several ops
                registry.add(spec)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    return load_registry()
