"""Per-spec parity hints: the `[parity]` table of a spec.toml, for ops whose inputs the generic
case generator (one X-shaped primary, the rest derived by shape rules) cannot describe.

    [parity]
    default_shapes = false          keep or drop the generic edge-shape cases (default: drop them
                                    when the spec lists its own cases, keep them otherwise)
    attr_variants = [{ direction = "LEFT" }, { direction = "RIGHT" }]
                                    run each case once per attribute variant (own cases that
                                    set none of the varied attributes too)
    generator = "max_pool_outputs"  inputs made together (trtplug/parity/generators.py)
    required_only = false           no "-required_only" variant of each case (ops such as Resize
                                    need one of their optional inputs)
    [parity.values]                 how random inputs are drawn:
    input_ids = { low = 0, high = "word_embedding[0]" }   integers in [low, high); high may
                                                          name a dimension of another input
    X = { scale = 0.25, add_identity = 8.0 }              floats: normal * scale (default 2)
                                                          (+ add_identity * I on the last two axes)
    [[parity.cases]]                one case (and its "-required_only" variant) per entry
    name = "bert"
    shapes = { input = [2, 64, 768], skip = [64, 768] }   the first input at least; the others
    omit = ["beta"]                                        default to their shape rules
    attrs = { epsilon = 1e-5 }
    values = { shape = [2, 3], axis = 1 }                 inputs with fixed values (shape inputs; a
                                                          bare value is a 0-D tensor)
    required_only = false           no "-required_only" variant (the op needs an optional input
                                    for the attributes this case sets, e.g. rotary caches)
    reference = "onnxruntime"       this case's reference instead of the spec's (onnxruntime or
                                    onnx-reference): for a case one of them is known to get wrong,
                                    with a comment giving the numbers
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]
_DIM_REF = re.compile(r"^(\w+)\[(\d+)\]$")
DEFAULT_SCALE = 2.0


@dataclass(frozen=True)
class ValueHint:
    low: int = -100
    high: int | str = 100  # an int, or "<input>[<axis>]"
    scale: float = DEFAULT_SCALE
    add_identity: float = 0.0

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
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    required_only: bool = True
    reference: str = ""  # the spec's reference when empty


CASE_REFERENCES = ("onnxruntime", "onnx-reference", "numpy")  # numpy: the op folder's reference.py


@dataclass(frozen=True)
class ParityHints:
    cases: tuple[CaseHint, ...] = ()
    values: dict[str, ValueHint] = field(default_factory=dict)
    default_shapes: bool = True
    attr_variants: tuple[dict[str, Any], ...] = ()
    generator: str | None = None
    required_only: bool = True  # each case also runs without its optional inputs


def read_parity_hints(top: Any, inputs: Sequence[Any], attribute_names: Sequence[str]) -> ParityHints | None:
    """Parses `[parity]` through the spec's reader `top` (errors name file and field)."""
    if "parity" not in top.table:
        return None
    r = top.sub("parity")
    r.reject_unknown({"cases", "values", "default_shapes", "attr_variants", "generator", "required_only"})
    names = [t.name for t in inputs]
    values = _read_values(r.sub("values", {}), names)
    cases = tuple(_read_case(c, inputs, attribute_names) for c in r.items("cases", []))
    seen = [c.name for c in cases]
    if len(set(seen)) != len(seen):
        raise r.fail("cases", "duplicate case name")
    variants = tuple(dict(v.table) for v in r.items("attr_variants", []))
    for i, variant in enumerate(variants):
        _check_attr_names(r, f"attr_variants[{i}]", variant, attribute_names)
    generator = r.get("generator", str, None)
    if generator is not None:
        from trtplug.parity.generators import GENERATORS

        if generator not in GENERATORS:
            raise r.fail("generator", f"unknown generator {generator!r} (known: {', '.join(sorted(GENERATORS))})")
    default_shapes = r.get("default_shapes", bool, not cases)
    return ParityHints(cases, values, default_shapes, variants, generator, r.get("required_only", bool, True))


def _read_values(r: Any, names: Sequence[str]) -> dict[str, ValueHint]:
    values = {}
    for name in r.table:
        if name not in names:
            raise r.fail(name, f"names no input (inputs: {', '.join(names)})")
        v = r.sub(name)
        v.reject_unknown({"low", "high", "scale", "add_identity"})
        high = v.get("high", (int, str), 100)
        if isinstance(high, str):
            match = _DIM_REF.match(high)
            if match is None or match.group(1) not in names:
                raise v.fail("high", f"expected an int or '<input>[<axis>]', got {high!r}")
        values[name] = ValueHint(
            v.get("low", int, -100),
            high,
            float(v.get("scale", (int, float), DEFAULT_SCALE)),
            float(v.get("add_identity", (int, float), 0.0)),
        )
    return values


def _read_case(r: Any, inputs: Sequence[Any], attribute_names: Sequence[str]) -> CaseHint:
    r.reject_unknown({"name", "shapes", "omit", "attrs", "values", "required_only", "reference"})
    names = [t.name for t in inputs]
    shapes = {name: _dims(r.sub("shapes"), name, names) for name in r.sub("shapes").table}
    fixed = {}
    for name, value in r.get("values", dict, {}).items():
        if name not in names:
            raise r.fail(f"values.{name}", f"names no input (inputs: {', '.join(names)})")
        fixed[name] = tuple(value) if isinstance(value, list) else (value,)
        shapes[name] = (len(fixed[name]),) if isinstance(value, list) else ()  # a bare value: 0-D
    if names[0] not in shapes:
        raise r.sub("shapes").fail(names[0], "the first input's shape is required")
    omit = tuple(r.get("omit", list, []))
    optional = [t.name for t in inputs if t.optional]
    for name in omit:
        if name not in optional:
            raise r.fail("omit", f"{name!r} is not an optional input (optional: {', '.join(optional)})")
    attrs = dict(r.get("attrs", dict, {}))
    _check_attr_names(r, "attrs", attrs, attribute_names)
    reference = r.get("reference", str, "")
    if reference and reference not in CASE_REFERENCES:
        raise r.fail("reference", f"unknown case reference {reference!r} (known: {', '.join(CASE_REFERENCES)})")
    return CaseHint(r.get("name", str), shapes, omit, attrs, fixed, r.get("required_only", bool, True), reference)


def _dims(r: Any, name: str, names: Sequence[str]) -> Shape:
    dims = r.get(name, list)
    if name not in names:
        raise r.fail(name, f"names no input (inputs: {', '.join(names)})")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise r.fail(name, f"expected a list of dimensions >= 0, got {dims!r}")
    return tuple(dims)


def _check_attr_names(r: Any, where: str, attrs: Mapping[str, Any], attribute_names: Sequence[str]) -> None:
    for name in attrs:
        if name not in attribute_names:
            raise r.fail(f"{where}.{name}", f"unknown attribute (attributes: {', '.join(attribute_names)})")
