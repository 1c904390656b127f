"""The backup file: a zip with a manifest, written atomically, read back with every check.

Layout::

    manifest.json        format, format version, app version, created, kind, counts, contents
    history.sqlite3      conversations (a snapshot, schema version in the manifest)
    settings.json        settings without secrets
    prices.json          optional: the price table the user keeps
    model_limits.json    optional: context limits learnt from the service
    notes.sqlite3        optional: the notes index (vectors; it can be rebuilt)

:func:`write_archive` writes to a temporary file in the target folder, fsyncs it and renames it
into place, so a crash (even SIGKILL) mid-write leaves every older backup as it was and at most a
``.partial`` file that the next backup removes. :func:`inspect` reads the manifest and refuses what
is not ours, is damaged, cut short or newer than this app; :func:`extract` also checks every part
against the manifest's checksums before anything is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop import __version__
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.jsonfile import _fsync_directory

FORMAT = "qwen-desktop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HISTORY = "history.sqlite3"
SETTINGS = "settings.json"
PRICES = "prices.json"
LIMITS = "model_limits.json"
NOTES = "notes.sqlite3"
PARTS = (HISTORY, SETTINGS, PRICES, LIMITS, NOTES)  # every name a backup may hold besides the manifest
PARTIAL_SUFFIX = ".partial"
_CHUNK = 1 << 20


class Kind(StrEnum):
    DAILY = "daily"  # the automatic one of the day
    MANUAL = "manual"  # "Back up now", ``backup create``
    UPGRADE = "before-upgrade"  # the first start of another app version
    MIGRATION = "before-migration"  # the history's schema is about to change
    RESTORE = "before-restore"  # the state a restore replaced: the way back
    EXPORT = "export"  # "Export everything…", to move to a new PC


class Refusal(StrEnum):
    NOT_OURS = "not_ours"
    DAMAGED = "damaged"
    TRUNCATED = "truncated"
    NEWER = "newer"
    UNREADABLE = "unreadable"


# What the user is told (the window translates these, the command line prints them as they are).
REFUSALS: dict[Refusal, str] = {
    Refusal.NOT_OURS: QT_TRANSLATE_NOOP(
        "Backups", "This file is not a Qwen Desktop backup. Nothing was changed."),
    Refusal.DAMAGED: QT_TRANSLATE_NOOP(
        "Backups", "This backup is damaged and cannot be restored. Nothing was changed."),
    Refusal.TRUNCATED: QT_TRANSLATE_NOOP(
        "Backups", "This backup is incomplete (the file was cut short, perhaps while it was being "
        "copied or downloaded). Nothing was changed."),
    Refusal.NEWER: QT_TRANSLATE_NOOP(
        "Backups", "This backup was made by a newer version of Qwen Desktop. Update the app, then "
        "restore it. Nothing was changed."),
    Refusal.UNREADABLE: QT_TRANSLATE_NOOP(
        "Backups", "This file cannot be read. Nothing was changed."),
}


class BackupRefused(QwenError):
    """A file that cannot be restored; ``message`` says why in a sentence (translate it with
    context "Backups"), ``detail`` is for the log."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        self.reason = reason
        super().__init__(ErrorKind.BACKUP_REFUSED, f"{reason.value}: {detail}" if detail else reason.value)

    @property
    def message(self) -> str:
        return REFUSALS[self.reason]


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    created: float
    kind: Kind
    conversations: int
    messages: int
    history_schema: int
    app_version: str = __version__
    format_version: int = FORMAT_VERSION
    parts: tuple[Part, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parts)

    @property
    def with_index(self) -> bool:
        return NOTES in self.names

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT, "format_version": self.format_version, "app_version": self.app_version,
            "created": self.created,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
            "kind": self.kind.value, "history_schema": self.history_schema,
            "counts": {"conversations": self.conversations, "messages": self.messages},
            "contents": [{"name": p.name, "size": p.size, "sha256": p.sha256} for p in self.parts],
        }


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """A backup file and what its manifest says."""

    path: Path
    size: int
    manifest: Manifest
    extra: dict[str, object] = field(default_factory=dict)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.2.10rc1"`` -> ``(1, 2, 10)``: the numeric release parts, enough to tell newer from older."""
    numbers: list[int] = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        numbers.append(int(match.group(0)))
        if match.end() != len(piece):
            break
    return tuple(numbers)


