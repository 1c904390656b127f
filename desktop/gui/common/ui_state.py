"""UI state (window geometry, splitters, the folders file dialogs start in): QSettings in the data
dir, kept apart from the user's settings (settings.json)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from desktop.core import paths

FILE_NAME = "window.ini"


def ui_state() -> QSettings:
    return QSettings(str(paths.data_dir() / FILE_NAME), QSettings.Format.IniFormat)
