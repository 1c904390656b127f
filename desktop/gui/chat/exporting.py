"""Exporting a conversation from the Chat tab: where to save it (Markdown or a Word document), then
the file, with a message when it cannot be written. The texts keep the Chat tab's translation context."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.core.export import conversation_markdown, write_docx
from desktop.core.history import HistoryStore
from desktop.core.i18n import fill


def choose_export_file(parent: QWidget, history: HistoryStore, conversation_id: int, fmt: str) -> QFileDialog:
    """Ask where to save (non-blocking: no nested event loop under qasync), then export."""
    conversation = history.conversation(conversation_id)
    title = (conversation.title if conversation else "") or QCoreApplication.translate("ChatTab", "Conversation")
    name = "".join("-" if ch in '\\/:*?"<>|' else ch for ch in title).strip()[:60] or "conversation"
    filters = (QCoreApplication.translate("ChatTab", "Word document (*.docx)") if fmt == "docx"
               else QCoreApplication.translate("ChatTab", "Markdown (*.md)"))
    dialog = QFileDialog(parent, QCoreApplication.translate("ChatTab", "Export conversation"),
                         str(Path.home() / f"{name}.{fmt}"), filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(fmt)
    dialog.fileSelected.connect(
        lambda path: export_conversation(parent, history, conversation_id, Path(path), fmt))
    dialog.open()
    return dialog


def export_conversation(parent: QWidget, history: HistoryStore, conversation_id: int, path: Path,
                        fmt: str) -> None:
    conversation = history.conversation(conversation_id)
    if conversation is None:
        return
    messages = history.messages(conversation_id)
    try:
        def tr(text: str) -> str:
            return QCoreApplication.translate("Export", text)

        if fmt == "docx":
            write_docx(conversation, messages, path, tr)
        else:
            path.write_text(conversation_markdown(conversation, messages, tr), encoding="utf-8")
    except OSError as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, QCoreApplication.translate("ChatTab", "Export conversation"),
                          fill(QCoreApplication.translate("ChatTab", "Could not write %1: %2"), str(path),
                               exc.strerror or str(exc)),
                          QMessageBox.StandardButton.Ok, parent)
        box.open()
