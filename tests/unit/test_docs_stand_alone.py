"""A user's clone holds the whole story: no document or message points at the design notes that
live outside the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTSIDE_NOTES = ("DESIGN.md", "CONVENTIONS.md")


def test_no_tracked_file_sends_readers_to_design_notes_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    this_file = Path(__file__).resolve().relative_to(REPO).as_posix()
    offenders = [
        f"{name}: {note}"
        for name in tracked
        if name != this_file and (REPO / name).is_file()
        for note in OUTSIDE_NOTES
        if note in (REPO / name).read_text(encoding="utf-8", errors="replace")
    ]
    assert offenders == []
