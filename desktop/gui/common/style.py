"""The app's look: Fusion style, the system's light or dark scheme, a small style sheet."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    name = "dark.qss" if dark else "light.qss"
    sheet = resources.files("desktop.resources") / name
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
