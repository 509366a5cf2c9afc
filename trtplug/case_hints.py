"""Per-spec parity hints: the `[parity]` table of a spec.toml, for ops whose inputs the generic
case generator (one X-shaped primary, the rest derived by shape rules) cannot describe.

    [parity.values]                 integer inputs: values drawn in [low, high); high may name
    input_ids = { low = 0, high = "word_embedding[0]" }     a dimension of another input
    [[parity.cases]]                one case (and its "-required_only" variant) per entry
    name = "bert"
    shapes = { input = [2, 64, 768], skip = [64, 768] }     the first input at least; the others
    omit = ["beta"]                                          default to their shape rules
    attrs = { epsilon = 1e-5 }
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]
_DIM_REF = re.compile(r"^(\w+)\[(\d+)\]$")


@dataclass(frozen=True)
class ValueRange:
    low: int
    high: int | str  # an int, or "<input>[<axis>]"

    def bounds(self, shapes: Mapping[str, Shape]) -> tuple[int, int]:
        """[low, high) for this case's shapes (high >= low + 1 so an empty table still draws)."""
        if isinstance(self.high, int):
            return self.low, self.high
        name, axis = _DIM_REF.match(self.high).groups()  # validated when the spec loaded
        return self.low, max(self.low + 1, shapes[name][int(axis)])


@dataclass(frozen=True)
class CaseHint:
    name: str
    shapes: dict[str, Shape]
    omit: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParityHints:
    cases: tuple[CaseHint, ...] = ()
    values: dict[str, ValueRange] = field(default_factory=dict)


def read_parity_hints(top: Any, inputs: Sequence[Any], attribute_names: Sequence[str]) -> ParityHints | None:
    """Parses `[parity]` through the spec's reader `top` (errors name file and field)."""
    if "parity" not in top.table:
        return None
    r = top.sub("parity")
    r.reject_unknown({"cases", "values"})
    names = [t.name for t in inputs]
    values = _read_values(r.sub("values", {}), names)
    cases = tuple(_read_case(c, inputs, attribute_names) for c in r.items("cases", []))
    seen = [c.name for c in cases]
    if len(set(seen)) != len(seen):
        raise r.fail("cases", "duplicate case name")
    return ParityHints(cases, values)


def _read_values(r: Any, names: Sequence[str]) -> dict[str, ValueRange]:
    values = {}
    for name in r.table:
        if name not in names:
            raise r.fail(name, f"names no input (inputs: {', '.join(names)})")
        v = r.sub(name)
        v.reject_unknown({"low", "high"})
        high = v.get("high", (int, str))
        if isinstance(high, str):
            match = _DIM_REF.match(high)
            if match is None or match.group(1) not in names:
                raise v.fail("high", f"expected an int or '<input>[<axis>]', got {high!r}")
        values[name] = ValueRange(v.get("low", int), high)
    return values


def _read_case(r: Any, inputs: Sequence[Any], attribute_names: Sequence[str]) -> CaseHint:
    r.reject_unknown({"name", "shapes", "omit", "attrs"})
    names = [t.name for t in inputs]
    shapes_r = r.sub("shapes")
    shapes = {}
    for name in shapes_r.table:
        dims = shapes_r.get(name, list)
        if name not in names:
            raise shapes_r.fail(name, f"names no input (inputs: {', '.join(names)})")
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
            raise shapes_r.fail(name, f"expected a list of dimensions >= 0, got {dims!r}")
        shapes[name] = tuple(dims)
    if names[0] not in shapes:
        raise shapes_r.fail(names[0], "the first input's shape is required")
    omit = tuple(r.get("omit", list, []))
    optional = [t.name for t in inputs if t.optional]
    for name in omit:
        if name not in optional:
            raise r.fail("omit", f"{name!r} is not an optional input (optional: {', '.join(optional)})")
    attrs = dict(r.get("attrs", dict, {}))
    for name in attrs:
        if name not in attribute_names:
            raise r.fail(f"attrs.{name}", f"unknown attribute (attributes: {', '.join(attribute_names)})")
    return CaseHint(r.get("name", str), shapes, omit, attrs)
