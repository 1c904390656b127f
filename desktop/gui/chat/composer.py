"""Where the question is typed (and an earlier one edited): grows with its text; Enter sends,
Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class Composer(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line; grows with its text."""

    submitted = Signal()
    MIN_LINES, MAX_LINES = 2, 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def _fit(self, *_: object) -> None:
        line = self.fontMetrics().lineSpacing()
        lines = max(self.MIN_LINES, min(self.MAX_LINES, int(self.document().size().height())))
        margins = self.contentsMargins().top() + self.contentsMargins().bottom()
        self.setFixedHeight(lines * line + margins + 2 * int(self.document().documentMargin()) + 6)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
                self.submitted.emit()
                return
        super().keyPressEvent(event)


class EditBox(Composer):
    """The box for editing an earlier question: Enter sends, Shift+Enter starts a new line, and Esc
    cancels the edit (here, not the window's Esc, which stops a reply)."""

    escaped = Signal()

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape):
            event.accept()  # the key comes here as a key press instead of firing the shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)
