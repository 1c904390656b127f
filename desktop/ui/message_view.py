"""The conversation view: one widget per message, streaming replies rendered at a bounded rate.

A streamed reply is split into finished Markdown blocks (rendered once, frozen in their own
segment) and an unfinished tail (re-rendered at most every ``FLUSH_MS``, without syntax
highlighting until its code fence closes). However long the reply grows, each flush costs about
the same: the tail, never the whole transcript.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPalette, QTextOption
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core import markdown
from desktop.core.client import Usage
from desktop.core.errors import MESSAGES, ErrorKind, QwenError
from desktop.core.history import Message, Status
from desktop.ui.text import fill

FLUSH_MS = 50  # at most ~20 renders a second while streaming
SEGMENT_CHARS = 1000  # freeze finished blocks into a segment once this much is pending


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


def translate_error(kind: str) -> str:
    try:
        source = MESSAGES[ErrorKind(kind)]
    except ValueError:
        source = MESSAGES[ErrorKind.UNKNOWN]
    return QCoreApplication.translate("Errors", source)


class AutoHeightBrowser(QTextBrowser):
    """A read-only rich-text view as tall as its content (the scroll area scrolls, not it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        if url.scheme() in ("http", "https", "mailto", "file"):
            QDesktopServices.openUrl(url)

    def _fit(self, *_: object) -> None:
        height = math.ceil(self.document().size().height()) + 2
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.document().setTextWidth(self.viewport().width())
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())


