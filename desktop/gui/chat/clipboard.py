"""Copying messages: Markdown as plain text, or rich text that Word and WPS paste with its form."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from desktop.core import markdown


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def copy_for_word(markdown_text: str) -> QMimeData:
    """Put the Markdown on the clipboard twice: as HTML (headings, lists, tables and code keep their
    form in Word and WPS; Qt offers it as "HTML Format" on Windows) and as the Markdown text for
    plain-text editors."""
    mime = QMimeData()
    mime.setHtml(markdown.document_html(markdown_text))
    mime.setText(markdown_text)
    QGuiApplication.clipboard().setMimeData(mime)
    return mime
