"""The batch jobs box of the Search tab: pending offline jobs, their progress, and Cancel."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.notes.batch import JobOutcome
from desktop.core.notes.jobs import STATUS_LABELS, BatchJob, Interface, JobStatus
from desktop.gui.search.dialogs import core_tr
from desktop.gui.common.plain import plain_label, plain_tooltip

JOB_ROLE = Qt.ItemDataRole.UserRole


class JobsPanel(QWidget):
    """Hidden while there are no pending jobs. Emits ``cancel_requested(job id)``."""

    cancel_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setVisible(False)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("notesJobs")
        self.table.setHorizontalHeaderLabels([self.tr("Status"), self.tr("Parts"), self.tr("Done"), self.tr("Age")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setWordWrap(False)
        self.table.setMaximumHeight(140)
        self.cancel_button = QPushButton(self.tr("Cancel job"), self)
        self.cancel_button.setToolTip(self.tr("Cancel the selected batch job, on the service too"))
        self.cancel_button.setEnabled(False)
        self.label = plain_label(self, "notesJobsNotice")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(QLabel(self.tr("Batch jobs"), self))
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        layout.addWidget(self.label)
        self._cancelling = False
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)

    # -- what is shown --------------------------------------------------------------------

    def show_jobs(self, jobs: Sequence[BatchJob]) -> None:
        """List the pending jobs (called on every polling round)."""
        selected = self.selected_job()
        self.table.setRowCount(len(jobs))
        now = time.time()
        for row, job in enumerate(jobs):
            status = core_tr(STATUS_LABELS[job.status])
            if job.cancel_requested and job.status not in (JobStatus.CANCELLING, JobStatus.CANCELLED):
                status = self.tr("%1, cancel requested").replace("%1", status)
            kind = self.tr("Batch API") if job.interface is Interface.OPENAI else self.tr("native task")
            cells = [
                status,
                f"{job.chunks:,}",
                self.tr("%1 of %2").replace("%1", f"{job.lines_done:,}").replace("%2", f"{job.lines:,}")
                + (" · " + self.tr("%1 failed").replace("%1", f"{job.lines_failed:,}")
                   if job.lines_failed else ""),
                self.age_text(job.age(now)),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(JOB_ROLE, job.id)
                item.setToolTip(self.tr("Job %1 · %2 · %3 · created %4").replace("%1", str(job.id))
                                .replace("%2", kind).replace("%3", job.remote_id or "…")
                                .replace("%4", time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at)))
                                + (f"\n{job.message}" if job.message else ""))
                self.table.setItem(row, column, item)
            if job.id == selected:
                self.table.selectRow(row)
        self.setVisible(bool(jobs))
        self._update_buttons()

    def problem(self, text: str, details: str = "") -> None:
        """Why the jobs cannot be checked (cleared once they can)."""
        self.label.setText(text)
        self.label.setToolTip(plain_tooltip(details))
        self.label.setProperty("problem", bool(text))

    def has_problem(self) -> bool:
        return bool(self.label.property("problem"))

    def set_cancelling(self, cancelling: bool) -> None:
        self._cancelling = cancelling
        self._update_buttons()

    def age_text(self, seconds: float) -> str:
        minutes = int(seconds // 60)
        if minutes < 1:
            return self.tr("just now")
        if minutes < 60:
            return self.tr("%1 min").replace("%1", str(minutes))
        if minutes < 48 * 60:
            return self.tr("%1 h %2 min").replace("%1", str(minutes // 60)).replace("%2", str(minutes % 60))
        return self.tr("%1 days").replace("%1", str(minutes // (24 * 60)))

    def outcome_text(self, outcomes: Sequence[JobOutcome]) -> str:
        """How the jobs that ended went, in a sentence or a few."""
        texts: list[str] = []
        imported = [o for o in outcomes if o.job.status is JobStatus.IMPORTED]
        if imported:
            texts.append(self.tr("Batch results imported: %1 parts.").replace(
                "%1", f"{sum(o.vectors_saved for o in imported):,}"))
        dropped = sum(o.results_dropped for o in outcomes)
        if dropped:
            texts.append(self.tr("%1 results were dropped because their notes changed meanwhile; "
                                 "the new text is indexed again.").replace("%1", f"{dropped:,}"))
        if any(o.job.status is JobStatus.CANCELLED for o in outcomes):
            texts.append(self.tr("A batch job was cancelled; its notes are indexed the next time you "
                                 "index."))
        for outcome in outcomes:
            if outcome.job.status not in (JobStatus.IMPORTED, JobStatus.CANCELLED):
                texts.append(self.tr("A batch job ended as “%1”: %2. Its notes are indexed now instead.")
                             .replace("%1", core_tr(STATUS_LABELS[outcome.job.status]))
                             .replace("%2", outcome.job.message or ""))
        return " ".join(texts)

    # -- cancelling ------------------------------------------------------------------------

    def selected_job(self) -> int | None:
        items = self.table.selectedItems()
        return int(items[0].data(JOB_ROLE)) if items else None

    def _update_buttons(self) -> None:
        self.cancel_button.setEnabled(self.selected_job() is not None and not self._cancelling)

    def _on_cancel_button_clicked(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.cancel_requested.emit(job_id)
