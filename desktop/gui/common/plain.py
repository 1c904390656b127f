"""Showing text that came from outside (the model, the service, a file name) as text, never as markup.

Qt guesses whether a label's or tooltip's text is rich text; a guessed ``<img src=...>`` makes it read
a local file. Labels that show such text are set to plain text; tooltips, which have no such switch,
get the text escaped inside markup of our own.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally, line breaks kept."""
    if not text:
        return ""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"


def plain_label(parent: QWidget, name: str, *, visible: bool = True) -> QLabel:
    """A wrapping label that shows its text literally (for text from the core or from outside)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setVisible(visible)
    return label


def search_field(parent: QWidget, name: str, placeholder: str) -> QLineEdit:
    """A one-line search box with a clear button."""
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    return edit
