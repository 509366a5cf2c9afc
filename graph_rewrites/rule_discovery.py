"""Where rules come from: every `RULE` of this package's modules, and of the .py files in a
plugin project's graph_rewrites/ folder (beside its plugins/, found by the registry). A project
file that does not load or defines no Rule is refused with one line naming it."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from trtplug.errors import TrtplugError
from trtplug.project_modules import load_project_module

from .rule import Rule

HELPERS = "_forms.py"  # project files ending so share patterns and hold no rule (like gelu_forms.py)


@cache
def builtin_rules() -> tuple[Rule, ...]:
    rules = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        rule = getattr(importlib.import_module(f"{__package__}.{info.name}"), "RULE", None)
        if isinstance(rule, Rule):
            rules.append(rule)
    return tuple(rules)


def project_rule(path: Path) -> Rule:
    """The RULE of a project's rule file; a clear error naming the file otherwise."""
    try:
        module = load_project_module(path, "graph_rewrites")
    except SyntaxError as exc:
        raise TrtplugError(f"{path}: rule file has a syntax error (line {exc.lineno}): {exc.msg}") from None
    except Exception as exc:  # the rule file's own code: any failure is the file's
        raise TrtplugError(f"{path}: rule file failed to load: {type(exc).__name__}: {exc}") from None
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, Rule):
        raise TrtplugError(f"{path}: rule file defines no RULE = Rule(...) (found {type(rule).__name__})")
    if not rule.forms or not rule.anchors or not rule.name:
        raise TrtplugError(f"{path}: RULE needs a name, anchors and at least one form (pattern)")
    return rule


def discover_rules(project_dirs: Iterable[Path] = ()) -> tuple[Rule, ...]:
    """Built-in and project rules, by priority then name; two rules of one name are refused."""
    rules = list(builtin_rules())
    for folder in project_dirs:
        for path in sorted(Path(folder).glob("*.py")):
            if not path.name.startswith("_") and not path.name.endswith(HELPERS):
                rules.append(project_rule(path))
    names: dict[str, Rule] = {}
    for rule in rules:
        if names.setdefault(rule.name, rule) is not rule:
            raise TrtplugError(f"two rules are named {rule.name!r} (rule names must be unique)")
    return tuple(sorted(rules, key=lambda r: (r.priority, r.name)))


def rule_names(rules: Iterable[Rule]) -> set[str]:
    """Names --only/--exclude accept for rules: each rule and the ops it produces."""
    return {name for r in rules for name in (r.name, *r.produces)}
