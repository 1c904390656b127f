"""The backup workflows, written once for the window and the command line.

:class:`BackupService` creates backups (by hand, once a day, before an upgrade or a schema
migration, before a restore), lists and rotates them in the backup folder (``backups/`` in the data
folder unless the user chose another, e.g. a synced one), and restores one: everything is checked
first (the format, every checksum, the database itself), then the current state is backed up, then
each part replaces the current one atomically — the history through SQLite's backup API into the
live database (one transaction: the open window's connection sees the old history or the new one),
the settings through the settings store (so the window hears what changed), the small JSON files by
rename, the notes index after the notes service has closed it.

The blocking methods run off the UI thread (the window calls them in an executor); one backup at
a time runs in a process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from desktop import __version__
from desktop.core import settings as settings_mod
from desktop.core.backup.archive import (
    HISTORY,
    LIMITS,
    NOTES,
    PARTIAL_SUFFIX,
    PRICES,
    SETTINGS,
    BackupInfo,
    BackupRefused,
    Kind,
    Manifest,
    Refusal,
    extract,
    inspect,
    write_archive,
)
from desktop.core.backup.prefs import BackupPrefs, load_prefs, save_prefs
from desktop.core.backup.rotation import Entry, Policy, to_remove
from desktop.core.backup.snapshot import gather
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import SCHEMA_VERSION, HistoryStore
from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.jsonfile import read_json
from desktop.core.settings import Settings

log = logging.getLogger(__name__)

NAME_PREFIX = "qwen-desktop-"
_NAME = re.compile(r"^qwen-desktop-(\d{8}-\d{6})(?:-\d+)?-([a-z-]+)\.zip$")
_STALE_S = 3600  # leftovers of a backup killed midway are removed once they are this old


class SettingsHolder(Protocol):
    @property
    def settings(self) -> Settings: ...

    @settings.setter
    def settings(self, value: Settings) -> None: ...


class IndexHolder(Protocol):
    async def replace_index(self, replace: Callable[[], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class RestorePlan:
    """What a backup holds and what restoring it replaces."""

    info: BackupInfo
    current_conversations: int
    current_messages: int
    replaces: tuple[str, ...]  # part names that will replace the current ones
    removes: tuple[str, ...] = ()  # current files the backup does not have (they are backed up)


@dataclass(frozen=True, slots=True)
class Restored:
    plan: RestorePlan
    safety: BackupInfo | None  # the backup of the state that was replaced
    settings: Settings | None = None
    index_restored: bool = False


class RestoreFailed(QwenError):
    """Replacing the current data failed after it had begun; ``safety`` holds the state before."""

    def __init__(self, safety: BackupInfo, detail: str) -> None:
        self.safety = safety
        super().__init__(ErrorKind.UNKNOWN, detail)

    @property
    def message(self) -> str:
        return RESTORE_FAILED


RESTORE_FAILED = QT_TRANSLATE_NOOP(
    "Backups", "The restore stopped midway. What was there before is kept in the backup of %1: "
    "restore that one to go back.")


@dataclass
class _Staged:
    info: BackupInfo
    folder: Path
    settings: Settings
    names: frozenset[str] = field(default_factory=frozenset)


def history_counts(path: Path) -> tuple[int, int]:
    """(conversations, messages) in the history database at ``path``; (0, 0) without one."""
    if not path.exists():
        return 0, 0
    db = sqlite3.connect(path, timeout=30)
    try:
        return (int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]),
                int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]))
    except sqlite3.DatabaseError:
        return 0, 0
    finally:
        db.close()


def schema_version(path: Path) -> int | None:
    """The history database's schema version, or None when there is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            return int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None


