"""Markdown on screen: a text browser that fits its height and never loads a resource, and a body
that shows a long reply as frozen segments plus a live tail."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPalette, QTextOption
from PySide6.QtWidgets import (
    QFrame,
    QSizePolicy,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core import markdown
from desktop.core.history import Message


FLUSH_MS = 50  # at most ~20 renders a second while streaming
SEGMENT_CHARS = 1000  # freeze finished blocks into a segment once this much is pending
STORED_SEGMENT_CHARS = 2000  # a stored long message is shown in pieces of about this size


@dataclass(frozen=True, slots=True)
class Rendered:
    """A stored message's HTML, in pieces cut between blocks (each piece is one text view, so
    that a long message can be laid out a piece at a time)."""

    starts: tuple[int, ...]  # offset in the source text where each piece begins
    pieces: tuple[str, ...]


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128



class AutoHeightBrowser(QTextBrowser):
    """A read-only rich-text view as tall as its content (the scroll area scrolls, not it).

    It wraps at a width it sets itself (its viewport's, or ``width_hint`` before it is laid out):
    laying out a long text is the costly part, and this way it happens once, at the right width,
    instead of at a default width first and again when the widget gets its size.
    """

    citation_clicked = Signal(int)  # a [n] marker of an answer from notes
    web_citation_clicked = Signal(int)  # a marker of a web source (its index)

    def __init__(self, parent: QWidget | None = None, width_hint: int | None = None) -> None:
        super().__init__(parent)
        self.setLineWrapMode(QTextEdit.LineWrapMode.FixedPixelWidth)
        self.setLineWrapColumnOrWidth(width_hint or 600)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._open_link)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setFixedHeight(8)

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() == markdown.CITE_SCHEME:
            number = url.path()
            if number.isdigit():
                self.citation_clicked.emit(int(number))
        elif url.scheme() == markdown.WEB_SCHEME:  # the message opens the source's page, if it is one
            if url.path().isdigit():
                self.web_citation_clicked.emit(int(url.path()))
        elif url.scheme() in ("http", "https", "mailto") and url.isValid():
            # Never file: or any other scheme: a link in a reply must not start a local program.
            QDesktopServices.openUrl(url)

    def loadResource(self, type: int, name: QUrl) -> object:  # type: ignore[override]  # noqa: A002
        """Load nothing: text from the model, the server or a note never makes us read a local file
        (an image of /dev/zero or of a FIFO would eat memory or block) or fetch a remote one."""
        return None

    def _fit(self, *_: object) -> None:
        height = math.ceil(self.document().size().height()) + 2
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().resizeEvent(event)  # type: ignore[arg-type]
        width = self.viewport().width()
        if width != self.lineWrapColumnOrWidth():
            self.setLineWrapColumnOrWidth(width)  # lays the text out again: only when it changed
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())


class MarkdownBody(QWidget):
    """The answer text: frozen segments of finished blocks plus one live tail."""

    citation_clicked = Signal(int)
    web_citation_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, width_hint: int | None = None) -> None:
        super().__init__(parent)
        self.width_hint = width_hint
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._frozen_end = 0
        self._tail = self._browser()
        self._layout.addWidget(self._tail)
        self._text = ""
        self._final_key: tuple[str, int, tuple[int, ...]] | None = None  # the tail, when not streaming
        self._pending: list[str] = []  # pieces of a stored message not laid out yet
        self.citations = 0  # [1]…[n] become links
        self.web_citations: tuple[int, ...] = ()  # the web sources' indexes: "[ref_n]" become links
        self.last_render_ms = 0.0

    def _browser(self) -> AutoHeightBrowser:
        laid_out = self._tail.viewport().width() if hasattr(self, "_tail") and self.isVisible() else 0
        browser = AutoHeightBrowser(self, laid_out if laid_out > 50 else self.width_hint)
        browser.citation_clicked.connect(self.citation_clicked)
        browser.web_citation_clicked.connect(self.web_citation_clicked)
        return browser

    def text(self) -> str:
        return self._text

    def browsers(self) -> list[AutoHeightBrowser]:
        return [w for i in range(self._layout.count())
                if isinstance(w := self._layout.itemAt(i).widget(), AutoHeightBrowser)]

    def set_rendered(self, text: str, rendered: Rendered, *, all_at_once: bool = True) -> None:
        """Show ``text`` from HTML rendered elsewhere (by the conversation's render thread).

        Without ``all_at_once`` only the first piece is shown: call :meth:`show_next_piece`
        until it returns False (the conversation view does, one piece per event-loop turn).
        """
        self._drop_frozen()
        self._text = text
        self._final_key = (text, self.citations, self.web_citations)
        self._frozen_end = rendered.starts[-1]
        self._pending = list(rendered.pieces)
        while self.show_next_piece() and all_at_once:
            pass

    def show_next_piece(self) -> bool:
        """Lay out the next piece of a stored message; False when none is left."""
        if not self._pending:
            return False
        html = self._pending.pop(0)
        if self._pending:
            segment = self._browser()
            segment.setHtml(html)
            self._layout.insertWidget(self._layout.count() - 1, segment)
        else:
            self._tail.setHtml(html)
        return bool(self._pending)

    def has_pending_pieces(self) -> bool:
        return bool(self._pending)

    def _drop_frozen(self) -> None:
        for browser in self.browsers():
            if browser is not self._tail:
                browser.setParent(None)  # type: ignore[call-overload]
                browser.deleteLater()
        self._frozen_end = 0
        self._pending = []

    def set_markdown(self, text: str, *, streaming: bool = False) -> None:
        if not streaming and self._final_key == (text, self.citations, self.web_citations):
            return  # already showing exactly this (or its pieces are on their way)
        if self._frozen_end and not text.startswith(self._text[:self._frozen_end]):
            self._drop_frozen()  # another text (an edited question): start again
        self._pending = []
        started = time.perf_counter()
        self._text = text
        dark = is_dark(self)
        cite, web = self.citations, self.web_citations
        fold = screen_fold()
        if streaming:
            self._final_key = None
            stable = markdown.stable_prefix_end(text)
            if stable - self._frozen_end >= SEGMENT_CHARS:
                segment = self._browser()
                segment.setHtml(markdown.render(text[self._frozen_end:stable], dark=dark, citations=cite, fold=fold, web=web))
                self._layout.insertWidget(self._layout.count() - 1, segment)
                self._frozen_end = stable
            tail = text[self._frozen_end:]
            tail_stable = markdown.stable_prefix_end(tail)
            # Finished blocks of the tail get highlighting; the growing last block does not yet.
            html = markdown.render(tail[:tail_stable], dark=dark, citations=cite, fold=fold, web=web) + markdown.render(
                tail[tail_stable:], dark=dark, highlight=False, citations=cite, fold=fold, web=web)
        else:
            html = markdown.render(text[self._frozen_end:], dark=dark, citations=cite, fold=fold, web=web)
            self._final_key = (text, cite, web)
        self._tail.setHtml(html)
        self.last_render_ms = (time.perf_counter() - started) * 1000

    def segment_count(self) -> int:
        return self._layout.count()



def plain_markdown(text: str) -> str:
    """Show the user's own text as typed: escape Markdown, keep line breaks."""
    escaped = "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~" else ch for ch in text)
    return escaped.replace("\n", "  \n")


def screen_fold() -> markdown.Fold:
    """How much of a huge block the chat shows, with its notes in the user's language."""
    return markdown.Fold(
        more_lines=QCoreApplication.translate("MarkdownBody", "%1 more lines are not shown here; Copy copies them all."),
        more_rows=QCoreApplication.translate("MarkdownBody", "%1 more rows are not shown here; Copy copies them all."),
        more_chars=QCoreApplication.translate("MarkdownBody", "… (%1 more characters; Copy copies them all)"),
    )


def render_stored(message: Message, dark: bool, fold: markdown.Fold | None = None) -> Rendered:
    """The HTML a stored message shows (safe to run on another thread: no Qt involved; make
    ``fold`` with :func:`screen_fold` on the UI thread)."""
    if message.role == "user":
        return Rendered((0,), (markdown.render(plain_markdown(message.content), dark=dark, fold=fold),))
    text = message.content
    starts = markdown.split_blocks(text, STORED_SEGMENT_CHARS)
    ends = [*starts[1:], len(text)]
    cite = len(message.sources or [])
    web = tuple(s.index for s in message.web_sources or [])
    pieces = tuple(markdown.render(text[a:b], dark=dark, citations=cite, fold=fold, web=web)
                   for a, b in zip(starts, ends, strict=True))
    return Rendered(tuple(starts), pieces)
