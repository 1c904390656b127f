"""Damaged data files: set aside (never deleted), replaced by a working one, and said so.

A file the app cannot read — a settings file that is not JSON, a database with a garbage header —
must not stop the app, and must not be thrown away: it may hold what the user can still get back.
:func:`set_aside` moves it next to itself under a dated name; :class:`Recovery` tells the faces what
happened in a sentence they can show.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

# SQLite keeps these beside a database; they belong to it and move with it.
SIDE_FILES = ("-wal", "-shm", "-journal")


class DataFile(StrEnum):
    SETTINGS = "settings"
    HISTORY = "history"
    NOTES = "notes"


@dataclass(frozen=True, slots=True)
class Recovery:
    """What was damaged, where the damaged file now is, and what the app started with instead."""

    file: DataFile
    kept_at: Path | None  # the damaged file, moved aside (None: it could not be moved)
    restored_from: Path | None = None  # the last good copy used, if there was one
    reason: str = ""  # what was wrong, for the log and the details


def set_aside(path: Path) -> Path | None:
    """Move ``path`` (and SQLite's side files) to ``NAME.broken-YYYYmmdd-HHMMSS``; None if it
    could not be moved. Never deletes anything."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    try:
        path.replace(target)
    except OSError as exc:
        log.error("could not move the damaged %s aside: %s", path, exc)
        return None
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            try:
                side.replace(target.with_name(target.name + suffix))
            except OSError as exc:
                log.warning("could not move %s aside: %s", side, exc)
    log.warning("moved the damaged %s to %s", path, target)
    return target


def is_corruption(exc: BaseException) -> bool:
    """Whether an SQLite error says the file is damaged (not a database, or a malformed page), as
    opposed to a database that is locked, read-only or cannot be opened — which are not damage."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return type(exc) is sqlite3.DatabaseError  # corruption is raised as the base class itself
