"""Names a scaffolded op gets, and the reason a name is refused.

The op key (folder plugins/<key>/, module pyplugins/<key>.py, binding trtplug._native.<key>) is
snake_case; the plugin name is what the ONNX parser looks up by node op_type, so it must not
collide with an ONNX op (the parser dispatches built-in importers by op_type alone).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import cache

from trtplug.errors import TrtplugError

_KEY = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
RESERVED_KEYS = frozenset({"common", "host", "test", "tests"})


@dataclass(frozen=True)
class OpNames:
    key: str  # col2im
    camel: str  # Col2im: C++ class and function stem
    plugin: str  # TrtplugCol2Im

    @property
    def plugin_class(self) -> str:
        return f"{self.camel}Plugin"

    @property
    def params(self) -> str:
        """The attributes' struct, generated from the spec (cmake/generate_op_glue.py)."""
        return f"glue_{self.key}::Params"

    @property
    def launcher(self) -> str:
        return f"launch{self.camel}"


def camel_case(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def lower_camel(name: str) -> str:
    """A C++ local for an ONNX tensor or attribute name: image_shape -> imageShape, X -> x."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p] or ["t"]
    first = parts[0].lower() if parts[0].isupper() else parts[0][:1].lower() + parts[0][1:]
    text = first + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return text + "_" if text in _CPP_KEYWORDS else text


def check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise TrtplugError(f"op name {key!r}: use snake_case (lower-case letters, digits, single underscores)")
    if key in RESERVED_KEYS or keyword.iskeyword(key):
        raise TrtplugError(f"op name {key!r} is reserved")


def check_plugin_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise TrtplugError(f"--plugin-name {name!r} is not an identifier")
    if name in onnx_op_names():
        raise TrtplugError(
            f"plugin name {name!r} is an ONNX op name: TensorRT's parser would import the node with its "
            "built-in importer instead of the plugin (pick another --plugin-name)"
        )


@cache
def onnx_op_names() -> frozenset[str]:
    import onnx.defs

    return frozenset(s.name for s in onnx.defs.get_all_schemas_with_history())


def op_names(key: str, op_type: str, plugin_name: str | None) -> OpNames:
    check_key(key)
    plugin = plugin_name or f"Trtplug{op_type}"
    check_plugin_name(plugin)
    return OpNames(key, camel_case(key), plugin)


# C++ keywords, and names the generated code already uses for its own variables.
_CPP_WORDS = """alignas alignof and auto bool break case catch char class const constexpr continue default
delete do double
else enum explicit extern false float for friend goto if inline int long mutable namespace new noexcept not
nullptr operator or private protected public register return short signed sizeof static struct switch
template this throw true try typedef typename union unsigned using virtual void volatile while
stream params"""
_CPP_KEYWORDS = frozenset(_CPP_WORDS.split())
