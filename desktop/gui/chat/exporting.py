"""Exporting a conversation from the Chat tab: where to save it (Markdown or a Word document), then
the file, then where it went, with a Show in folder button (or a message when it cannot be written).
The file dialog starts in the folder of the last export (Documents the first time) with a clean
name: the title and the date. The texts keep the Chat tab's translation context."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.core.export import conversation_markdown, export_file_name, write_docx
from desktop.core.history import HistoryStore
from desktop.core.i18n import fill
from desktop.gui.common.file_manager import show_in_folder
from desktop.gui.common.ui_state import ui_state

EXPORT_DIR_KEY = "chat/export_dir"


def export_folder() -> Path:
    """The folder the export dialog starts in: the last one exported to, else Documents."""
    last = str(ui_state().value(EXPORT_DIR_KEY, "") or "")
    if last and Path(last).is_dir():
        return Path(last)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def show_folder(path: Path) -> bool:
    """Show the saved file in its folder, selected where the platform allows it (the tests put a
    recorder in its place)."""
    return show_in_folder(str(path))


def choose_export_file(parent: QWidget, history: HistoryStore, conversation_id: int, fmt: str) -> QFileDialog:
    """Ask where to save (non-blocking: no nested event loop under qasync), then export."""
    conversation = history.conversation(conversation_id)
    name = export_file_name(conversation.title if conversation else "", fmt)
    filters = (QCoreApplication.translate("ChatTab", "Word document (*.docx)") if fmt == "docx"
               else QCoreApplication.translate("ChatTab", "Markdown (*.md)"))
    dialog = QFileDialog(parent, QCoreApplication.translate("ChatTab", "Export conversation"),
                         str(export_folder() / name), filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(fmt)
    dialog.fileSelected.connect(lambda path: _chosen(parent, history, conversation_id, Path(path), fmt))
    dialog.open()
    return dialog


def _chosen(parent: QWidget, history: HistoryStore, conversation_id: int, path: Path, fmt: str) -> None:
    state = ui_state()
    state.setValue(EXPORT_DIR_KEY, str(path.parent))
    state.sync()
    export_conversation(parent, history, conversation_id, path, fmt)


def export_conversation(parent: QWidget, history: HistoryStore, conversation_id: int, path: Path,
                        fmt: str) -> QMessageBox | None:
    """Write the file; then a non-modal message says where it went (or why it could not be written)."""
    conversation = history.conversation(conversation_id)
    if conversation is None:
        return None
    messages = history.messages(conversation_id)
    title = QCoreApplication.translate("ChatTab", "Export conversation")
    try:
        def tr(text: str) -> str:
            translated = QCoreApplication.translate("Export", text)
            # a failed reply's reason is one of the error messages, in their own context
            return translated if translated != text else QCoreApplication.translate("Errors", text)

        if fmt == "docx":
            write_docx(conversation, messages, path, tr)
        else:
            path.write_text(conversation_markdown(conversation, messages, tr), encoding="utf-8")
    except OSError as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, title,
                          fill(QCoreApplication.translate("ChatTab", "Could not write %1: %2"), str(path),
                               exc.strerror or str(exc)),
                          QMessageBox.StandardButton.Ok, parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box
    box = QMessageBox(QMessageBox.Icon.Information, title,
                      fill(QCoreApplication.translate("ChatTab", "The conversation was saved to %1"), str(path)),
                      QMessageBox.StandardButton.Close, parent)
    box.setObjectName("exportSaved")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    folder = box.addButton(QCoreApplication.translate("ChatTab", "Show in folder"),
                           QMessageBox.ButtonRole.ActionRole)
    folder.setObjectName("showInFolder")
    folder.clicked.connect(lambda: show_folder(path))
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.show()
    return box
