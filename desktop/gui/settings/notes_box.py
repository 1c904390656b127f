"""The Settings tab's "Notes" group: how answers from notes are ranked.

Edits go straight into the session's settings; the tab's ``save`` (connected to :attr:`changed`)
tells the other tabs and has the store write them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from desktop.core.notes.rerank import RERANK_MODELS, rerank_model_for
from desktop.core.runtime import Session


class NotesOptionsBox(QGroupBox):
    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Notes"), parent)
        self.session = session
        self._loading = False
        self.rerank = QCheckBox(self.tr("Rank the notes found for a question with a rerank model"), self)
        self.rerank.setObjectName("rerankNotes")
        self.rerank_model = QComboBox(self)
        self.rerank_model.setObjectName("rerankModel")
        for model in RERANK_MODELS:
            self.rerank_model.addItem(model, model)
        note = QLabel(self.tr("Answers then cite the notes that answer the question best, not only "
                              "those with the most words in common. It costs a little per question "
                              "(counted in the cost); if it fails, the usual order is used."), self)
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.rerank)
        form.addRow(self.tr("Rerank model"), self.rerank_model)
        form.addRow(note)
        self.rerank.toggled.connect(self._edited)
        self.rerank_model.currentIndexChanged.connect(self._edited)
        self.load()

    def load(self) -> None:
        self._loading = True
        settings = self.session.settings
        self.rerank.setChecked(settings.rerank_notes)
        model = rerank_model_for(settings.rerank_model)
        self.rerank_model.setCurrentIndex(max(0, self.rerank_model.findData(model)))
        self.rerank_model.setEnabled(settings.rerank_notes)
        self._loading = False

    def _edited(self, *_: object) -> None:
        self.rerank_model.setEnabled(self.rerank.isChecked())
        if self._loading:
            return
        self.session.settings = self.session.settings.replace(
            rerank_notes=self.rerank.isChecked(), rerank_model=self.rerank_model.currentData())
        self.changed.emit()
