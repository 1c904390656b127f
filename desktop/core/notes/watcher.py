"""Watching the notes folders, so changes are indexed shortly after they happen.

Qt-free: watchdog's observer thread collects changed paths and, once things have been quiet for
``debounce`` seconds (or at the latest after ``max_delay``), calls ``on_change`` with the set of
paths — on a worker thread. The window hands that to its event loop with
``loop.call_soon_threadsafe`` and starts an incremental index run; the command line does not watch.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from desktop.core.notes.reader import SUPPORTED_SUFFIXES
from desktop.core.notes.scanner import EXCLUDED_DIR_NAMES

log = logging.getLogger(__name__)

ChangeCallback = Callable[[set[str]], None]


def is_relevant(path: str, root: str, is_directory: bool) -> bool:
    """Would a change at ``path`` (inside ``root``) matter to the index?"""
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):
        return False
    parts = rel.split(os.sep)
    for part in parts[:-1] if not is_directory else parts:
        if part.startswith(".") or part.lower() in EXCLUDED_DIR_NAMES:
            return False
    if is_directory:
        return True  # a folder moved or deleted takes its notes with it
    name = parts[-1]
    if name.startswith((".", "~")) or name.endswith(("~", ".tmp", ".swp")):
        return False
    return os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, sink: Callable[[str], None]) -> None:
        self.root = root
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = os.fsdecode(raw)
            if is_relevant(path, self.root, event.is_directory):
                self.sink(path)


class NotesWatcher:
    """Debounced change notifications for a set of folders."""

    def __init__(self, on_change: ChangeCallback, *, debounce: float = 2.0, max_delay: float = 30.0) -> None:
        self._on_change = on_change
        self._debounce = debounce
        self._max_delay = max_delay
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._first_event: float | None = None
        self._timer: threading.Timer | None = None
        self._observer: BaseObserver | None = None
        self._folders: tuple[str, ...] = ()

    @property
    def folders(self) -> tuple[str, ...]:
        return self._folders

    def watch(self, folders: Sequence[str]) -> None:
        """Watch exactly ``folders`` (restarts the observer; missing folders are left out)."""
        self.stop()
        self._folders = tuple(f for f in folders if os.path.isdir(f))
        if not self._folders:
            return
        observer = Observer()
        observer.daemon = True
        for folder in self._folders:
            try:
                observer.schedule(_Handler(folder, self._add), folder, recursive=True)
            except OSError as exc:  # e.g. inotify watch limit reached
                log.warning("cannot watch %s: %s", folder, exc)
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending.clear()
            self._first_event = None

    def _add(self, path: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._pending.add(path)
            if self._first_event is None:
                self._first_event = now
            if self._timer is not None:
                self._timer.cancel()
            delay = min(self._debounce, max(0.0, self._first_event + self._max_delay - now))
            self._timer = threading.Timer(delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            paths, self._pending = self._pending, set()
            self._first_event = None
            self._timer = None
        if paths:
            try:
                self._on_change(paths)
            except Exception:  # a failing callback must not kill the watcher
                log.exception("notes watcher callback failed")
