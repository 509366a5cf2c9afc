"""Writing generated files without destroying work.

Nothing is written unless every file can be: an existing file that would change stops the
whole run (before anything is written) unless --force. Each file is written atomically (a
temporary file in the same folder, then a rename), so an interrupted run leaves no half file.
--dry-run prints what would happen and a unified diff for files that exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from trtplug.errors import TrtplugError
from trtplug.fileio import atomic_write_text


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str

    @property
    def current(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise TrtplugError(f"{self.path}: cannot read: {exc}") from None

    def status(self) -> str:
        current = self.current
        return "create" if current is None else ("unchanged" if current == self.text else "overwrite")


def check_conflicts(files: Iterable[Planned], force: bool) -> None:
    conflicts = [f.path for f in files if f.status() == "overwrite"]
    if conflicts and not force:
        raise TrtplugError(
            f"{conflicts[0]} exists"
            + (f" (and {len(conflicts) - 1} more generated file(s))" if len(conflicts) > 1 else "")
            + "; nothing written (use --force to overwrite, --dry-run to see the diff)"
        )


def dry_run(files: Iterable[Planned], root: Path) -> str:
    """What a real run would do, with a diff for every file it would change."""
    lines = []
    for f in files:
        rel = f.path.relative_to(root)
        status = f.status()
        lines.append(f"{status:9} {rel}")
        if status == "overwrite":
            diff = difflib.unified_diff(
                (f.current or "").splitlines(keepends=True),
                f.text.splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
            lines.extend(line.rstrip("\n") for line in diff)
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def write_all(files: list[Planned], force: bool) -> list[Planned]:
    """Writes the files that change; returns them. Checks every conflict before writing any."""
    check_conflicts(files, force)
    changed = [f for f in files if f.status() != "unchanged"]
    for f in changed:
        try:
            write_atomic(f.path, f.text)
        except OSError as exc:
            raise TrtplugError(f"{f.path}: cannot write: {exc}") from None
    return changed
