"""The smaller pieces of a message: its thinking section, an error card, the inline editor, and
the notice that offers to undo an edit."""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import offers_settings, MESSAGES, ErrorKind
from desktop.gui.chat.composer import EditBox

# Errors about what the question says: sending it again unchanged cannot help, changing it can.
REPHRASE_KINDS = frozenset({ErrorKind.MODERATION.value})



def translate_error(kind: str) -> str:
    try:
        source = MESSAGES[ErrorKind(kind)]
    except ValueError:
        source = MESSAGES[ErrorKind.UNKNOWN]
    return QCoreApplication.translate("Errors", source)



class FittedText(QPlainTextEdit):
    """Read-only text as tall as its lines, up to ``max_lines``; beyond that it scrolls. Its
    height follows the text as it streams in and as a new width wraps it again."""

    def __init__(self, max_lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_lines = max_lines
        self._width = -1
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.document().documentLayout().documentSizeChanged.connect(self.fit)
        self.fit()

    def fit(self) -> None:
        """Take the height the text needs, capped at ``max_lines`` lines."""
        layout = self.document().documentLayout()
        cap = self.max_lines * self.fontMetrics().lineSpacing()
        needed = 0.0
        block = self.document().begin()
        while block.isValid() and needed < cap:  # only the first screenful is laid out
            needed += layout.blockBoundingRect(block).height()
            block = block.next()
        needed = max(min(needed, cap), self.fontMetrics().lineSpacing())
        margins = self.contentsMargins()
        height = (math.ceil(needed + 2 * self.document().documentMargin())
                  + margins.top() + margins.bottom())
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:  # wrapped anew: the line count may differ
            self._width = event.size().width()
            self.fit()


class ThinkingSection(QWidget):
    """Qwen's reasoning, apart from the answer and collapsed by default. Expanded, it is as tall
    as the reasoning, up to ``MAX_LINES`` lines, then it scrolls."""

    MAX_LINES = 12

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
        self.view = FittedText(self.MAX_LINES, self)
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
            seconds = max(1, round(self._seconds))
            label = (self.tr("Thought for 1 second") if seconds == 1
                     else self.tr("Thought for %n seconds", "", seconds))
        else:
            label = self.tr("Thinking")
        self.toggle.setText(label)

    def _on_toggle_toggled(self, checked: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow)
        self.view.setVisible(checked)
        if checked:
            self.flush()


class ErrorCard(QFrame):
    """A failed reply: what went wrong in plain words, and what to do — Retry, Open Settings, or
    (when the question itself was refused) Edit the question."""

    retry_requested = Signal()
    settings_requested = Signal()
    edit_requested = Signal()

    def __init__(self, kind: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.kind = kind
        self.message = QLabel(translate_error(kind), self)
        self.message.setWordWrap(True)
        self.message.setObjectName("errorMessage")
        self.details = QLabel(details, self)
        self.details.setTextFormat(Qt.TextFormat.PlainText)  # the server's words: never rich text
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setVisible(False)
        self.details_button = QToolButton(self)
        self.details_button.setText(self.tr("Details"))
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.setVisible(bool(details))
        self.retry_button = QPushButton(self.tr("Retry"), self)
        if kind == ErrorKind.SEARCH_UNSUPPORTED.value:  # the switch is off by now: Retry sends without
            self.retry_button.setText(self.tr("Send without web search"))
        self.edit_button = QPushButton(self.tr("Edit question"), self)
        self.edit_button.setToolTip(self.tr("Change the question and send it again"))
        rephrase = kind in REPHRASE_KINDS
        self.retry_button.setVisible(not rephrase)
        self.edit_button.setVisible(rephrase)
        self.settings_button = QPushButton(self.tr("Open Settings"), self)
        self.settings_button.setVisible(offers_settings(kind))
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.details_button.toggled.connect(self.details.setVisible)
        self.retry_button.clicked.connect(self.retry_requested)
        self.edit_button.clicked.connect(self.edit_requested)
        self.settings_button.clicked.connect(self.settings_requested)

    def set_busy(self, busy: bool) -> None:
        """While a reply streams, the card's actions wait (they would start another turn)."""
        self.retry_button.setEnabled(not busy)
        self.edit_button.setEnabled(not busy)


class MessageEditor(QWidget):
    """Editing an earlier question in place: Send & resend, or Cancel. A line under the box says
    what sending replaces (``later``: the messages after the question)."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, text: str, later: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = EditBox(self)
        self.edit.setObjectName("messageEditor")
        self.edit.setPlainText(text)
        self.edit.setTabChangesFocus(True)
        self.edit.setToolTip(self.tr("Enter sends, Shift+Enter starts a new line, Esc cancels"))
        self.note = QLabel(self)
        self.note.setObjectName("editNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setText(
            self.tr("Sending replaces the message after this question with a new answer (Undo brings "
                    "it back).") if later == 1
            else self.tr("Sending replaces the %n messages after this question with a new answer (Undo "
                         "brings them back).", "", later))
        self.note.setVisible(later > 0)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setToolTip(self.tr("Send the changed question; the messages after it are removed"))
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.cancel_button.clicked.connect(self.cancelled)
        self.edit.submitted.connect(self._on_send_button_clicked)
        self.edit.escaped.connect(self.cancelled)

    def _on_send_button_clicked(self) -> None:
        text = self.edit.toPlainText().strip()
        if text:
            self.submitted.emit(text)


class UndoNotice(QFrame):
    """Right after Edit and resend: what the edit replaced, and Undo, which puts it back. It stays
    while the edited question's answer is asked for again (Retry, Regenerate), and goes when the
    conversation moves on (another message, another edit) or is left."""

    undo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.undo_button = QPushButton(self.tr("Undo"), self)
        self.undo_button.setToolTip(self.tr("Put the question and the messages after it back as they were"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        self.undo_button.clicked.connect(self.undo_requested)
        self.setVisible(False)

    def offer(self, replaced: int) -> None:
        """Say what an edit replaced and offer to undo it."""
        if replaced == 0:
            text = self.tr("The question was changed.")
        elif replaced == 1:
            text = self.tr("The edit replaced the message after the question.")
        else:
            text = self.tr("The edit replaced the %n messages after the question.", "", replaced)
        self.label.setText(text)
        self.setVisible(True)
