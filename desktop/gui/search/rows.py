"""Rows of the Search tab's lists: wrapped rich text, snippets with the query terms in bold."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem

from desktop.core.notes.keywords import Snippet
from desktop.gui.common.file_manager import open_file, show_in_folder

__all__ = ["open_file", "show_in_folder"]  # the Search tab imports them from here too


def snippet_html(snippet: Snippet) -> str:
    """The snippet as escaped HTML with the query terms in bold."""
    out: list[str] = []
    pos = 0
    for start, end in snippet.highlights:
        out.append(html.escape(snippet.text[pos:start]))
        out.append("<b>" + html.escape(snippet.text[start:end]) + "</b>")
        pos = end
    out.append(html.escape(snippet.text[pos:]))
    return "".join(out)


class _RowFitter(QObject):
    """Fits a list's rich rows again whenever its viewport changes width: when the list is first
    laid out or shown (rows added before that were measured at a width that was not final), and
    when the vertical scroll bar comes or goes (rows fitted to the wider viewport are clipped)."""

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self._view = view
        self._width = -1
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self._view.viewport().width() != self._width:
            self._width = self._view.viewport().width()
            fit_all(self._view)
        return False


def add_rich_item(view: QListWidget, item: QListWidgetItem, text: str) -> None:
    """A list row showing wrapped rich text (the list's own rows cannot wrap HTML). ``text`` is
    HTML we built, with everything from outside escaped."""
    if view.findChild(_RowFitter) is None:
        _RowFitter(view)
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setContentsMargins(6, 4, 6, 4)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    view.addItem(item)
    view.setItemWidget(item, label)
    fit_item(view, item)


def fit_item(view: QListWidget, item: QListWidgetItem) -> None:
    label = view.itemWidget(item)
    if label is not None:
        width = max(100, view.viewport().width())
        size = QSize(width, label.heightForWidth(width))
        if item.sizeHint() != size:
            item.setSizeHint(size)


def fit_all(view: QListWidget) -> None:
    for row in range(view.count()):
        fit_item(view, view.item(row))
