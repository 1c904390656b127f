"""The line above the composer that says a search of the notes is attached to the next question
("Ask Qwen about these results"), with a ✕ to detach it. It also turns "Use my notes" on for
that conversation only: leaving the conversation puts the switch back as it was."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QToolButton, QWidget

from desktop.core.i18n import fill
from desktop.gui.common.plain import plain_label


class NotesAttachment(QWidget):
    def __init__(self, notes_box: QCheckBox, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesAttachment")
        self.notes_box = notes_box
        self.query = ""
        self._restore: bool | None = None  # the switch before the search was attached, until left
        self.label = plain_label(self, "notesAttachmentText")
        self.detach_button = QToolButton(self)
        self.detach_button.setObjectName("notesAttachmentDetach")
        self.detach_button.setText("✕")
        self.detach_button.setAutoRaise(True)
        self.detach_button.setToolTip(QCoreApplication.translate("ChatTab", "Detach: answer without your notes"))
        self.detach_button.setAccessibleName(QCoreApplication.translate("ChatTab", "Detach the search results"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.detach_button)
        self.detach_button.clicked.connect(self.detach)
        self.notes_box.toggled.connect(lambda on: None if on else self.setVisible(False))
        self.setVisible(False)

    def attach(self, query: str, results: int) -> None:
        """Answer the conversation's questions from the notes; say which search is attached."""
        if self._restore is None:
            self._restore = self.notes_box.isChecked()
        self.query = query
        self.notes_box.setChecked(True)
        if not self.notes_box.isEnabled():  # no notes folder: nothing to attach
            return
        text = (QCoreApplication.translate("ChatTab", "Answering from your notes: %1 (1 result)")
                if results == 1 else
                QCoreApplication.translate("ChatTab", "Answering from your notes: %1 (%2 results)"))
        self.label.setText(fill(text, query, results))
        self.setVisible(True)

    def detach(self) -> None:
        """The ✕: the question is answered without the notes."""
        self.setVisible(False)
        self.notes_box.setChecked(False)

    def sent(self) -> None:
        """The question went (with the notes): the line has said what it had to."""
        self.setVisible(False)

    def leave(self) -> None:
        """Another conversation: "Use my notes" goes back to what it was before the search."""
        self.setVisible(False)
        self.query = ""
        if self._restore is not None:
            self.notes_box.setChecked(self._restore and self.notes_box.isEnabled())
            self._restore = None
