"""Opening files and showing them in the system's file manager, the same way everywhere in the app.

"Show in folder" selects the file where the platform can: Explorer's ``/select,`` on Windows,
Finder's ``open -R`` on macOS. Elsewhere (Linux desktops differ) the folder opens.
"""

from __future__ import annotations

import ntpath
import os
import sys

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices


def reveal_command(path: str, platform: str | None = None) -> tuple[str, list[str]] | None:
    """The program and arguments that show ``path`` selected in the file manager, or None where
    the platform has no such command.

    Explorer reads its command line itself rather than as separate arguments: ``/select,`` and
    the path go as two arguments, which QProcess writes as ``/select, "C:\\My Notes\\a b.txt"``
    (quoted when the path has spaces), the form Explorer understands. The path must use
    backslashes: Explorer opens the Documents folder instead for ``C:/...``.
    """
    platform = platform or sys.platform
    if platform == "win32":
        return "explorer.exe", ["/select,", ntpath.normpath(path)]
    if platform == "darwin":
        return "open", ["-R", path]
    return None


def show_in_folder(path: str, platform: str | None = None) -> bool:
    """Open the file's folder with the file selected where the platform allows it; False when
    the file manager could not be started or the system did not open the folder."""
    command = reveal_command(path, platform)
    if command is not None:
        started, _pid = QProcess.startDetached(*command)
        return bool(started)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(os.path.abspath(path))))


def open_file(path: str) -> bool:
    """Open a file with the system's default app; False when the system did not."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))