def is_newer_version(version: str, than: str = __version__) -> bool:
    return version_tuple(version) > version_tuple(than)


def digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def write_archive(target: Path, manifest: Manifest, files: Sequence[tuple[str, Path]]) -> int:
    """Write the backup to ``target`` atomically: its size. ``files`` are (name in the archive,
    file on disk); the manifest's parts must describe them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=PARTIAL_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False, indent=2))
                for name, path in files:
                    zf.write(path, name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target.stat().st_size


def _open(path: Path) -> zipfile.ZipFile:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise BackupRefused(Refusal.UNREADABLE, str(exc)) from exc
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        # A zip that starts as one but has no directory at its end was cut short.
        reason = Refusal.TRUNCATED if head == b"PK\x03\x04" else Refusal.NOT_OURS
        raise BackupRefused(reason, str(exc)) from exc
    except OSError as exc:
        raise BackupRefused(Refusal.UNREADABLE, str(exc)) from exc


def _manifest(zf: zipfile.ZipFile) -> Manifest:
    try:
        raw = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except KeyError as exc:
        raise BackupRefused(Refusal.NOT_OURS, "no manifest") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise BackupRefused(Refusal.DAMAGED, f"manifest: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupRefused(Refusal.NOT_OURS, "not our manifest")
    try:
        format_version = int(raw["format_version"])
        app_version = str(raw["app_version"])
        if format_version > FORMAT_VERSION or is_newer_version(app_version):
            raise BackupRefused(Refusal.NEWER, f"format {format_version}, app {app_version}")
        counts = raw["counts"]
        parts = tuple(Part(str(p["name"]), int(p["size"]), str(p["sha256"])) for p in raw["contents"])
        manifest = Manifest(
            created=float(raw["created"]), kind=Kind(raw["kind"]),
            conversations=int(counts["conversations"]), messages=int(counts["messages"]),
            history_schema=int(raw["history_schema"]), app_version=app_version,
            format_version=format_version, parts=parts)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupRefused(Refusal.DAMAGED, f"manifest: {exc!r}") from exc
    unknown = manifest.names - set(PARTS)
    if unknown or HISTORY not in manifest.names or SETTINGS not in manifest.names:
        raise BackupRefused(Refusal.DAMAGED, f"contents {sorted(manifest.names)}")
    return manifest


def inspect(path: Path) -> BackupInfo:
    """What the backup at ``path`` holds (from its manifest; the parts are checked by
    :func:`extract`). Raises :class:`BackupRefused`."""
    with _open(path) as zf:
        manifest = _manifest(zf)
        present = set(zf.namelist())
        missing = manifest.names - present
        if missing:
            raise BackupRefused(Refusal.DAMAGED, f"missing {sorted(missing)}")
    return BackupInfo(path, path.stat().st_size, manifest)


def extract(path: Path, into: Path) -> BackupInfo:
    """Every part of the backup into the folder ``into``, each checked against the manifest (size
    and SHA-256). Raises :class:`BackupRefused`; what was extracted before is the caller's to remove."""
    info = inspect(path)
    with _open(path) as zf:
        for part in info.manifest.parts:
            out = into / part.name
            h = hashlib.sha256()
            size = 0
            try:
                with zf.open(part.name) as src, open(out, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        if size > part.size:
                            raise BackupRefused(Refusal.DAMAGED, f"{part.name} is longer than listed")
                        h.update(chunk)
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error) as exc:
                raise BackupRefused(Refusal.DAMAGED, f"{part.name}: {exc}") from exc
            except EOFError as exc:
                raise BackupRefused(Refusal.TRUNCATED, f"{part.name}: {exc}") from exc
            if size != part.size or h.hexdigest() != part.sha256:
                raise BackupRefused(Refusal.DAMAGED, f"{part.name} does not match its checksum")
    return info