class MarkdownBody(QWidget):
    """The answer text: frozen segments of finished blocks plus one live tail."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._frozen_end = 0
        self._tail = AutoHeightBrowser(self)
        self._layout.addWidget(self._tail)
        self._text = ""
        self.last_render_ms = 0.0

    def text(self) -> str:
        return self._text

    def set_markdown(self, text: str, *, streaming: bool = False) -> None:
        started = time.perf_counter()
        self._text = text
        dark = is_dark(self)
        if streaming:
            stable = markdown.stable_prefix_end(text)
            if stable - self._frozen_end >= SEGMENT_CHARS:
                segment = AutoHeightBrowser(self)
                segment.setHtml(markdown.render(text[self._frozen_end:stable], dark=dark))
                self._layout.insertWidget(self._layout.count() - 1, segment)
                self._frozen_end = stable
            tail = text[self._frozen_end:]
            tail_stable = markdown.stable_prefix_end(tail)
            # Finished blocks of the tail get highlighting; the growing last block does not yet.
            html = markdown.render(tail[:tail_stable], dark=dark) + markdown.render(
                tail[tail_stable:], dark=dark, highlight=False)
        else:
            html = markdown.render(text[self._frozen_end:], dark=dark)
        self._tail.setHtml(html)
        self.last_render_ms = (time.perf_counter() - started) * 1000

    def segment_count(self) -> int:
        return self._layout.count()


class ThinkingSection(QWidget):
    """Qwen's reasoning, apart from the answer and collapsed by default."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text: list[str] = []
        self._shown = 0
        self._streaming = True
        self._seconds: float | None = None
        self.toggle = QToolButton(self)
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setMaximumHeight(260)
        self.view.setVisible(False)
        self.view.setStyleSheet("QPlainTextEdit { color: palette(placeholder-text); }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.view)
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self._update_label()

    def append(self, text: str) -> None:
        self._text.append(text)

    def set_text(self, text: str) -> None:
        self._text = [text]
        self._shown = 0
        self.view.clear()
        self.flush()

    def text(self) -> str:
        return "".join(self._text)

    def flush(self) -> None:
        if not self.view.isVisible():
            return  # collapsed: nothing to draw
        pending = "".join(self._text)[self._shown:]
        if pending:
            cursor = self.view.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(pending)
            self._shown += len(pending)

    def finish(self, seconds: float | None) -> None:
        self._streaming = False
        self._seconds = seconds
        self._update_label()

    def _update_label(self) -> None:
        if self._streaming:
            label = self.tr("Thinking…")
        elif self._seconds is not None:
            label = self.tr("Thought for %n second(s)", "", max(1, round(self._seconds)))
        else:
            label = self.tr("Thinking")
        self.toggle.setText(label)

    def _on_toggle_toggled(self, checked: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow)
        self.view.setVisible(checked)
        if checked:
            self.flush()


class ErrorCard(QFrame):
    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, kind: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.kind = kind
        self.message = QLabel(translate_error(kind), self)
        self.message.setWordWrap(True)
        self.message.setObjectName("errorMessage")
        self.details = QLabel(details, self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setVisible(False)
        self.details_button = QToolButton(self)
        self.details_button.setText(self.tr("Details"))
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.setVisible(bool(details))
        self.retry_button = QPushButton(self.tr("Retry"), self)
        self.settings_button = QPushButton(self.tr("Open Settings"), self)
        self.settings_button.setVisible(kind in {ErrorKind.AUTH, ErrorKind.NO_KEY, ErrorKind.MODEL_NOT_FOUND,
                                                 ErrorKind.PROXY, ErrorKind.ACCESS_DENIED})
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.details_button.toggled.connect(self.details.setVisible)
        self.retry_button.clicked.connect(self.retry_requested)
        self.settings_button.clicked.connect(self.settings_requested)


class MessageWidget(QFrame):
    """One message. Assistant messages stream; user messages are plain text."""

    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, message: Message, *, streaming: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = message
        self.role = message.role
        self.streaming = streaming
        self.setObjectName("userMessage" if self.role == "user" else "assistantMessage")
        self._content: list[str] = []
        self.error_card: ErrorCard | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._setup_ui()
        if self.role == "user":
            self.body.set_markdown(_plain_markdown(message.content))
        else:
            self._content = [message.content]
            if message.reasoning:
                self.thinking.set_text(message.reasoning)
                self.thinking.setVisible(True)
                self.thinking.finish(message.thinking_seconds)
            if message.content:
                self.body.set_markdown(message.content, streaming=streaming)
            if not streaming:
                self.finish(message, None)

    def _setup_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        who = self.tr("You") if self.role == "user" else self.tr("Qwen")
        model = f" · {self.message.model}" if self.role != "user" and self.message.model else ""
        self.header = QLabel(f"<b>{who}</b>{model}", self)
        self.header.setObjectName("messageHeader")
        self.copy_button = QToolButton(self)
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy this message as Markdown"))
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.header)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.thinking = ThinkingSection(self)
        self.thinking.setVisible(False)
        layout.addWidget(self.thinking)
        self.body = MarkdownBody(self)
        layout.addWidget(self.body)
        self.status = QLabel(self)
        self.status.setObjectName("messageStatus")
        self.status.setVisible(False)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.usage = QLabel(self)
        self.usage.setObjectName("messageUsage")
        self.usage.setVisible(False)
        layout.addWidget(self.usage)
        if self.streaming:
            self.status.setText(self.tr("Waiting for Qwen…"))
            self.status.setVisible(True)

    def _on_copy_button_clicked(self) -> None:
        copy_text(self.message.content if self.role == "user" else self.content())
        self.copy_button.setText(self.tr("Copied"))
        QTimer.singleShot(1500, lambda: self.copy_button.setText(self.tr("Copy")))

    # -- streaming -------------------------------------------------------------------------

    def append_reasoning(self, text: str) -> None:
        if not self.thinking.isVisible():
            self.thinking.setVisible(True)
            self.status.setVisible(False)
        self.thinking.append(text)
        self._schedule()

    def append_content(self, text: str) -> None:
        if not self._content or not any(self._content):
            self.status.setVisible(False)
        self._content.append(text)
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            # Back off when rendering gets expensive, so the loop always has time to breathe.
            self._timer.start(max(FLUSH_MS, int(self.body.last_render_ms * 4)))

    def content(self) -> str:
        return "".join(self._content)

    def flush(self) -> None:
        self._timer.stop()
        self.thinking.flush()
        text = "".join(self._content)
        self._content = [text]
        if text != self.body.text():
            self.body.set_markdown(text, streaming=self.streaming)

    def show_retry_wait(self, seconds: float, error: QwenError) -> None:
        self.status.setText(fill(self.tr("%1 Retrying in %2 s…"),
                                    translate_error(error.kind.value), max(1, round(seconds))))
        self.status.setVisible(True)

    def set_usage(self, usage: Usage | None) -> None:
        if usage is None:
            self.usage.setVisible(False)
            return
        parts = [fill(self.tr("%1 in"), f"{usage.prompt_tokens:,}"),
                 fill(self.tr("%1 out"), f"{usage.completion_tokens:,}")]
        if usage.reasoning_tokens:
            parts.append(fill(self.tr("%1 thinking"), f"{usage.reasoning_tokens:,}"))
        self.usage.setText(fill(self.tr("Tokens: %1"), " · ".join(parts)))
        self.usage.setVisible(True)

    def finish(self, message: Message, error: QwenError | None) -> None:
        """Show how the reply ended: finished, stopped, cut off, or failed."""
        self.streaming = False
        self.message = message
        self._content = [message.content]
        self.flush()
        self.body.set_markdown(message.content)
        if self.thinking.isVisible() or message.reasoning:
            self.thinking.setVisible(bool(message.reasoning))
            self.thinking.finish(message.thinking_seconds)
        self.set_usage(message.usage)
        notes = {
            Status.STOPPED: self.tr("Stopped."),
            Status.CUT_OFF: self.tr("The reply was cut off before it finished."),
            Status.LENGTH: self.tr("The reply reached the model's length limit."),
        }
        note = notes.get(message.status)
        self.status.setText(note or "")
        self.status.setVisible(bool(note) and message.status is not Status.CUT_OFF or
                               (message.status is Status.CUT_OFF and not message.error_kind))
        self.body.setVisible(bool(message.content))
        if message.error_kind and message.status in (Status.ERROR, Status.CUT_OFF):
            details = error.details() if error is not None else message.error_detail
            if message.request_id and "request id" not in details:
                details = (details + "\n" if details else "") + f"request id: {message.request_id}"
            self.show_error(message.error_kind, details)

    def mark_stopped(self) -> None:
        self.streaming = False
        self.flush()
        self.body.set_markdown(self.content())
        self.thinking.finish(None)
        self.status.setText(self.tr("Stopped."))
        self.status.setVisible(True)

    def show_error(self, kind: str, details: str) -> None:
        if self.error_card is not None:
            self.error_card.deleteLater()
        self.error_card = ErrorCard(kind, details, self)
        self.error_card.retry_requested.connect(self.retry_requested)
        self.error_card.settings_requested.connect(self.settings_requested)
        self.layout().addWidget(self.error_card)


def _plain_markdown(text: str) -> str:
    """Show the user's own text as typed: escape Markdown, keep line breaks."""
    escaped = "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~" else ch for ch in text)
    return escaped.replace("\n", "  \n")


