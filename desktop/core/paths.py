"""Where the app keeps its data: settings, history, logs and the notes index.

Order: ``QWEN_DESKTOP_HOME`` if set; portable mode (a folder named ``data`` next to the frozen
executable); otherwise the platform's user data directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

ENV_HOME = "QWEN_DESKTOP_HOME"


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
        path = Path(platformdirs.user_data_dir("QwenDesktop", appauthor=False, roaming=True))
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return data_dir() / "settings.json"


def history_db() -> Path:
    return data_dir() / "history.sqlite3"


def notes_db() -> Path:
    return data_dir() / "notes.sqlite3"


def log_dir() -> Path:
    path = data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
