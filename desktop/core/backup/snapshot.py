"""Gathering a backup's parts from the data folder: consistent, compact, without secrets.

The databases are copied with SQLite's online backup API in one step, which reads a consistent
state even while the window writes (a file copy of a live WAL database is not). The copies are
made standalone (no WAL) and vacuumed, so pages freed by deleted messages — which may still hold
their old text — are not carried along. Secrets the app knows of (the API key, the proxy password)
are replaced wherever they were written in the history, the proxy password is taken out of the
proxy address, and before anything is packed every byte of every part is searched for them: a part
that still holds one is left out (the notes index) or the backup is not written at all.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from desktop.core.backup.archive import HISTORY, LIMITS, NOTES, PRICES, SETTINGS, Part, digest
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore
from desktop.core.jsonfile import read_json
from desktop.core.proxy_password import split_password
from desktop.core.settings import Settings

log = logging.getLogger(__name__)

REMOVED = "[secret removed]"
_MIN_SECRET = 6  # shorter "secrets" would match ordinary text


class SecretFound(QwenError):
    """A part still holds a secret after scrubbing: the backup is not written."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorKind.UNKNOWN, detail)


@dataclass(frozen=True, slots=True)
class Gathered:
    files: list[tuple[str, Path]]
    parts: tuple[Part, ...]
    conversations: int
    messages: int
    history_schema: int
    index_left_out: bool = False  # asked for, but held a secret or could not be read


def copy_database(source: Path, target: Path) -> None:
    """A consistent standalone copy of the database ``source`` (which may be in use)."""
    src = sqlite3.connect(source, timeout=30)  # only read; waits for a writer's transaction
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one consistent read of the source
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _scrub_database(path: Path, secrets: Iterable[str]) -> None:
    """Replace every known secret in the text columns of the database's tables, then vacuum."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL%'")]
        db.execute("BEGIN")
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')
                       if str(r[2]).upper() in ("TEXT", "")]
            for column in columns:
                for secret in secrets:
                    db.execute(f'UPDATE "{table}" SET "{column}"=replace("{column}", ?, ?) '
                               f'WHERE instr("{column}", ?) > 0', (secret, REMOVED, secret))
        db.execute("COMMIT")
        db.execute("VACUUM")
    finally:
        db.close()


def _counts(path: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(path)
    try:
        conversations = int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])
        messages = int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        schema = int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()
    return conversations, messages, schema


def holds_secret(path: Path, secrets: Iterable[str]) -> bool:
    """Whether any secret is in the file's bytes (UTF-8 or UTF-16, as text may be stored)."""
    data = path.read_bytes()
    for secret in secrets:
        for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("utf-16-be")):
            if encoded in data:
                return True
    return False


def usable_secrets(secrets: Iterable[str | None]) -> list[str]:
    found = {s.strip() for s in secrets if s and len(s.strip()) >= _MIN_SECRET}
    return sorted(found, key=len, reverse=True)  # longest first: one inside another is replaced whole


def _settings_without_secrets(source: Path, target: Path, secrets: list[str]) -> None:
    """The settings file as it is (unknown keys kept), the proxy password out of the address; a
    missing or damaged file is backed up as the defaults (the app recovers it on its own)."""
    try:
        raw = read_json(source)
    except (OSError, ValueError):
        raw = None
    if not isinstance(raw, dict):
        raw = dataclasses.asdict(Settings())
    if isinstance(raw.get("proxy_url"), str):
        raw["proxy_url"] = split_password(raw["proxy_url"])[0]
    text = json.dumps(raw, ensure_ascii=False, indent=2) + "\n"
    for secret in secrets:
        text = text.replace(secret, REMOVED)
    target.write_text(text, encoding="utf-8")


def _json_copy(source: Path, target: Path, secrets: list[str]) -> bool:
    """Copy a small JSON file that is valid JSON (a damaged one is left out); whether it was."""
    try:
        text = source.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError) as exc:
        log.warning("backup: leaving out %s (%s)", source.name, exc)
        return False
    for secret in secrets:
        text = text.replace(secret, REMOVED)
    target.write_text(text, encoding="utf-8")
    return True


def _copy_index(source: Path, target: Path, secrets: list[str]) -> bool:
    """The notes index, vacuumed; False (and no file) when it cannot be read or holds a secret
    (it is the user's notes: they are not rewritten, the index is left out and can be rebuilt)."""
    try:
        copy_database(source, target)
        db = sqlite3.connect(target, isolation_level=None)
        try:
            db.execute("VACUUM")
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        log.warning("backup: leaving out the notes index (%s)", exc)
        target.unlink(missing_ok=True)
        return False
    if holds_secret(target, secrets):
        log.warning("backup: leaving out the notes index: it holds a secret")
        target.unlink(missing_ok=True)
        return False
    return True


def gather(data_dir: Path, work: Path, secrets: Iterable[str | None], *,
           with_index: bool = False) -> Gathered:
    """Every part of a backup of ``data_dir``, written into the empty folder ``work``."""
    known = usable_secrets(secrets)
    history = work / HISTORY
    source = data_dir / HISTORY
    if source.exists():
        copy_database(source, history)
    else:
        HistoryStore(history).close()  # no conversations yet: an empty history of this version
    _scrub_database(history, known)
    conversations, messages, schema = _counts(history)
    names = [HISTORY, SETTINGS]
    _settings_without_secrets(data_dir / SETTINGS, work / SETTINGS, known)
    for name in (PRICES, LIMITS):
        if (data_dir / name).exists() and _json_copy(data_dir / name, work / name, known):
            names.append(name)
    left_out = False
    if with_index and (data_dir / NOTES).exists():
        left_out = not _copy_index(data_dir / NOTES, work / NOTES, known)
        if not left_out:
            names.append(NOTES)
    for name in names:
        if holds_secret(work / name, known):  # scrubbed above: never expected, never written
            raise SecretFound(f"{name} still holds a secret after scrubbing")
    files = [(name, work / name) for name in names]
    parts = tuple(Part(name, *digest(path)) for name, path in files)
    return Gathered(files, parts, conversations, messages, schema, left_out)