class ConversationView(QScrollArea):
    """The scrolling list of messages; sticks to the bottom while the user is there."""

    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._container = QWidget(self)
        self._container.setObjectName("conversation")
        self._layout = QVBoxLayout(self._container)
        self._layout.setContentsMargins(16, 12, 16, 12)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        self.setWidget(self._container)
        self._stick = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scroll_value_changed)
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        self.empty_hint = QLabel(self._container)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setObjectName("emptyHint")
        self._layout.insertWidget(0, self.empty_hint)

    def set_empty_hint(self, text: str) -> None:
        self.empty_hint.setText(text)
        self.empty_hint.setVisible(self.message_widgets() == [])

    def clear(self) -> None:
        for widget in self.message_widgets():
            widget.setParent(None)  # type: ignore[call-overload]
            widget.deleteLater()
        self.empty_hint.setVisible(True)
        self._stick = True

    def message_widgets(self) -> list[MessageWidget]:
        result = []
        for i in range(self._layout.count()):
            w = self._layout.itemAt(i).widget()
            if isinstance(w, MessageWidget):
                result.append(w)
        return result

    def add_message(self, message: Message, *, streaming: bool = False) -> MessageWidget:
        widget = MessageWidget(message, streaming=streaming, parent=self._container)
        widget.retry_requested.connect(self.retry_requested)
        widget.settings_requested.connect(self.settings_requested)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self.empty_hint.setVisible(False)
        return widget

    def remove(self, widget: MessageWidget) -> None:
        widget.setParent(None)  # type: ignore[call-overload]
        widget.deleteLater()

    def scroll_to_bottom(self) -> None:
        self._stick = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scroll_value_changed(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - 24

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(maximum)


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)
