"""`trtplug new --rule NAME --op KEY`: a pattern rule (graph_rewrites/NAME.py: pattern, check
and replacement skeleton) and its test (tests/test_rule_NAME.py), for the op KEY's plugin, in
the repository or a plugin project. The placeholder pattern matches nothing, so the test fails
until the pattern and the test's model are written."""

from __future__ import annotations

import re

from trtplug.errors import TrtplugError
from trtplug.onnx_common import qualified_op

from .render import render
from .target import Target
from .write import Planned

RULE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def plan_rule_files(target: Target, name: str, key: str) -> list[Planned]:
    from trtplug.graph_rewrites.rule_discovery import builtin_rules
    from trtplug.registry import load_registry

    if not target.exists:
        raise TrtplugError(f"--project {target.root}: no plugin project there (create it with its op first)")
    if not RULE_NAME.fullmatch(name) or name.endswith("_forms"):
        raise TrtplugError(f"--rule {name}: a rule name is snake_case (a-z, 0-9, _), not ending in _forms")
    if any(r.name == name for r in builtin_rules()):
        raise TrtplugError(f"--rule {name}: a built-in rule has this name")
    registry = load_registry([] if target.is_repository else [target.root / "plugins"])
    try:
        spec = registry.get(key)
    except TrtplugError as exc:
        raise TrtplugError(f"--op {key}: {exc}") from None
    replaced = spec.replaces[0]
    context = {
        "name": name,
        "key": key,
        "plugin": spec.plugin.name,
        "op_type": replaced.op_type,
        "domain": replaced.domain,
        "op_label": qualified_op(replaced.domain, replaced.op_type),
        "project": not target.is_repository,
        "opset": max(17, replaced.since_version),  # a model the op's plugin covers
    }
    return [
        Planned(target.root / "graph_rewrites" / f"{name}.py", render("rule/rule.py.j2", context)),
        Planned(target.root / "tests" / f"test_rule_{name}.py", render("rule/test_rule.py.j2", context)),
    ]