class BackupService:
    def __init__(self, data_dir: Path, secrets: Callable[[], Iterable[str | None]] = tuple,
                 policy: Policy | None = None) -> None:
        """``secrets``: the secrets known now (the key, the proxy password), kept out of backups."""
        self.data_dir = data_dir
        self.secrets = secrets
        self.policy = policy or Policy()
        self._lock = threading.Lock()
        self._prefs_lock = threading.Lock()

    # -- preferences ---------------------------------------------------------------------------

    def prefs(self) -> BackupPrefs:
        return load_prefs(self.data_dir)

    def save_prefs(self, prefs: BackupPrefs) -> None:
        save_prefs(self.data_dir, prefs)

    def update_prefs(self, **changes: object) -> BackupPrefs:
        """Change some preferences, keeping the others (one change at a time, from any thread)."""
        with self._prefs_lock:
            prefs = self.prefs().replace(**changes)
            self.save_prefs(prefs)
            return prefs

    def folder(self) -> Path:
        chosen = self.prefs().folder
        return Path(chosen).expanduser() if chosen else self.data_dir / "backups"

    # -- creating ------------------------------------------------------------------------------

    def _target(self, folder: Path, kind: Kind, created: float) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(created))
        target = folder / f"{NAME_PREFIX}{stamp}-{kind.value}.zip"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{NAME_PREFIX}{stamp}-{n}-{kind.value}.zip"
        return target

    def create(self, kind: Kind = Kind.MANUAL, target: Path | None = None, *,
               with_index: bool | None = None, app_version: str = __version__) -> BackupInfo:
        """Write a backup (to ``target``, else into the backup folder, then rotate it). Raises
        OSError when it cannot be written (nothing else is touched)."""
        with self._lock:
            folder = target.parent if target is not None else self.folder()
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # history is nobody else's business
            _remove_stale(folder, self.data_dir)
            if with_index is None:
                with_index = self.prefs().with_index
            work = Path(tempfile.mkdtemp(prefix=".backup-", dir=self.data_dir))
            try:
                parts = gather(self.data_dir, work, self.secrets(), with_index=with_index)
                created = time.time()
                manifest = Manifest(created, kind, parts.conversations, parts.messages,
                                    parts.history_schema, app_version=app_version, parts=parts.parts)
                path = target if target is not None else self._target(folder, kind, created)
                size = write_archive(path, manifest, parts.files)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            info = BackupInfo(path, size, manifest, {"index_left_out": parts.index_left_out})
            log.info("backup written: %s (%d bytes, %d conversations)", path.name, size, parts.conversations)
            if target is None:
                self.rotate()
            return info

    def backups(self) -> list[BackupInfo]:
        """The backups in the backup folder, newest first (files that are not readable backups are
        left out)."""
        folder = self.folder()
        found: list[BackupInfo] = []
        try:
            candidates = [p for p in folder.iterdir() if _NAME.match(p.name)]
        except OSError:
            return []
        for path in candidates:
            try:
                found.append(inspect(path))
            except BackupRefused as refused:
                log.warning("not listing %s: %s", path.name, refused)
        return sorted(found, key=lambda b: b.manifest.created, reverse=True)

    def rotate(self) -> list[Path]:
        """Remove the automatic backups the policy does not keep; the removed paths."""
        entries = [Entry(b.path, b.manifest.created, b.manifest.kind) for b in self.backups()]
        removed = []
        for path in to_remove(entries, self.policy):
            try:
                path.unlink()
                removed.append(path)
            except OSError as exc:
                log.warning("could not remove the old backup %s: %s", path, exc)
        return removed

    def daily_due(self, now: float | None = None) -> bool:
        today = time.localtime(now if now is not None else time.time())[:3]
        return not any(b.manifest.kind in (Kind.DAILY, Kind.MANUAL)
                       and time.localtime(b.manifest.created)[:3] == today for b in self.backups())

    def daily(self) -> BackupInfo | None:
        """Today's automatic backup, unless there is one (or one made by hand) already."""
        if not self.daily_due():
            return None
        return self.create(Kind.DAILY)

    def before_start(self) -> BackupInfo | None:
        """Before the history is opened: a backup when its schema is about to be migrated or when
        another version of the app ran last; then this version is recorded. Never raises: a
        backup that cannot be written must not keep the app from starting (it is logged)."""
        try:
            prefs = self.prefs()
            schema = schema_version(self.data_dir / HISTORY)
            kind: Kind | None = None
            if schema is not None and 0 < schema < SCHEMA_VERSION:
                kind = Kind.MIGRATION
            elif prefs.last_version and prefs.last_version != __version__ and schema is not None:
                kind = Kind.UPGRADE
            info = None
            if kind is not None:
                # The data as the earlier version left it: that version can restore it.
                info = self.create(kind, app_version=prefs.last_version or __version__)
            if prefs.last_version != __version__:
                self.update_prefs(last_version=__version__)
            return info
        except Exception:  # noqa: BLE001 - logged; the start goes on
            log.exception("the backup before start failed")
            return None

    # -- restoring -----------------------------------------------------------------------------

    def plan(self, path: Path) -> RestorePlan:
        """What restoring ``path`` would do (its manifest checked). Raises BackupRefused."""
        info = inspect(path)
        if info.manifest.history_schema > SCHEMA_VERSION:
            raise BackupRefused(Refusal.NEWER, f"history schema {info.manifest.history_schema}")
        conversations, messages = history_counts(self.data_dir / HISTORY)
        names = info.manifest.names
        removes = tuple(n for n in (PRICES, LIMITS) if n not in names and (self.data_dir / n).exists())
        return RestorePlan(info, conversations, messages, tuple(n for n in (HISTORY, SETTINGS, PRICES, LIMITS, NOTES)
                                                                 if n in names), removes)

    def _stage(self, path: Path, work: Path) -> _Staged:
        """Extract and check everything; the history brought to this version's schema."""
        info = extract(path, work)
        history = work / HISTORY
        try:
            store = HistoryStore(history)  # migrates an older history, refuses a newer one
            try:
                problem = store.check()
            finally:
                store.close()
        except QwenError as exc:
            if exc.kind is ErrorKind.NEWER_DATA:
                raise BackupRefused(Refusal.NEWER, str(exc)) from exc
            raise
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(Refusal.DAMAGED, f"history: {exc}") from exc
        if problem is not None:
            raise BackupRefused(Refusal.DAMAGED, f"history: {problem}")
        try:
            raw = read_json(work / SETTINGS)
        except (OSError, ValueError) as exc:
            raise BackupRefused(Refusal.DAMAGED, f"settings: {exc}") from exc
        if not isinstance(raw, dict):
            raise BackupRefused(Refusal.DAMAGED, "settings are not an object")
        settings = settings_mod.load(work / SETTINGS)
        for name in (PRICES, LIMITS):
            if name in info.manifest.names:
                try:
                    read_json(work / name)
                except (OSError, ValueError) as exc:
                    raise BackupRefused(Refusal.DAMAGED, f"{name}: {exc}") from exc
        return _Staged(info, work, settings, info.manifest.names)

    def _replace_files(self, staged: _Staged, plan: RestorePlan) -> None:
        """The history (one transaction into the live database) and the small JSON files."""
        source = sqlite3.connect(staged.folder / HISTORY)
        try:
            target = sqlite3.connect(self.data_dir / HISTORY, timeout=30)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        for name in (PRICES, LIMITS):
            if name in staged.names:
                os.replace(staged.folder / name, self.data_dir / name)
            elif name in plan.removes:
                (self.data_dir / name).unlink(missing_ok=True)

    async def restore(self, path: Path, *, holder: SettingsHolder,
                      flush: Callable[[], None] | None = None,
                      notes: IndexHolder | None = None) -> Restored:
        """Check ``path``, back up the current state, then replace it with the backup's.

        Raises BackupRefused (nothing changed) for a file that cannot be restored, OSError when the
        current state cannot be backed up (nothing changed either), RestoreFailed when replacing
        failed midway (the backup of the state before says where to go back to). ``holder`` gets the restored
        settings (the window hears of them through the settings store, written by ``flush``);
        ``notes`` closes and reopens the index around replacing it."""
        loop = asyncio.get_running_loop()
        plan = await loop.run_in_executor(None, self.plan, path)
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=self.data_dir))
        try:
            staged = await loop.run_in_executor(None, self._stage, path, work)
            safety = await loop.run_in_executor(None, lambda: self.create(Kind.RESTORE))
            index = NOTES in staged.names and notes is not None
            try:
                # The index first: a file another program holds open fails here, before anything
                # else changed. The history then goes in one transaction, the settings last.
                if index and notes is not None:
                    await notes.replace_index(lambda: _replace_database(work / NOTES, self.data_dir / NOTES))
                await loop.run_in_executor(None, self._replace_files, staged, plan)
            except (OSError, sqlite3.Error) as exc:
                raise RestoreFailed(safety, str(exc)) from exc
            holder.settings = staged.settings
            if flush is not None:
                await loop.run_in_executor(None, flush)
        finally:
            await loop.run_in_executor(None, lambda: shutil.rmtree(work, ignore_errors=True))
        log.info("restored %s (%d conversations)", path.name, plan.info.manifest.conversations)
        return Restored(plan, safety, staged.settings, index)


def _replace_database(source: Path, target: Path) -> None:
    """Put the closed database ``source`` in place of ``target`` (its side files go: they belong
    to the old one)."""
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(source, target)


def _remove_stale(folder: Path, data_dir: Path) -> None:
    """Leftovers of a backup or a restore killed midway: partial files, work folders."""
    now = time.time()
    leftovers = [p for p in _entries(folder) if p.name.endswith(PARTIAL_SUFFIX)]
    leftovers += [p for p in _entries(data_dir) if p.name.startswith((".backup-", ".restore-"))]
    for path in leftovers:
        try:
            if now - path.stat().st_mtime < _STALE_S:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []



class _SessionSecrets(Protocol):
    @property
    def key(self) -> object: ...

    @property
    def proxy_password(self) -> str | None: ...


def session_secrets(session: _SessionSecrets) -> Callable[[], list[str | None]]:
    """The secrets a session knows now (its key, the proxy password, a key in the environment)."""
    def known() -> list[str | None]:
        key = getattr(session.key, "value", None)
        return [key if isinstance(key, str) else None, session.proxy_password,
                os.environ.get("DASHSCOPE_API_KEY")]
    return known
