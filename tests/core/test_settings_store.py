"""The settings store: edits apply at once, listeners hear what changed, the file is written by one
writer a little later (many quick edits, one write), and what is pending reaches the disk on close."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from desktop.core import settings as settings_mod
from desktop.core.settings import Settings
from desktop.core.settings_store import SettingsStore


def test_many_quick_edits_are_one_write_and_listeners_hear_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    store = SettingsStore(path, Settings(), delay=0.3)
    heard: list[frozenset[str]] = []
    store.subscribe(lambda _s, changed: heard.append(changed))
    caller = threading.get_ident()
    writer_threads: set[int] = set()
    original = settings_mod.save

    def save_spy(value: Settings, target: Path | None = None) -> None:
        writer_threads.add(threading.get_ident())
        original(value, target)

    settings_mod.save = save_spy  # type: ignore[assignment]
    try:
        for n in range(1, 31):
            store.update(store.value.replace(system_prompt="x" * n))
        assert store.value.system_prompt == "x" * 30  # applied at once, in memory
        assert store.update(store.value) == frozenset()  # no change, nothing to hear or write
        deadline = time.monotonic() + 5
        while store.writes == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.4)
        assert 1 <= store.writes <= 2
        assert json.loads(path.read_text(encoding="utf-8"))["system_prompt"] == "x" * 30
        assert writer_threads and caller not in writer_threads  # never written on the caller's thread
        assert heard == [frozenset({"system_prompt"})] * 30

        store.update(store.value.replace(notes_folders=["/data/notes"]))
        store.close()  # a pending edit is written before the store stops
        assert settings_mod.load(path).notes_folders == ["/data/notes"]
        assert heard[-1] == frozenset({"notes_folders"})
    finally:
        settings_mod.save = original  # type: ignore[assignment]
