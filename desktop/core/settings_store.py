"""The settings of this process: changed in memory at once, written to disk later by one writer.

Typing into Settings changes a field per keystroke. Each change is applied to the in-memory value at
once and listeners hear which fields changed; the file is written by a single background thread at
most every ``delay`` seconds (atomically, through :func:`desktop.core.settings.save`), never on the
caller's thread. :meth:`SettingsStore.flush` writes what is pending before the app exits.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop.core import settings as settings_mod
from desktop.core.settings import Settings

log = logging.getLogger(__name__)

Listener = Callable[[Settings, frozenset[str]], None]


def changed_fields(old: Settings, new: Settings) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(Settings)
                     if getattr(old, f.name) != getattr(new, f.name))


class SettingsStore:
    def __init__(self, path: Path, value: Settings, *, delay: float = 0.5) -> None:
        self.path = path
        self.delay = delay
        self._value = value
        self._listeners: list[Listener] = []
        self._lock = threading.Condition()
        self._pending: Settings | None = None
        self._closed = False
        self.writes = 0  # how many times the file was written (benchmarks report it)
        self._writer = threading.Thread(target=self._write_loop, name="settings-writer", daemon=True)
        self._writer.start()

    @property
    def value(self) -> Settings:
        return self._value

    def subscribe(self, listener: Listener) -> None:
        """``listener(settings, changed_field_names)`` after every change (on the caller's thread)."""
        self._listeners.append(listener)

    def save_soon(self) -> None:
        """Write the current value with the next write, changed or not (e.g. after a recovery)."""
        with self._lock:
            self._pending = self._value
            self._lock.notify_all()

    def update(self, new: Settings) -> frozenset[str]:
        """Apply ``new`` now and schedule the write; returns the names of the fields that changed."""
        changed = changed_fields(self._value, new)
        if not changed:
            return changed
        self._value = new
        with self._lock:
            self._pending = new
            self._lock.notify_all()
        for listener in list(self._listeners):
            listener(new, changed)
        return changed

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    self._lock.wait()
                if self._pending is None and self._closed:
                    return
                # Gather the keystrokes of the next ``delay`` seconds into one write (every update
                # notifies the condition, so wait for the deadline, not for the next notification).
                deadline = time.monotonic() + self.delay
                while not self._closed and (remaining := deadline - time.monotonic()) > 0:
                    self._lock.wait(remaining)
                pending, self._pending = self._pending, None
                if pending is not None:
                    self._write(pending)

    def _write(self, value: Settings) -> None:
        try:
            settings_mod.save(value, self.path)
            self.writes += 1
        except OSError as exc:
            log.error("could not save settings: %s", exc)

    def flush(self) -> None:
        """Write what is pending now (blocking: call off the UI thread, or at exit)."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is not None:
                self._write(pending)

    def close(self) -> None:
        """Write what is pending and stop the writer."""
        self.flush()
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._writer.join(timeout=5)
