"""Shown when something unexpected happens: the app keeps running and the details can be copied."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.core import paths

_open: list[QMessageBox] = []


def show_crash_dialog(details: str) -> QMessageBox | None:
    if QApplication.instance() is None:
        return None
    box = QMessageBox(QMessageBox.Icon.Critical,
                      QApplication.translate("CrashDialog", "Something went wrong"),
                      QApplication.translate(
                          "CrashDialog",
                          "Qwen Desktop hit an unexpected problem. Your conversations are saved. "
                          "If it happens again, send the details to support.\n\nLog folder: %1")
                      .replace("%1", str(paths.log_dir())))
    box.setDetailedText(details)
    copy = box.addButton(QApplication.translate("CrashDialog", "Copy details"),
                         QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    copy.clicked.disconnect()
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
    box.finished.connect(lambda _r: _open.remove(box) if box in _open else None)
    _open.append(box)
    box.open()
    return box
