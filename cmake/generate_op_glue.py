#!/usr/bin/env python3
"""Write one op folder's generated C++ glue header from its spec (run by CMake at build time).

    generate_op_glue.py plugins/<op>/spec.toml <build>/generated/<op>/op_glue.h

One namespace trtplug::glue_<key> per op: the folder's op, or each member of an op family
(`[[members]]`, merged as trtplug/spec_family.py does: the member's tables replace the shared ones).

The header holds the Params struct (the spec's attributes with their C++ types and defaults, the
field visitor in spec order), the identity constants, the input/output counts and validate(),
which checks the spec's value rules (choices, min/max per element, min_length/max_length) with
trtplug/attr_rules.py's wording. Stdlib only: the build must not need trtplug importable.
`axis_of` is not checked here: the input rank is unknown at creation, and the rewrite refuses a
node whose axis is out of range.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = TEMPLATES / "op_glue.h.in"
MEMBER_TEMPLATE = TEMPLATES / "op_glue_member.h.in"
CPP_TYPES = {
    "int": "int32_t",
    "ints": "std::vector<int32_t>",
    "float": "float",
    "floats": "std::vector<float>",
    "string": "std::string",
}


# The most tensors a variadic input takes (the spec's last input with `variadic = true`); equal to
# trtplug/variadic.py's MAX_VARIADIC_INPUTS, which says why there is a cap.
MAX_VARIADIC_INPUTS = 64


class GlueError(Exception):
    """A spec the generator cannot turn into C++; the message names the file and attribute."""


def cpp_literal(kind: str, value: object) -> str:
    """`value` as a C++ literal of the attribute type `kind` (scalar element type for lists)."""
    if kind in ("string",):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind in ("float", "floats"):
        text = repr(float(value))
        return (text if any(c in text for c in ".en") else text + ".0") + "F"
    if int(value) == -(2**31):  # INT32_MIN is not a literal: 2147483648 overflows int
        return "INT32_MIN"
    return str(int(value))


def member_line(attr: dict) -> str:
    kind, name = attr["type"], attr["name"]
    default = attr.get("default")
    if default is None:
        init = "{}"
    elif isinstance(default, list):
        init = "{" + ", ".join(cpp_literal(kind, v) for v in default) + "}"
    else:
        init = "{" + cpp_literal(kind, default) + "}"
    return f"    {CPP_TYPES[kind]} {name}{init};"


def check_lines(attr: dict) -> list[str]:
    """The validate() statements for one attribute (none when it has no value rule)."""
    return value_check_lines(attr) + length_of_lines(attr)


def length_of_lines(attr: dict) -> list[str]:
    """A list attribute tied in length to another one (`length_of`, `length_factor`)."""
    if "length_of" not in attr:
        return []
    name, other, factor = attr["name"], attr["length_of"], int(attr.get("length_factor", 1))
    call = f'attr_check::lengthOfProblem(p.{name}.size(), p.{other}.size(), {factor}, "{other}")'
    return [
        f"    if (problem.empty() && !(problem = {call}).empty())",
        "    {",
        f"        problem = \"attribute '{name}': \" + problem;",
        "    }",
    ]


def value_check_lines(attr: dict) -> list[str]:
    kind, name = attr["type"], attr["name"]
    rules = ("choices", "min", "max", "min_length", "max_length")
    if not any(r in attr for r in rules):
        return []
    element_type = {"ints": "int32_t", "floats": "float"}.get(kind, CPP_TYPES[kind])
    choices = ", ".join(cpp_literal(kind, c) for c in attr.get("choices", []))
    bounds = ", ".join(
        [
            "true" if "min" in attr else "false",
            repr(float(attr.get("min", 0))),
            "true" if "max" in attr else "false",
            repr(float(attr.get("max", 0))),
        ]
    )
    choice_list = f"std::initializer_list<{element_type}>{{{choices}}}"
    if kind in ("ints", "floats"):
        lengths = f"{attr.get('min_length', -1)}, {attr.get('max_length', -1)}"
        call = f"attr_check::listProblem(p.{name}, {lengths}, {choice_list}, {bounds})"
    else:
        call = f"attr_check::scalarProblem(p.{name}, {choice_list}, {bounds})"
    lines = []
    guard = ""
    if attr.get("default_means_absent"):
        guard = f"p.{name} != {member_line(attr).split('{', 1)[1].rstrip('};')} && "
    lines.append(f"    if (problem.empty() && {guard}!(problem = {call}).empty())")
    lines.append("    {")
    lines.append(f"        problem = \"attribute '{name}': \" + problem;")
    lines.append("    }")
    return lines


def variadic_range(spec: dict) -> tuple[int, int]:
    """(min, max) tensors of the spec's variadic last input; (0, 0) when it has none."""
    last = spec["inputs"][-1]
    return (int(last.get("min_count", 1)), MAX_VARIADIC_INPUTS) if last.get("variadic") else (0, 0)


