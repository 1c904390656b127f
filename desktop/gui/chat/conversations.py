"""The scrolling conversation: opens long conversations fast and sticks to the bottom while you read it.

Opening a conversation shows its last messages at once (enough to fill the window) and adds the
older ones above them, from the event loop, only while fewer than :data:`PRELOAD_SCREENS` screens
of them are above what is on screen: scrolling up keeps loading, and the view does not jump when
messages are added above. Their Markdown is rendered to HTML on a worker thread ahead of need, in
pieces cut between blocks, and the UI thread lays out one piece per event-loop turn — a few
milliseconds, however long the message.
"""

from __future__ import annotations

import bisect
import functools
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.core.history import Message
from desktop.gui.chat.markdown_view import Rendered, is_dark, render_stored, screen_fold
from desktop.gui.chat.messages import MessageWidget

INITIAL_MESSAGES = 12  # shown at once when a conversation opens…
INITIAL_CHARS = 30_000  # …or fewer, when they are long
PRELOAD_SCREENS = 2.0  # keep this much of the older conversation loaded above the viewport
PRERENDER_AHEAD = 4  # older messages whose HTML is prepared before they are needed
STEP_BUDGET_S = 0.005  # work per event-loop turn when adding older messages

_render_thread = ThreadPoolExecutor(1, thread_name_prefix="render-markdown")


