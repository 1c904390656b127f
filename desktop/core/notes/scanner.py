"""Walking a notes folder: which files to read, and which to skip and why.

Blocking (it stats every file): run it in an executor. Symbolic links are followed as long as they
lead into one of the notes folders (a link out of them is listed as skipped: the user chose which
folders to search, and what they hold may be sent to the service), with each real directory visited
once, so a link back to a parent is reported instead of looping forever. A name that is not valid
UTF-8 (a GBK-named file unzipped on Linux) is listed as skipped under :func:`shown_path`, as
SQLite, JSON and the screen all need a real string.
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


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def shown_path(path: str) -> str:
    """``path`` as a valid string: the bytes of a name that is not UTF-8 written as ``\\xb1``."""
    if _is_utf8(path):
        return path
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeError:  # a lone surrogate from a Windows name
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _inside(path: str, roots: Collection[str]) -> bool:
    """Is the real path ``path`` one of ``roots`` (real paths too) or under one of them?"""
    for root in roots:
        try:
            if os.path.commonpath([path, root]) == root:
                return True
        except ValueError:  # another drive (Windows)
            continue
    return False


def scan_folder(
    root: str | Path,
    *,
    max_file_size: int,
    exclude: Collection[str] = (),
    allowed: Collection[str] = (),
    extra_suffixes: Collection[str] = (),
) -> ScanResult:
    """List the note files under ``root``; ``exclude`` holds other indexed folders nested inside.

    Links are followed only into ``allowed`` (all the notes folders; by default ``root`` alone)."""
    root_str = os.path.abspath(str(root))
    result = ScanResult(root_str)
    excluded = {os.path.normcase(os.path.abspath(p)) for p in exclude}
    inside = [_real(p) for p in (allowed or (root_str,))]
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
                skip = _dir_skip(entry, inside)
                if skip is not None:
                    result.skipped.append(Skipped(shown_path(entry.path), *skip, is_dir=True))
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
            _consider_file(entry, result, max_file_size, inside, extra_suffixes)
        stack.extend(reversed(subdirs))
    return result


def _dir_skip(entry: os.DirEntry[str], inside: Collection[str]) -> tuple[SkipReason, str] | None:
    """Why a folder is not entered (reason, detail), or None."""
    if _is_hidden(entry):
        return SkipReason.HIDDEN_FOLDER, ""
    if entry.name.lower() in EXCLUDED_DIR_NAMES:
        return SkipReason.EXCLUDED_FOLDER, ""
    if not _is_utf8(entry.name):
        return SkipReason.BAD_NAME, ""
    if (target := _outside(entry, inside)) is not None:
        return SkipReason.OUTSIDE_FOLDERS, target
    return None


def _outside(entry: os.DirEntry[str], inside: Collection[str]) -> str | None:
    """Where ``entry`` leads when it is a link out of the (real) folders ``inside``, else None."""
    if not entry.is_symlink():
        return None
    target = os.path.realpath(entry.path)
    return None if _inside(os.path.normcase(target), inside) else shown_path(target)


def _consider_file(
    entry: os.DirEntry[str], result: ScanResult, max_file_size: int, inside: Collection[str],
    extra_suffixes: Collection[str] = (),
) -> None:
    name = entry.name
    suffix = os.path.splitext(name)[1].lower()
    if name.startswith(".") or _is_ignored_file(name):
        result.ignored += 1
        return
    if suffix not in SUPPORTED_SUFFIXES and suffix not in extra_suffixes:  # (images, with OCR on)
        if suffix in UNSUPPORTED_DOCUMENT_SUFFIXES:
            result.skipped.append(Skipped(shown_path(entry.path), SkipReason.UNSUPPORTED, suffix))
        else:
            result.ignored += 1
        return
    if not _is_utf8(name):
        result.skipped.append(Skipped(shown_path(entry.path), SkipReason.BAD_NAME))
        return
    try:
        st = entry.stat()
    except OSError as exc:  # a broken link, or no permission
        result.skipped.append(
            Skipped(entry.path, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__)
        )
        return
    if (target := _outside(entry, inside)) is not None:
        result.skipped.append(Skipped(entry.path, SkipReason.OUTSIDE_FOLDERS, target))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO (opening it would block), socket or device
        result.skipped.append(Skipped(entry.path, SkipReason.NOT_A_FILE))
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
