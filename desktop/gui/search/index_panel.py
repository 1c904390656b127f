"""The index part of the Search tab: Index now / Cancel, progress, and how a run ended.

It renders a run's events and outcome and asks what the notes service cannot decide alone (a large
run: now or batch mode; a changed embedding model: rebuild?). Answers come back as
``run_requested(mode, reset)``.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.index import PHASE_LABELS, IndexEstimate, IndexModelChanged, IndexProgress, Phase
from desktop.core.notes.models import is_async_model, live_model
from desktop.core.notes.service import IndexOutcome, RunMode, RunResult
from desktop.core.notes.store import IndexModel
from desktop.gui.search.dialogs import LargeRunDialog, cny, core_tr
from desktop.gui.common.plain import plain_label, plain_tooltip


def error_text(error: QwenError) -> str:
    return QCoreApplication.translate("Errors", error.message)


class IndexPanel(QWidget):
    run_requested = Signal(str, bool)  # a RunMode value, and whether to rebuild from scratch
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.large_run_dialog: LargeRunDialog | None = None
        self.rebuild_box: QMessageBox | None = None
        self.live_box: QMessageBox | None = None
        self.index_button = QPushButton(self.tr("Index now"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setVisible(False)
        self.progress_label = plain_label(self, "notesProgress")
        self.model_label = plain_label(self, "notesIndexModel", visible=False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.index_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.model_label)
        self.index_button.clicked.connect(lambda: self.run_requested.emit(RunMode.AUTO.value, False))
        self.cancel_button.clicked.connect(self.cancel_requested.emit)

    def say(self, text: str, details: str = "") -> None:
        self.progress_label.setText(text)
        self.progress_label.setToolTip(plain_tooltip(details))

    def set_running(self, running: bool, *, can_start: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.index_button.setEnabled(not running and can_start)
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setRange(0, 0)  # busy until the first counts arrive

    def started(self, mode: RunMode) -> None:
        self.say(self.tr("Sending your notes to the batch service…") if mode is RunMode.BATCH
                 else core_tr(PHASE_LABELS[Phase.SCANNING]))

    def cancelled(self, mode: RunMode) -> None:
        self.say(self.tr("Cancelled. Index now asks again.") if mode is RunMode.BATCH else
                 self.tr("Cancelled. What was indexed is kept; Index now continues from there."))

    def batch_fallback(self, detail: str) -> None:
        self.say(self.tr("Batch mode is not available for this model or region (%1). Indexing now instead.")
                 .replace("%1", detail))

    def show_outcome(self, outcome: IndexOutcome) -> None:
        result = outcome.result
        if result is RunResult.KEYWORDS_ONLY:
            self.say(self.tr("Notes are ready for keyword search. Add your API key in Settings to also "
                             "search by meaning."))
        elif result is RunResult.CHOOSE:
            assert outcome.estimate is not None
            self._ask_large_run(outcome.estimate)
        elif result is RunResult.MODEL_CHANGED:
            assert outcome.model_change is not None
            self._ask_reindex(outcome.model_change)
        elif result is RunResult.BATCH_UNAVAILABLE:
            self._ask_live_instead(outcome)
        elif result is RunResult.DAMAGED:
            self._ask_rebuild_damaged()
        elif result is RunResult.BUSY:
            self.say(self.tr("Another Qwen Desktop window or the command line is indexing these notes "
                             "right now. Index now tries again."))
        elif result is RunResult.SUBMITTED:
            report = outcome.submitted
            assert report is not None
            self.say(self.tr(
                "Sent %1 parts in %2 batch jobs (about CNY %3). Results take from minutes to hours; "
                "they are imported automatically, also after Qwen Desktop was closed.")
                .replace("%1", f"{report.chunks:,}").replace("%2", str(len(report.jobs)))
                .replace("%3", cny(report.cost_cny)))
        elif result is RunResult.FAILED:
            error = outcome.error
            assert error is not None
            message = (self.tr("Add your API key in Settings to search by meaning.")
                       if error.kind is ErrorKind.NO_KEY else error_text(error))
            self.say(message + " " + self.tr("What was indexed is kept; Index now continues from there."),
                     error.details())
        else:
            self.say(core_tr(PHASE_LABELS[Phase.DONE]))

    def show_progress(self, progress: IndexProgress) -> None:
        label = core_tr(PHASE_LABELS[progress.phase])
        if progress.phase is Phase.SCANNING:
            self.progress_bar.setRange(0, 0)
            text = self.tr("%1: %2 files found").replace("%1", label).replace("%2", str(progress.files_found))
        elif progress.phase is Phase.READING:
            self.progress_bar.setRange(0, max(1, progress.files_to_read))
            self.progress_bar.setValue(progress.files_read)
            text = self.tr("%1: %2 of %3 files").replace("%1", label).replace(
                "%2", str(progress.files_read)).replace("%3", str(progress.files_to_read))
        else:
            self.progress_bar.setRange(0, max(1, progress.chunks_total))
            self.progress_bar.setValue(progress.chunks_embedded)
            text = self.tr("%1: %2 of %3 parts").replace("%1", label).replace(
                "%2", str(progress.chunks_embedded)).replace("%3", str(progress.chunks_total))
            if progress.retry_in is not None:
                text += " · " + self.tr("service busy, trying again in %1 s").replace(
                    "%1", str(round(progress.retry_in)))
            elif progress.eta_seconds is not None and progress.phase is Phase.EMBEDDING:
                text += " · " + self._eta_text(progress.eta_seconds)
        self.progress_label.setText(text)

    def _eta_text(self, seconds: float) -> str:
        if seconds < 60:
            return self.tr("less than a minute left")
        minutes = round(seconds / 60)
        if minutes < 60:
            return self.tr("about %1 min left").replace("%1", str(minutes))
        return self.tr("about %1 h %2 min left").replace("%1", str(minutes // 60)).replace(
            "%2", str(minutes % 60))

    def show_index_model(self, model: IndexModel | None) -> None:
        """Say so when the index was built offline with a model queries cannot use directly."""
        if model is None or not is_async_model(model.model):
            self.model_label.setVisible(False)
            return
        self.model_label.setText(self.tr(
            "Indexed offline with %1 (%2 dimensions). Searches and changed notes use %3, "
            "which matches it.")
            .replace("%1", model.model).replace("%2", str(model.dimensions))
            .replace("%3", live_model(model.model)))
        self.model_label.setVisible(True)

    # -- questions -------------------------------------------------------------------------

    def _ask_large_run(self, estimate: IndexEstimate) -> None:
        box = LargeRunDialog(estimate, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._on_large_run_answered(box))
        self.large_run_dialog = box
        self.say(self.tr("Waiting for your answer…"))
        box.open()  # never exec() inside the qasync loop

    def _on_large_run_answered(self, box: LargeRunDialog) -> None:
        self.large_run_dialog = None
        clicked = box.clickedButton()
        if clicked is box.now_button:
            self.run_requested.emit(RunMode.LIVE.value, False)
        elif clicked is box.batch_button:
            self.run_requested.emit(RunMode.BATCH.value, False)
        else:
            self.say(self.tr("Not indexed by meaning yet; keyword search works. Index now asks again."))

    def _ask_live_instead(self, outcome: IndexOutcome) -> None:
        cost = outcome.estimate.cost_cny if outcome.estimate else 0.0
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Batch mode not available"), self.tr(
            "Batch mode is not available for this model or region (%1). Index now instead? That "
            "costs about CNY %2, about twice the batch price.")
            .replace("%1", outcome.batch_fallback or "").replace("%2", cny(cost)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda result: self.run_requested.emit(RunMode.LIVE.value, False)
            if result == QMessageBox.StandardButton.Yes else
            self.say(self.tr("Not indexed by meaning yet; keyword search works. Index now asks again.")))
        self.live_box = box
        self.say(self.tr("Waiting for your answer…"))
        box.open()

    def _ask_rebuild_damaged(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Notes index damaged"), self.tr(
            "The index of your notes is damaged and cannot be read. Build it again from your notes "
            "files? The files are not touched; the damaged index is kept aside. Indexing by meaning "
            "costs tokens again."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda result: self.run_requested.emit(RunMode.AUTO.value, True)
            if result == QMessageBox.StandardButton.Yes else
            self.say(self.tr("The notes index is damaged; Index now offers to build it again."))
        )
        self.rebuild_box = box
        self.say(self.tr("Waiting for your answer…"))
        box.open()

    def _ask_reindex(self, exc: IndexModelChanged) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Embedding model changed"), self.tr(
            "Your notes were indexed with %1 (%2 dimensions); Settings now ask for %3 (%4). "
            "Vectors of different models cannot be mixed, so all notes must be indexed again, "
            "which costs tokens again. Re-index now?")
            .replace("%1", exc.stored.model).replace("%2", str(exc.stored.dimensions))
            .replace("%3", exc.wanted.model).replace("%4", str(exc.wanted.dimensions)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda result: self.run_requested.emit(RunMode.LIVE.value, True)
            if result == QMessageBox.StandardButton.Yes else None
        )
        self.say(self.tr("Waiting for your answer…"))
        box.open()
