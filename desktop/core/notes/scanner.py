"""Walking a notes folder: which files to read, and which to skip and why.

Blocking (it stats every file): run it in an executor. Symbolic links are followed, with each real
directory visited once, so a link back to a parent is reported instead of looping forever.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.notes.reader import (
    SUPPORTED_SUFFIXES,
    UNSUPPORTED_DOCUMENT_SUFFIXES,
    SkipReason,
)

# Folders of programs, builds and caches: never notes, often huge (node_modules hangs other apps).
EXCLUDED_DIR_NAMES = frozenset(
    {
        "node_modules", "bower_components", "__pycache__", "site-packages", "venv",
        "build", "dist", "cache", "caches", "$recycle.bin", "system volume information",
    }
)
_WIN_HIDDEN = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2)


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: SkipReason
    detail: str = ""
    is_dir: bool = False
    size: int = 0
    mtime_ns: int = 0


@dataclass(slots=True)
class ScanResult:
    root: str
    files: list[FoundFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # files of types that are not notes (images, programs…), not listed
    missing: bool = False  # the folder itself is gone (unplugged drive, renamed)


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith("."):
        return True
    if sys.platform == "win32":  # (sys.platform, not os.name: mypy then knows the attribute exists)
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _WIN_HIDDEN)
        except OSError:
            return False
    return False


def _is_ignored_file(name: str) -> bool:
    # Office lock files (~$report.docx), editor backups and temp files.
    return name.startswith(("~$", ".~", "~")) or name.endswith(("~", ".tmp", ".swp"))


def scan_folder(
    root: str | Path,
    *,
    max_file_size: int,
    exclude: Collection[str] = (),
) -> ScanResult:
    """List the note files under ``root``; ``exclude`` holds other indexed folders nested inside."""
    root_str = os.path.abspath(str(root))
    result = ScanResult(root_str)
    excluded = {os.path.normcase(os.path.abspath(p)) for p in exclude}
    try:
        root_stat = os.stat(root_str)
    except OSError:
        result.missing = True
        return result
    if not stat.S_ISDIR(root_stat.st_mode):
        result.missing = True
        return result
    visited = {(root_stat.st_dev, root_stat.st_ino)}
    stack = [root_str]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            result.skipped.append(
                Skipped(directory, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__, True)
            )
            continue
        entries.sort(key=lambda e: e.name)
        subdirs: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows links
            except OSError:
                is_dir = False
            if is_dir:
                reason = _dir_skip_reason(entry)
                if reason is not None:
                    result.skipped.append(Skipped(entry.path, reason, is_dir=True))
                    continue
                if os.path.normcase(entry.path) in excluded:
                    continue  # indexed as a folder of its own
                try:
                    st = entry.stat()
                except OSError as exc:
                    result.skipped.append(
                        Skipped(entry.path, SkipReason.UNREADABLE, exc.strerror or "", True)
                    )
                    continue
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    result.skipped.append(Skipped(entry.path, SkipReason.SYMLINK_LOOP, is_dir=True))
                    continue
                visited.add(key)
                subdirs.append(entry.path)
                continue
            _consider_file(entry, result, max_file_size)
        stack.extend(reversed(subdirs))
    return result


def _dir_skip_reason(entry: os.DirEntry[str]) -> SkipReason | None:
    if _is_hidden(entry):
        return SkipReason.HIDDEN_FOLDER
    if entry.name.lower() in EXCLUDED_DIR_NAMES:
        return SkipReason.EXCLUDED_FOLDER
    return None


def _consider_file(entry: os.DirEntry[str], result: ScanResult, max_file_size: int) -> None:
    name = entry.name
    suffix = os.path.splitext(name)[1].lower()
    if name.startswith(".") or _is_ignored_file(name):
        result.ignored += 1
        return
    if suffix not in SUPPORTED_SUFFIXES:
        if suffix in UNSUPPORTED_DOCUMENT_SUFFIXES:
            result.skipped.append(Skipped(entry.path, SkipReason.UNSUPPORTED, suffix))
        else:
            result.ignored += 1
        return
    try:
        st = entry.stat()
    except OSError as exc:  # a broken link, or no permission
        result.skipped.append(
            Skipped(entry.path, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)
        )
        return
    if not stat.S_ISREG(st.st_mode):
        result.ignored += 1
        return
    if st.st_size > max_file_size:
        result.skipped.append(
            Skipped(entry.path, SkipReason.TOO_LARGE, _human_size(st.st_size),
                    size=st.st_size, mtime_ns=st.st_mtime_ns)
        )
        return
    result.files.append(FoundFile(entry.path, st.st_size, st.st_mtime_ns))


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
