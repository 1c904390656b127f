"""Where the app keeps its data: settings, history, logs and the notes index.

Order: ``QWEN_DESKTOP_HOME`` if set; portable mode (a folder named ``data`` next to the frozen
executable); otherwise the platform's user data directory.

The folders this module creates are the owner's only (0700 on POSIX), and so are the log files
opened with :func:`open_private`: history and logs are nobody else's business on a shared machine.
A folder the user made beforehand keeps the permissions they gave it.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import IO, Any

import platformdirs

ENV_HOME = "QWEN_DESKTOP_HOME"
# The data folder's name in the platform's user data dir (%APPDATA%\QwenDesktop on Windows, which
# the Windows uninstaller offers to delete: packaging/windows/QwenDesktop.iss).
APP_DIR_NAME = "QwenDesktop"
PLATFORMDIRS_ARGS: dict[str, Any] = {"appname": APP_DIR_NAME, "appauthor": False, "roaming": True}


def portable_data_dir() -> Path | None:
    if not getattr(sys, "frozen", False):
        return None
    candidate = Path(sys.executable).resolve().parent / "data"
    return candidate if candidate.is_dir() else None


def data_dir() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        path = Path(env).expanduser()
    elif (portable := portable_data_dir()) is not None:
        path = portable
    else:
        path = Path(platformdirs.user_data_dir(**PLATFORMDIRS_ARGS))
    _make_private_dir(path)
    return path


def _make_private_dir(path: Path) -> None:
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)  # parents as the system makes them
        path.mkdir(mode=0o700, exist_ok=True)  # the umask may only take bits away from 0700


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """Open a text file (UTF-8) that only its owner may read, making it so if it exists already."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if os.name == "posix" and stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)  # a log made by an older version, world-readable
        return open(fd, mode, encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def settings_file() -> Path:
    return data_dir() / "settings.json"


def history_db() -> Path:
    return data_dir() / "history.sqlite3"


def notes_db() -> Path:
    return data_dir() / "notes.sqlite3"


def log_dir() -> Path:
    path = data_dir() / "logs"
    _make_private_dir(path)
    return path
