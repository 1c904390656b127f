"""One message on screen: its text streaming at a bounded rate, its actions, sources and notes.

A streamed reply is split into finished Markdown blocks (rendered once, frozen in their own
segment) and an unfinished tail (re-rendered at most every ``FLUSH_MS``, without syntax
highlighting until its code fence closes). However long the reply grows, each flush costs about
the same: the tail, never the whole transcript. Stored messages are shown with HTML rendered
ahead of time (see :mod:`desktop.gui.chat.conversations`), so opening a long conversation does not
run the Markdown renderer on the UI thread.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.ask import Source
from desktop.core.client import Usage
from desktop.core.errors import QwenError
from desktop.core.history import Message, Status
from desktop.core.i18n import fill
from desktop.core.pricing import format_cny
from desktop.core.websearch import WebSource, cited_markdown
from desktop.gui.chat.clipboard import copy_for_word, copy_markdown, copy_reply, copy_text
from desktop.gui.chat.sources import SourcesView, WebSourcesView, open_file, open_web_page

from desktop.gui.chat.markdown_view import FLUSH_MS, MarkdownBody, Rendered, plain_markdown
from desktop.gui.chat.parts import ErrorCard, MessageEditor, ThinkingSection, translate_error


class MessageWidget(QFrame):
    """One message. Assistant messages stream; user messages are plain text.

    Actions in the header: Copy (readable text; for answers, its menu offers Copy as Markdown),
    Copy for Word (answers), Regenerate (the last answer) and Edit (questions). Answers from notes
    list their sources; clicking one, or its [n] in the text, opens the file. A failed answer's
    card retries this turn, or asks to edit its question.
    """

    retry_requested = Signal(int)  # the id of this (failed) reply
    settings_requested = Signal()
    regenerate_requested = Signal()
    edit_requested = Signal()  # Edit on a question, or on a reply's card: its question's editor
    edit_submitted = Signal(int, str)  # message id, new text
    source_opened = Signal(str)  # the path handed to the system

    def __init__(self, message: Message, *, streaming: bool = False, rendered: Rendered | None = None,
                 cost: float | None = None, text_width: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text_width = text_width
        self.message = message
        self.role = message.role
        self.streaming = streaming
        self.cost = cost
        self.setObjectName("userMessage" if self.role == "user" else "assistantMessage")
        self._content: list[str] = []
        self._thinking: ThinkingSection | None = None
        self.error_card: ErrorCard | None = None
        self.sources_view: SourcesView | None = None
        self.editor: MessageEditor | None = None
        self.sources: list[Source] = list(message.sources or [])
        self.web_sources: list[WebSource] = list(message.web_sources or [])
        self.web_sources_view: WebSourcesView | None = None
        self._context_shown = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._setup_ui()
        self.body.citations = len(self.sources)
        self.body.web_citations = tuple(s.index for s in self.web_sources)
        if self.web_sources:
            self.web_sources = []
            self.set_web_sources(list(message.web_sources or []), rerender=False)
        if self.role == "user":
            if rendered is not None:
                self.body.set_rendered(message.content, rendered)
            else:
                self.body.set_markdown(plain_markdown(message.content))
        else:
            self._content = [message.content]
            if message.reasoning:
                self.thinking.set_text(message.reasoning)
                self.thinking.setVisible(True)
                self.thinking.finish(message.thinking_seconds)
            if message.content:
                if rendered is not None and not streaming:
                    # The first piece now; the conversation view lays out the rest, a piece a turn.
                    self.body.set_rendered(message.content, rendered, all_at_once=False)
                else:
                    self.body.set_markdown(message.content, streaming=streaming)
            if not streaming:
                self.finish(message, None)

    def _setup_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.header = QLabel(self)
        self.header.setObjectName("messageHeader")
        self._show_header()
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(0)
        header.addWidget(self.header)
        header.addStretch(1)
        self.copy_button = self._action(self.tr("Copy"), self.tr("Copy this message"))
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        header.addWidget(self.copy_button)
        self.copy_markdown_action: QAction | None = None
        if self.role != "user":
            self.copy_button.setToolTip(self.tr(
                "Copy this answer as text that reads well anywhere: no Markdown marks, tables as "
                "tab-separated rows. The arrow beside it copies the Markdown."))
            menu = QMenu(self.copy_button)
            self.copy_markdown_action = menu.addAction(self.tr("Copy as Markdown"))
            self.copy_markdown_action.setToolTip(self.tr("Copy the Markdown source of this answer"))
            self.copy_markdown_action.triggered.connect(self._on_copy_markdown_action_triggered)
            self.copy_button.setMenu(menu)
            self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.word_button: QToolButton | None = None
        self.regenerate_button: QToolButton | None = None
        self.edit_button: QToolButton | None = None
        if self.role == "user":
            self.edit_button = self._action(self.tr("Edit"), self.tr(
                "Change this question and ask again; the messages after it are removed"))
            self.edit_button.clicked.connect(self.edit_requested)
            header.addWidget(self.edit_button)
        else:
            self.word_button = self._action(self.tr("Copy for Word"), self.tr(
                "Copy as rich text: headings, lists, tables and code keep their form in Word or WPS"))
            self.word_button.clicked.connect(self._on_word_button_clicked)
            header.addWidget(self.word_button)
            self.regenerate_button = self._action(self.tr("Regenerate"), self.tr("Ask for a new answer"))
            self.regenerate_button.clicked.connect(self.regenerate_requested)
            self.regenerate_button.setVisible(False)
            header.addWidget(self.regenerate_button)
        layout.addLayout(header)
        self.notice = QLabel(self)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setObjectName("messageNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        layout.addWidget(self.notice)
        self.body = MarkdownBody(self, self._text_width)
        self.body.citation_clicked.connect(self.open_source)
        self.body.web_citation_clicked.connect(self.open_web_source)
        layout.addWidget(self.body)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setObjectName("messageStatus")
        self.status.setVisible(False)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.usage = QLabel(self)
        self.usage.setTextFormat(Qt.TextFormat.PlainText)
        self.usage.setObjectName("messageUsage")
        self.usage.setVisible(False)
        layout.addWidget(self.usage)
        if self.streaming:
            self.status.setText(self.tr("Waiting for Qwen…"))
            self.status.setVisible(True)

    def _action(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName("messageAction")
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    @property
    def thinking(self) -> ThinkingSection:
        """The reasoning section, made when first needed (most messages have none)."""
        if self._thinking is None:
            self._thinking = ThinkingSection(self)
            self._thinking.setVisible(False)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.body), self._thinking)
        return self._thinking

    def has_thinking(self) -> bool:
        return self._thinking is not None and self._thinking.isVisibleTo(self)

    # -- actions ---------------------------------------------------------------------------

    def text(self) -> str:
        return self.message.content if self.role == "user" else self.content()

    def cited_text(self) -> str:
        """What Copy takes of an answer: with web sources, their markers as links and the list."""
        return cited_markdown(self.text(), self.web_sources, self.tr("Web sources"),
                              prefix="W" if self.sources else "")

    def _on_copy_button_clicked(self) -> None:
        if self.role == "user":
            copy_text(self.text())  # a question is shown as typed, so it is copied as typed
        else:
            copy_reply(self.cited_text())
        self._confirm(self.copy_button, self.tr("Copied"), self.tr("Copy"))

    def _on_copy_markdown_action_triggered(self) -> None:
        copy_markdown(self.cited_text())
        self._confirm(self.copy_button, self.tr("Copied"), self.tr("Copy"))

    def _on_word_button_clicked(self) -> None:
        assert self.word_button is not None
        copy_for_word(self.cited_text())
        self._confirm(self.word_button, self.tr("Copied"), self.tr("Copy for Word"))

    def _confirm(self, button: QToolButton, done: str, normal: str) -> None:
        button.setText(done)
        QTimer.singleShot(1500, button, lambda: button.setText(normal))

    def set_regenerate_visible(self, visible: bool) -> None:
        if self.regenerate_button is not None:
            self.regenerate_button.setVisible(visible)

    def start_edit(self, later: int = 0) -> None:
        """Open the inline editor; ``later`` messages after this question would be replaced."""
        if self.editor is not None or self.role != "user":
            return
        self.editor = MessageEditor(self.message.content, later, self)
        self.editor.submitted.connect(lambda text: self.edit_submitted.emit(self.message.id, text))
        self.editor.cancelled.connect(self.stop_edit)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.body), self.editor)
        self.body.setVisible(False)
        if self.edit_button is not None:
            self.edit_button.setEnabled(False)
        self.editor.edit.setFocus()

    def _show_header(self) -> None:
        who = self.tr("You") if self.role == "user" else self.tr("Qwen")
        model = f" · {self.message.model}" if self.role != "user" and self.message.model else ""
        edited = " · " + self.tr("edited") if self.message.edited is not None else ""
        self.header.setText(f"<b>{html.escape(who)}</b>{html.escape(model)}{html.escape(edited)}")
        when = self.message.edited
        self.header.setToolTip(self.tr("Edited %1").replace("%1", time.strftime("%Y-%m-%d %H:%M", time.localtime(when)))
                               if when is not None else "")

    def stop_edit(self, new_text: str | None = None) -> None:
        if self.editor is not None:
            self.editor.deleteLater()
            self.editor = None
        if new_text is not None:
            self.message.content = new_text
            self.message.edited = time.time()
            self._show_header()
            self.body.set_markdown(plain_markdown(new_text))
        self.body.setVisible(True)
        if self.edit_button is not None:
            self.edit_button.setEnabled(True)

    # -- sources ---------------------------------------------------------------------------

    def set_context(self, sources: list[Source] | None, omitted_messages: int, omitted_sources: int,
                    input_limit: int | None) -> None:
        """What the request carried: the sources it cites and what was left out to fit."""
        self.sources = list(sources or [])
        self.body.citations = len(self.sources)
        if self.sources_view is not None:
            self.sources_view.deleteLater()
            self.sources_view = None
        if self.sources:
            self.sources_view = SourcesView(self.sources, self)
            self.sources_view.source_activated.connect(self.open_source)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.status), self.sources_view)
        notes = []
        if input_limit:
            notes.append(fill(self.tr("The model accepts at most %1 tokens, so the request was sent "
                                      "again, shorter."), f"{input_limit:,}"))
        if omitted_messages:
            notes.append(self.tr("1 earlier message was left out to fit the model's context.")
                         if omitted_messages == 1
                         else self.tr("%n earlier messages were left out to fit the model's context.", "",
                                      omitted_messages))
        if omitted_sources:
            notes.append(self.tr("1 relevant note excerpt did not fit into the model's context and "
                                 "was left out.") if omitted_sources == 1
                         else self.tr("%n relevant note excerpts did not fit into the model's context and "
                                      "were left out.", "", omitted_sources))
        self.notice.setText(" ".join(notes))
        self.notice.setVisible(bool(notes))
        self._context_shown = True

    def open_source(self, number: int) -> None:
        source = next((s for s in self.sources if s.number == number), None)
        if source is None:
            return
        self.source_opened.emit(source.path)
        if not open_file(source.path):
            self.status.setText(fill(self.tr("Could not open %1."), source.path))
            self.status.setVisible(True)

    def set_web_sources(self, sources: list[WebSource], *, rerender: bool = True) -> None:
        """The pages searched for this answer (as they arrive, then as stored): cards, and links."""
        if sources == self.web_sources and (self.web_sources_view is not None or not sources):
            return
        self.web_sources = list(sources)
        self.body.web_citations = tuple(s.index for s in sources)
        if self.web_sources_view is not None:
            self.web_sources_view.deleteLater()
            self.web_sources_view = None
        if sources:
            self.web_sources_view = WebSourcesView(self.web_sources, "W" if self.sources else "", self)
            self.web_sources_view.source_activated.connect(self.open_web_source)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.status), self.web_sources_view)
        if rerender and not self.streaming:
            self.body.set_markdown(self.content())

    def open_web_source(self, index: int) -> None:
        source = next((s for s in self.web_sources if s.index == index), None)
        if source is None:
            return
        if not source.openable or not open_web_page(source.url):
            self.status.setText(fill(self.tr("Could not open %1."), source.url))
            self.status.setVisible(True)

    # -- streaming -------------------------------------------------------------------------

    def show_searching(self) -> None:
        self.status.setText(self.tr("Searching your notes…"))
        self.status.setVisible(True)

    def append_reasoning(self, text: str) -> None:
        if not self.thinking.isVisibleTo(self):
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
        if self._thinking is not None:
            self._thinking.flush()
        text = "".join(self._content)
        self._content = [text]
        if text != self.body.text():
            self.body.set_markdown(text, streaming=self.streaming)

    def show_retry_wait(self, seconds: float, error: QwenError) -> None:
        self.status.setText(fill(self.tr("%1 Retrying in %2 s…"),
                                    translate_error(error.kind.value), max(1, round(seconds))))
        self.status.setVisible(True)

    def set_usage(self, usage: Usage | None, cost: float | None = None) -> None:
        if usage is None:
            self.usage.setVisible(False)
            return
        parts = [fill(self.tr("%1 in"), f"{usage.prompt_tokens:,}"),
                 fill(self.tr("%1 out"), f"{usage.completion_tokens:,}")]
        if usage.reasoning_tokens:
            parts.append(fill(self.tr("%1 thinking"), f"{usage.reasoning_tokens:,}"))
        text = fill(self.tr("Tokens: %1"), " · ".join(parts))
        if usage.searches:
            text += " · " + (self.tr("1 web search") if usage.searches == 1
                             else self.tr("%n web searches", "", usage.searches))
        if cost is not None:
            text += " · " + fill(self.tr("about %1"), format_cny(cost))
        self.usage.setText(text)
        self.usage.setToolTip(self.tr("Estimated cost from the price table (prices.json in the data folder)"))
        self.usage.setVisible(True)

    def finish(self, message: Message, error: QwenError | None, cost: float | None = None) -> None:
        """Show how the reply ended: finished, stopped, cut off, failed, or nothing in the notes."""
        self.streaming = False
        self.message = message
        self._content = [message.content]
        if cost is not None:
            self.cost = cost
        self.flush()
        if message.web_sources is not None:
            self.set_web_sources(message.web_sources)
        self.body.set_markdown(message.content)
        if self._thinking is not None or message.reasoning:
            self.thinking.setVisible(bool(message.reasoning))
            self.thinking.finish(message.thinking_seconds)
        self.set_usage(message.usage, self.cost)
        has_notes = bool(message.omitted_messages or message.omitted_sources or message.input_limit)
        if (self.sources_view is None and message.sources) or (has_notes and not self._context_shown):
            self.set_context(message.sources if message.sources is not None else self.sources,
                             message.omitted_messages, message.omitted_sources, message.input_limit)
        notes = {
            Status.STOPPED: self.tr("Stopped."),
            Status.CUT_OFF: self.tr("The reply was cut off before it finished."),
            Status.LENGTH: self.tr("The reply reached the model's length limit."),
            Status.NO_NOTES: self.tr("Nothing in your notes seems to be about this, so Qwen was not "
                                     "asked. Try other words, check that the folder with the answer "
                                     "is indexed, or turn off \"Use my notes\"."),
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
        if self._thinking is not None:
            self._thinking.finish(None)
        self.status.setText(self.tr("Stopped."))
        self.status.setVisible(True)

    def show_error(self, kind: str, details: str) -> None:
        if self.error_card is not None:
            self.error_card.deleteLater()
        self.error_card = ErrorCard(kind, details, self)
        self.error_card.retry_requested.connect(lambda: self.retry_requested.emit(self.message.id))
        self.error_card.settings_requested.connect(self.settings_requested)
        self.error_card.edit_requested.connect(self.edit_requested)
        self.layout().addWidget(self.error_card)
