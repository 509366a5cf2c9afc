"""Op families: one spec.toml declaring several plugins whose ops differ only by a functor
(plugins/bitwise/: BitwiseAnd/Or/Xor/Not). The shared tables are written once; each
`[[members]]` entry has its `key` (the op key: registry, `--op`, binding name), its own
`[members.plugin]` and `[[members.replaces]]`, and may replace any shared table as a whole
(e.g. BitwiseNot's single input). Each member then loads as an ordinary single-op spec.

cmake/generate_op_glue.py merges members the same way (it must run without trtplug).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trtplug.errors import SpecError

#: Tables a family shares and a member may override as a whole.
SHARED_TABLES = frozenset(
    {
        "type_constraints",
        "attributes",
        "inputs",
        "outputs",
        "tolerances",
        "reference",
        "extra",
        "parity",
        "size_tensors",
    }
)
#: Tables only a member has.
MEMBER_TABLES = frozenset({"plugin", "replaces"})
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


def is_family(data: dict[str, Any]) -> bool:
    return "members" in data


def family_members(path: Path, data: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(op key, the member's spec tables, error-path prefix naming the member) per member, in
    file order; a malformed family raises SpecError naming the file and member."""
    for name in data:
        if name not in SHARED_TABLES | {"members"}:
            raise SpecError(path, name, f"not allowed at the top of a family spec (members carry {name!r})")
    members = data["members"]
    if not isinstance(members, list) or not members:
        raise SpecError(path, "members", "expected a non-empty array of [[members]] tables")
    shared = {name: table for name, table in data.items() if name != "members"}
    result: list[tuple[str, dict[str, Any], str]] = []
    for i, member in enumerate(members):
        if not isinstance(member, dict):
            raise SpecError(path, f"members[{i}]", "expected a table")
        key = member.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise SpecError(path, f"members[{i}].key", f"expected an op key such as 'bitwise_and', got {key!r}")
        where = f"members[{i}] ({key})."
        for name in member:
            if name not in SHARED_TABLES | MEMBER_TABLES | {"key"}:
                allowed = ", ".join(sorted(SHARED_TABLES | MEMBER_TABLES | {"key"}))
                raise SpecError(path, f"{where}{name}", f"unknown field (allowed: {allowed})")
        if key == path.parent.name:  # the folder name keys the family's shared files (pyplugins/<folder>.py)
            raise SpecError(path, f"{where}key", f"a member cannot be named like its family's folder {key!r}")
        if any(key == other for other, _, _ in result):
            raise SpecError(path, f"{where}key", f"duplicate member key {key!r}")
        tables = {**shared, **{name: table for name, table in member.items() if name != "key"}}
        result.append((key, tables, where))
    return result