def io_counts(spec: dict) -> tuple[int, int, int]:
    """(min inputs, max inputs, outputs) the plugin's enqueue sees: shape inputs reach only the
    shape callbacks and folded inputs become attributes; data copies are appended; a variadic
    last input counts as its min..max tensors (the spec allows no optional input before it)."""
    plugin_inputs = [t for t in spec["inputs"] if "fold_into" not in t and not t.get("shape_input")]
    copies = sum(1 for t in spec["inputs"] if t.get("data_copy"))
    outputs = len(spec["outputs"]) + len(spec.get("size_tensors", []))
    fewest, most = variadic_range(spec)
    if most:
        return len(plugin_inputs) - 1 + fewest, len(plugin_inputs) - 1 + most, outputs
    required = len(plugin_inputs)
    while required and plugin_inputs[required - 1].get("optional"):
        required -= 1
    return required + copies, len(plugin_inputs) + copies, outputs


def name_list(tensors: list[dict]) -> str:
    return ", ".join(cpp_literal("string", t["name"]) for t in tensors)


def optional_list(tensors: list[dict]) -> str:
    return ", ".join("true" if t.get("optional") else "false" for t in tensors)


def io_tables(spec: dict) -> dict[str, str]:
    """The binding's view: the ONNX inputs in spec order less those folded into fields (STFT's
    frame_step: its value arrives as the attribute), as the prototype and the plugin take them;
    then the outputs and size tensors."""
    outputs = spec["outputs"] + spec.get("size_tensors", [])
    inputs = [t for t in spec["inputs"] if "fold_into" not in t]
    return {
        "input_names": name_list(inputs),
        "input_optional": optional_list(inputs),
        "output_names": name_list(outputs),
        "output_optional": optional_list(outputs),
    }


def spec_members(spec: dict) -> list[tuple[str | None, dict]]:
    """(member key, its tables) per op of the spec; key None for a single-op spec (the folder's)."""
    if "members" not in spec:
        return [(None, spec)]
    shared = {name: table for name, table in spec.items() if name != "members"}
    return [(m["key"], {**shared, **{k: v for k, v in m.items() if k != "key"}}) for m in spec["members"]]


def render_member(spec_path: Path, key: str, spec: dict) -> str:
    where = f"{spec_path}: member {key!r}" if key != spec_path.parent.name else str(spec_path)
    try:
        plugin = spec["plugin"]
        attrs = spec.get("attributes", [])
        for attr in attrs:
            if attr.get("type") not in CPP_TYPES:
                raise GlueError(f"{where}: attribute {attr.get('name')!r}: unknown type {attr.get('type')!r}")
        min_inputs, max_inputs, nb_outputs = io_counts(spec)
        variadic_min, variadic_max = variadic_range(spec)
    except (KeyError, TypeError) as exc:
        raise GlueError(f"{where}: cannot generate glue: {exc}") from None
    fields = {
        "key": key,
        "name": plugin["name"],
        "version": plugin["version"],
        "namespace": plugin["namespace"],
        "summary": cpp_literal("string", plugin.get("summary", plugin["name"]))[1:-1],
        **io_tables(spec),
        "min_inputs": min_inputs,
        "max_inputs": max_inputs,
        "nb_outputs": nb_outputs,
        "variadic_min": variadic_min,
        "variadic_max": variadic_max,
        "members": "\n".join(member_line(a) for a in attrs),
        "visits": "\n".join(f'        v("{a["name"]}", {a["name"]});' for a in attrs),
        "required_fields": "".join(f'"{a["name"]}", ' for a in attrs if a.get("required")),
        "checks": "\n".join(line for a in attrs for line in check_lines(a)),
    }
    return MEMBER_TEMPLATE.read_text(encoding="utf-8").format(**fields)


def render(spec_path: Path) -> str:
    try:
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
        members = spec_members(spec)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise GlueError(f"{spec_path}: cannot generate glue: {exc}") from None
    namespaces = [render_member(spec_path, key or spec_path.parent.name, tables) for key, tables in members]
    text = TEMPLATE.read_text(encoding="utf-8")
    return text.format(spec_path=spec_path.as_posix(), namespaces="\n".join(namespaces))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: generate_op_glue.py SPEC_TOML OUTPUT_HEADER", file=sys.stderr)
        return 2
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    try:
        text = render(spec_path)
    except GlueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")  # never leave a half-written header
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