class ConversationView(QScrollArea):
    """The list of message widgets; sticks to the bottom while the user is there."""

    retry_requested = Signal(int)  # the id of the failed reply to answer again
    settings_requested = Signal()
    regenerate_requested = Signal()
    edit_submitted = Signal(int, str)
    source_opened = Signal(str)
    older_loaded = Signal()  # all older messages of the conversation are on screen now

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
        self._older: list[Message] = []  # not on screen yet, oldest first
        self._widgets: list[MessageWidget] = []  # on screen, in order
        self._rendering: dict[int, Future[Rendered]] = {}
        self._filling: MessageWidget | None = None  # an older message still getting its pieces
        self._anchor: tuple[QWidget, int] | None = None  # the widget at the top of the view, and its y
        self._adjusting = False
        self._busy = False  # a reply is streaming: no editing or regenerating meanwhile
        self.cost_of: Callable[[Message], float | None] = lambda _message: None
        self._fill_timer = QTimer(self)
        self._fill_timer.setSingleShot(True)
        self._fill_timer.timeout.connect(self._load_older)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scroll_value_changed)
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        self.empty_hint = QLabel(self._container)
        self.empty_hint.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setObjectName("emptyHint")
        self._layout.insertWidget(0, self.empty_hint)

    def set_empty_hint(self, text: str) -> None:
        self.empty_hint.setText(text)
        self.empty_hint.setVisible(self.message_widgets() == [] and not self._older)

    # -- contents --------------------------------------------------------------------------

    def clear(self) -> None:
        self._fill_timer.stop()
        for future in self._rendering.values():
            future.cancel()
        self._rendering.clear()
        self._filling = None
        self._older = []
        self._anchor = None
        for widget in self._widgets:
            widget.setParent(None)  # type: ignore[call-overload]
            widget.deleteLater()
        self._widgets = []
        self.empty_hint.setVisible(True)
        self._stick = True

    def show_conversation(self, messages: list[Message]) -> None:
        """Show ``messages``: the newest at once, the older ones as they come into reach."""
        self.clear()
        start = len(messages)
        chars = 0
        while start > 0 and len(messages) - start < INITIAL_MESSAGES and chars < INITIAL_CHARS:
            start -= 1
            chars += len(messages[start].content)
        self._older = list(messages[:start])
        for message in messages[start:]:
            self.add_message(message)
        self._prerender()
        self._schedule_load()

    def has_older(self) -> bool:
        return bool(self._older)

    def load_all(self) -> None:
        """Put every message of the conversation on screen now (e.g. before searching in it)."""
        self._fill_timer.stop()
        if self._filling is not None:
            while self._filling.body.show_next_piece():
                pass
            self._filling = None
        while self._older:
            message = self._older.pop()
            future = self._rendering.pop(message.id, None)
            widget = self._insert_older(message, future.result() if future is not None else None)
            while widget.body.show_next_piece():
                pass
        self.older_loaded.emit()

    def message_widgets(self) -> list[MessageWidget]:
        return list(self._widgets)

    def _make_widget(self, message: Message, *, streaming: bool = False,
                     rendered: Rendered | None = None) -> MessageWidget:
        widget = MessageWidget(message, streaming=streaming, rendered=rendered,
                               cost=self.cost_of(message), text_width=self._text_width(),
                               parent=self._container)
        widget.retry_requested.connect(self.retry_requested)
        widget.settings_requested.connect(self.settings_requested)
        widget.regenerate_requested.connect(self.regenerate_requested)
        widget.edit_submitted.connect(self.edit_submitted)
        widget.edit_requested.connect(functools.partial(self.open_editor, widget))
        widget.source_opened.connect(self.source_opened)
        if self._busy:
            self._set_widget_busy(widget, True)
        return widget

    def open_editor(self, widget: MessageWidget) -> None:
        """Open the inline editor of ``widget``'s question (itself, or the question above a reply),
        saying how many messages after it sending would replace."""
        if self._busy or widget not in self._widgets:
            return
        question = self._question_of(widget)
        if question is None and self.has_older():
            self.load_all()  # the question above is not on screen yet
            question = self._question_of(widget)
        if question is None:
            return
        # Every message after one on screen is on screen too (older ones load above).
        question.start_edit(later=len(self._widgets) - self._widgets.index(question) - 1)
        self.ensureWidgetVisible(question)

    def _question_of(self, widget: MessageWidget) -> MessageWidget | None:
        above = self._widgets[: self._widgets.index(widget) + 1]
        return next((w for w in reversed(above) if w.role == "user"), None)

    def _text_width(self) -> int | None:
        """The width message text wraps at (all messages share it), once one is laid out."""
        for widget in (self._widgets[-1:] + self._widgets[:1]):
            width = widget.body.width()
            if widget.isVisible() and width > 50:
                return width
        return None

    def add_message(self, message: Message, *, streaming: bool = False) -> MessageWidget:
        widget = self._make_widget(message, streaming=streaming)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._widgets.append(widget)
        self.empty_hint.setVisible(False)
        return widget

    def replace_message(self, message_id: int, message: Message, *, streaming: bool = False,
                        ) -> MessageWidget:
        """Show ``message`` where the message ``message_id`` is (a reply answered again in place)."""
        old = next((w for w in self._widgets if w.message.id == message_id), None)
        if old is None:
            return self.add_message(message, streaming=streaming)
        widget = self._make_widget(message, streaming=streaming)
        self._layout.insertWidget(self._layout.indexOf(old), widget)
        self._widgets[self._widgets.index(old)] = widget
        self.remove(old)
        return widget

    def remove(self, widget: MessageWidget) -> None:
        if widget in self._widgets:
            self._widgets.remove(widget)
        if self._anchor is not None and self._anchor[0] is widget:
            self._anchor = None
        widget.setParent(None)  # type: ignore[call-overload]
        widget.deleteLater()

    def remove_after(self, message_id: int) -> None:
        """Remove the widgets of the messages that came after ``message_id``."""
        for widget in list(self._widgets):
            if widget.message.id > message_id:
                self.remove(widget)

    def update_actions(self, busy: bool) -> None:
        """Regenerate is offered on the last answer only, and not while a reply streams."""
        self._busy = busy
        widgets = self._widgets
        last_answer = next((w for w in reversed(widgets) if w.role == "assistant"), None)
        for widget in widgets:
            widget.set_regenerate_visible(widget is last_answer and not busy)
            self._set_widget_busy(widget, busy)

    @staticmethod
    def _set_widget_busy(widget: MessageWidget, busy: bool) -> None:
        """No editing and no retrying while a reply streams (either would start another turn)."""
        if widget.edit_button is not None:
            widget.edit_button.setEnabled(not busy and widget.editor is None)
        if widget.error_card is not None:
            widget.error_card.set_busy(busy)

    # -- loading older messages -------------------------------------------------------------

    def _prerender(self) -> None:
        """Render the HTML of the next few older messages on the render thread."""
        dark = is_dark(self)
        fold = screen_fold()
        for message in reversed(self._older[-PRERENDER_AHEAD:]):
            if message.id not in self._rendering:
                self._rendering[message.id] = _render_thread.submit(render_stored, message, dark, fold)

    def _schedule_load(self) -> None:
        if self._older and not self._fill_timer.isActive():
            self._fill_timer.start(0)

    def _wants_more(self) -> bool:
        above = self.verticalScrollBar().value()
        return above < PRELOAD_SCREENS * max(1, self.viewport().height())

    def _load_older(self) -> None:
        """Add older messages (and the pieces of long ones) for a few milliseconds, then let the
        loop breathe; one layout pass follows for all that was added."""
        started = time.perf_counter()
        while time.perf_counter() - started < STEP_BUDGET_S:
            wait = self._load_step()
            if wait is None:
                return
            if wait:
                self._fill_timer.start(wait)
                return
        self._fill_timer.start(0)

    def _load_step(self) -> int | None:
        """Add one piece or one message. Returns None when done for now, else ms to wait (0)."""
        if self._filling is not None:
            if not self._filling.body.show_next_piece():
                self._filling = None
            return 0
        if not self._older or not self._wants_more():
            return None
        message = self._older[-1]
        future = self._rendering.get(message.id)
        if future is not None and not future.done():
            return 2  # the render thread is on it
        self._older.pop()
        rendered = None
        if future is not None:
            self._rendering.pop(message.id)
            rendered = future.result()
        widget = self._insert_older(message, rendered)
        if widget.body.has_pending_pieces():
            self._filling = widget
        self._prerender()
        if not self._older and self._filling is None:
            self.older_loaded.emit()
            return None
        return 0

    def _insert_older(self, message: Message, rendered: Rendered | None = None) -> MessageWidget:
        if self._anchor is None:
            self._anchor_to_view()
        widget = self._make_widget(message, rendered=rendered)
        self._layout.insertWidget(1, widget)  # after the (hidden) empty hint
        self._widgets.insert(0, widget)
        self.empty_hint.setVisible(False)
        return widget

    # -- scrolling --------------------------------------------------------------------------

    def scroll_to_bottom(self) -> None:
        self._stick = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _anchor_to_view(self) -> None:
        """Remember the message at the top of the view: when messages above it are added or grow,
        the view follows it, so that what the user reads stays where it is."""
        top = self.verticalScrollBar().value()
        bottoms = _Bottoms(self._widgets)
        index = bisect.bisect_right(bottoms, top)  # widgets are in order, top to bottom
        self._anchor = (self._widgets[index], self._widgets[index].y()) if index < len(self._widgets) else None

    def _on_scroll_value_changed(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - 24
        if not self._adjusting:
            self._anchor_to_view()
        if self._older and self._wants_more():
            self._schedule_load()

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        bar = self.verticalScrollBar()
        if self._stick:
            bar.setValue(maximum)
        elif self._anchor is not None:
            widget, y = self._anchor
            moved = widget.y() - y
            if moved:
                self._adjusting = True
                bar.setValue(bar.value() + moved)  # what was on screen stays where it was
                self._adjusting = False
            self._anchor = (widget, widget.y())
        if self._older and self._wants_more():
            self._schedule_load()


class _Bottoms:
    """The bottom edges of the message widgets, as a sequence for bisect (read on demand)."""

    def __init__(self, widgets: list[MessageWidget]) -> None:
        self._widgets = widgets

    def __len__(self) -> int:
        return len(self._widgets)

    def __getitem__(self, index: int) -> int:
        widget = self._widgets[index]
        return widget.y() + widget.height()
