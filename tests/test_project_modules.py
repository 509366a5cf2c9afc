"""A plugin project's own Python files load from their paths under names that cannot collide."""

from __future__ import annotations

import pytest

from trtplug.project_modules import import_builtin, load_project_module


def _write(folder, text):
    path = folder / "pyplugins" / "same_key.py"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_same_file_name_in_two_projects_gives_two_modules(tmp_path):
    first = load_project_module(_write(tmp_path / "a", "VALUE = 1\n"), "pyplugins")
    second = load_project_module(_write(tmp_path / "b", "VALUE = 2\n"), "pyplugins")
    assert (first.VALUE, second.VALUE) == (1, 2)
    assert first.__name__ != second.__name__
    assert load_project_module(tmp_path / "a" / "pyplugins" / "same_key.py", "pyplugins") is first


def test_a_failing_project_file_is_not_left_half_imported(tmp_path):
    path = _write(tmp_path, "raise ValueError('broken prototype')\n")
    for _ in range(2):  # the second load runs the file again instead of returning a stale module
        with pytest.raises(ValueError, match="broken prototype"):
            load_project_module(path, "pyplugins")


def test_builtin_packages_import_as_ordinary_modules():
    assert import_builtin("graph_rewrites.pipeline").__name__ == "trtplug.graph_rewrites.pipeline"
    assert import_builtin("pyplugins.gelu_family").__name__ == "trtplug.pyplugins.gelu_family"
    with pytest.raises(ModuleNotFoundError):  # a missing op module is not reported as no install
        import_builtin("pyplugins.no_such_op")
