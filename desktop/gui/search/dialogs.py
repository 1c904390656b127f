"""The Search tab's dialogs: what an index skipped, and how to index a large run."""

from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.notes.index import IndexEstimate
from desktop.core.notes.reader import SKIP_MESSAGES
from desktop.core.notes.store import SkippedEntry


def core_tr(text: str) -> str:
    """Texts from the notes core are marked with context "Notes"."""
    return QCoreApplication.translate("Notes", text)


def cny(amount: float) -> str:
    """A cost in yuan for the user: two decimals, and no "0.00" for something that is not free."""
    return "<0.01" if 0 < amount < 0.005 else f"{amount:,.2f}"


class SkippedDialog(QDialog):
    """The files and folders an index left out, with the reason for each."""

    def __init__(self, folder: str, entries: list[SkippedEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Skipped in %1").replace("%1", os.path.basename(folder) or folder))
        self.resize(720, 420)
        self.table = QTableWidget(len(entries), 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("File or folder"), self.tr("Reason")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, entry in enumerate(entries):
            shown = os.path.relpath(entry.path, folder) if entry.path.startswith(folder) else entry.path
            self.table.setItem(row, 0, QTableWidgetItem(shown + (os.sep if entry.is_dir else "")))
            reason = core_tr(SKIP_MESSAGES[entry.reason])
            if entry.detail:
                reason += f" ({entry.detail})"
            self.table.setItem(row, 1, QTableWidgetItem(reason))
        self.table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not entries:
            layout.addWidget(QLabel(self.tr("Nothing was skipped."), self))
        layout.addWidget(self.table)
        layout.addWidget(buttons)


class LargeRunDialog(QMessageBox):
    """Many parts to embed: now (live) or in batch mode, with the estimated cost of each."""

    def __init__(self, estimate: IndexEstimate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Index by meaning"))
        self.setText(self.tr(
            "%1 parts of your notes (about %2 tokens) will be sent to the embedding service (%3). "
            "How should they be indexed?")
            .replace("%1", f"{estimate.chunks:,}").replace("%2", f"{estimate.tokens:,}")
            .replace("%3", estimate.model))
        cheaper = estimate.batch_cost_cny < estimate.cost_cny
        batch = (self.tr("Batch mode (cheaper, may take from minutes to hours)") if cheaper
                 else self.tr("Batch mode (may take from minutes to hours)"))
        self.batch_button = self.addButton(
            self.tr("%1: about CNY %2").replace("%1", batch).replace("%2", cny(estimate.batch_cost_cny)),
            QMessageBox.ButtonRole.AcceptRole)
        self.now_button = self.addButton(
            self.tr("Now: about CNY %1").replace("%1", cny(estimate.cost_cny)),
            QMessageBox.ButtonRole.AcceptRole)
        self.later_button = self.addButton(self.tr("Not now"), QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.batch_button)
        self.setInformativeText(self.tr(
            "Batch jobs keep running when Qwen Desktop is closed; their results are imported the "
            "next time it starts. Keyword search works meanwhile."))
