"""Folder watching: changes to notes are reported once, debounced; noise is ignored."""

from __future__ import annotations

import os
import queue
from pathlib import Path

from desktop.core.notes.watcher import NotesWatcher, is_relevant
from tests.notes.conftest import write


def test_relevance_rules(tmp_path: Path) -> None:
    root = str(tmp_path)
    assert is_relevant(os.path.join(root, "a.md"), root, False)
    assert is_relevant(os.path.join(root, "sub", "b.txt"), root, False)
    assert is_relevant(os.path.join(root, "sub"), root, True)
    assert not is_relevant(os.path.join(root, ".git", "index.txt"), root, False)
    assert not is_relevant(os.path.join(root, "node_modules", "x.md"), root, False)
    assert not is_relevant(os.path.join(root, "photo.png"), root, False)
    assert not is_relevant(os.path.join(root, "~$report.docx"), root, False)


def test_changes_are_reported_debounced(tmp_path: Path) -> None:
    batches: queue.Queue[set[str]] = queue.Queue()
    watcher = NotesWatcher(batches.put, debounce=0.2)
    watcher.watch([str(tmp_path)])
    try:
        write(tmp_path / ".git" / "noise.txt", "ignored")
        write(tmp_path / "photo.png", "ignored")
        for i in range(5):  # a burst of saves
            write(tmp_path / "note.md", f"version {i}")
        write(tmp_path / "sub" / "other.txt", "x")
        seen: set[str] = set()
        while not {str(tmp_path / "note.md"), str(tmp_path / "sub" / "other.txt")} <= seen:
            seen |= batches.get(timeout=10)
        assert not any(".git" in p or p.endswith(".png") for p in seen)
    finally:
        watcher.stop()
