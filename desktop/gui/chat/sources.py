"""The numbered sources under an answer: from notes (clicking one opens the file) and from the web
(clicking one opens the page in the browser, http and https only)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.core.ask import Source
from desktop.core.websearch import WebSource, is_web_address
from desktop.gui.common.plain import plain_tooltip
from desktop.gui.common.file_manager import open_file

__all__ = ["SourcesView", "WebSourcesView", "open_file", "open_web_page"]  # [n] and the list open a note the same way


class SourcesView(QFrame):
    """Sources: "[1] file.md" links with the heading and a snippet under each."""

    source_activated = Signal(int)  # the source's number

    def __init__(self, sources: list[Source], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sources")
        self.sources = sources
        self.buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        title = QLabel(self.tr("Sources"), self)
        title.setObjectName("sourcesTitle")
        layout.addWidget(title)
        for source in sources:
            layout.addWidget(self._row(source))

    def _row(self, source: Source) -> QWidget:
        row = QWidget(self)
        box = QVBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 2)
        box.setSpacing(0)
        line = QHBoxLayout()
        line.setSpacing(6)
        button = QPushButton(f"[{source.number}] {source.file_name}", row)
        button.setObjectName("sourceLink")
        button.setFlat(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setToolTip(self.tr("Open %1").replace("%1", os.path.normpath(source.path)))
        button.clicked.connect(lambda _=False, n=source.number: self.source_activated.emit(n))
        self.buttons.append(button)
        line.addWidget(button)
        where = source.heading
        if source.line_start:
            lines = (self.tr("line %1").replace("%1", str(source.line_start))
                     if source.line_start == source.line_end
                     else self.tr("lines %1").replace("%1", f"{source.line_start}–{source.line_end}"))
            where = " · ".join(filter(None, [where, lines]))
        heading = QLabel(where, row)
        heading.setObjectName("sourceHeading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        line.addWidget(heading, 1)
        box.addLayout(line)
        if source.snippet:
            snippet = QLabel(source.snippet, row)
            snippet.setObjectName("sourceSnippet")
            snippet.setWordWrap(True)
            snippet.setTextFormat(Qt.TextFormat.PlainText)
            box.addWidget(snippet)
        return row


def open_web_page(url: str) -> bool:
    """Open a web source's page in the browser: only an http(s) address, never a local program."""
    if not is_web_address(url):
        return False
    return QDesktopServices.openUrl(QUrl(url))


class WebSourcesView(QFrame):
    """The pages a web search read: "[1] Title" links (each opens only when clicked, and only an
    http(s) page) with the site and the address under each."""

    source_activated = Signal(int)  # the source's index

    def __init__(self, sources: list[WebSource], prefix: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("webSources")
        self.sources = sources
        self.buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        title = QLabel(self.tr("Web sources"), self)
        title.setObjectName("sourcesTitle")
        layout.addWidget(title)
        for source in sources:
            layout.addWidget(self._row(source, prefix))

    def _row(self, source: WebSource, prefix: str) -> QWidget:
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 2)
        line.setSpacing(6)
        name = " ".join(source.title.split()) or source.site_name or source.url
        button = QPushButton(f"[{prefix}{source.index}] {name}", row)
        button.setObjectName("sourceLink")
        button.setFlat(True)
        if source.openable:
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(plain_tooltip(self.tr("Open %1 in the browser").replace("%1", source.url)))
        else:
            button.setEnabled(False)
            button.setToolTip(self.tr("Only web pages (http, https) open from here."))
        button.clicked.connect(lambda _=False, n=source.index: self.source_activated.emit(n))
        self.buttons.append(button)
        line.addWidget(button)
        where = QLabel(" · ".join(filter(None, [source.site_name, source.url])), row)
        where.setObjectName("sourceHeading")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        line.addWidget(where, 1)
        return row
