"""The Search tab: folders of notes, their index, and search by meaning and keywords.

Widgets only: every workflow — folders, index runs with their policy, batch jobs, search — is the
notes service's (:class:`desktop.core.notes.service.NotesService`). The tab starts its coroutines
as named tasks and turns what they return and emit into text, lists and progress bars.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.batch import CannotCancel
from desktop.core.notes.service import (
    AddResult,
    BatchFallback,
    IndexOutcome,
    IndexProgressed,
    JobsUpdated,
    NotesEvent,
    NotesService,
    RunMode,
    RunResult,
)
from desktop.core.notes.store import FolderStatus
from desktop.core.notes.watcher import NotesWatcher
from desktop.gui.search.dialogs import LargeRunDialog, SkippedDialog
from desktop.gui.search.folders import FolderPanel
from desktop.gui.search.index_panel import IndexPanel, error_text
from desktop.gui.search.results import ResultsPanel
from desktop.gui.search.jobs import JobsPanel
from desktop.gui.search.rows import fit_all
from desktop.gui.common.panes import side_and_main
from desktop.core.tasks import TaskRunner

log = logging.getLogger(__name__)

INDEX_TASK = "notes-index"
SEARCH_TASK = "notes-search"
STATUS_TASK = "notes-status"
JOBS_TASK = "notes-batch-jobs"  # polls pending batch jobs and imports their results
JOB_CANCEL_TASK = "notes-batch-cancel"
PATH_ROLE = Qt.ItemDataRole.UserRole


class SearchTab(QWidget):
    index_started = Signal()
    index_finished = Signal(bool)  # True when the run completed, False when cancelled or failed
    folders_changed = Signal(list)  # the new list of folders (already in the settings)
    results_shown = Signal(int)  # number of results now listed
    ask_requested = Signal(str)  # "Ask Qwen about these results": the query, for the chat tab

    def __init__(
        self,
        notes: NotesService,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        watch: bool = True,
        watch_debounce: float = 2.0,
        search_delay_ms: int = 300,
    ) -> None:
        super().__init__(parent)
        self.notes = notes
        self.tasks = tasks
        self._watch_enabled = watch
        self._watch_debounce = watch_debounce
        self._watcher: NotesWatcher | None = None
        self._watched: list[str] | None = None  # the folders the watcher was last given
        self._applied: object = None  # the settings apply_settings last acted on
        self._rerun_after_index = False
        self._after_index: Callable[[], None] | None = None  # an answer given while a run ended
        self._closed = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(search_delay_ms)
        self._setup_ui()
        self._connect_signals()
        self.apply_settings()

    # -- construction ----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        # Folders and index (left).
        self.folder_panel = FolderPanel(self)
        self.folder_list = self.folder_panel.list
        self.add_button = self.folder_panel.add_button
        self.remove_button = self.folder_panel.remove_button
        self.skipped_button = self.folder_panel.skipped_button

        self.index_panel = IndexPanel(self)
        self.index_button = self.index_panel.index_button
        self.cancel_button = self.index_panel.cancel_button
        self.progress_bar = self.index_panel.progress_bar
        self.progress_label = self.index_panel.progress_label
        self.index_model_label = self.index_panel.model_label
        self.jobs_box = JobsPanel(self)
        self.jobs_table = self.jobs_box.table
        self.cancel_job_button = self.jobs_box.cancel_button
        self.jobs_label = self.jobs_box.label

        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.folder_panel, 1)
        side_layout.addWidget(self.index_panel)
        side_layout.addWidget(self.jobs_box)

        self.results = ResultsPanel(self)
        self.search_box = self.results.search_box
        self.notice_label = self.results.notice_label
        self.result_list = self.results.list
        self.open_button = self.results.open_button
        self.ask_button = self.results.ask_button

        self.splitter = side_and_main(self, side, self.results, (300, 680))

    def _connect_signals(self) -> None:
        self.jobs_box.cancel_requested.connect(self.cancel_job)
        self.folder_panel.add_requested.connect(self.add_folder)
        self.folder_panel.remove_requested.connect(self.remove_folder)
        self.folder_panel.skipped_requested.connect(
            lambda folder: self.tasks.start("notes-skipped", self._show_skipped(folder)))
        self.index_panel.run_requested.connect(lambda mode, reset: self._start_run(RunMode(mode), reset))
        self.index_panel.cancel_requested.connect(self.cancel_index)
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_box.returnPressed.connect(self.search_now)
        self.results.best_first.toggled.connect(lambda _on: self.search_now())
        self._search_timer.timeout.connect(self.search_now)
        self.results.ask_requested.connect(self.ask_requested.emit)

    @property
    def large_run_dialog(self) -> LargeRunDialog | None:
        return self.index_panel.large_run_dialog

    # -- settings and folders --------------------------------------------------------------

    @property
    def folders(self) -> list[str]:
        return self.notes.folders

    def apply_settings(self) -> None:
        """Show the folders of the current settings, watch them, refresh their status.

        Only what this tab depends on counts: typing a system prompt neither restarts the watcher
        nor reads the index again."""
        relevant = self.notes.settings.replace(system_prompt="", temperature=0.0, thinking=False,
                                               model="", language="")
        if relevant == self._applied:
            return
        self._applied = relevant
        self._fill_folder_list({})
        self._restart_watcher()
        self.refresh_status()
        self.resume_jobs()
        if not self.search_box.text().strip():
            self._show_hint()

    def _restart_watcher(self) -> None:
        """Watch the folders of the settings (restarted only when the list changed)."""
        if not self._watch_enabled or self._closed:
            return
        if self._watcher is not None and self._watched == self.folders:
            return
        self._watched = self.folders
        if self._watcher is None:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                return

            def changed_on_disk(paths: set[str]) -> None:  # runs on the watcher's thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._on_watcher_changed, paths)

            self._watcher = NotesWatcher(changed_on_disk, debounce=self._watch_debounce)
        self._watcher.watch(self.folders)

    def _on_watcher_changed(self, paths: set[str]) -> None:
        if self._closed:
            return
        log.info("notes changed on disk (%d paths); indexing", len(paths))
        self.start_index()

    def add_folder(self, folder: str) -> None:
        result, folder = self.notes.add_folder(folder)
        if result is AddResult.NOT_A_FOLDER:
            self.index_panel.say(self.tr("This is not a folder: %1").replace("%1", folder))
            return
        if result is AddResult.ADDED:
            self._folders_changed()
            self.start_index()

    def remove_folder(self, folder: str) -> None:
        if folder not in self.folders or self._closed:
            return
        self.tasks.start(f"notes-remove-{folder}", self._remove_folder(folder))

    async def _remove_folder(self, folder: str) -> None:
        # The service takes the folder out of the settings first (in the window the settings store
        # then updates every tab at once), stops a run in progress and drops the folder's index.
        await self.notes.remove_folder(folder)
        if self._closed:
            return
        self._folders_changed()
        self.refresh_status()
        if self.search_box.text().strip():
            self.search_now()

    def _folders_changed(self) -> None:
        self.folders_changed.emit(self.folders)
        self.apply_settings()

    async def _show_skipped(self, folder: str) -> None:
        entries = await self.notes.skipped(folder)
        dialog = SkippedDialog(folder, entries, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def current_folder(self) -> str | None:
        return self.folder_panel.current_folder()

    def _fill_folder_list(self, statuses: dict[str, FolderStatus]) -> None:
        self.folder_panel.show_folders(self.folders, statuses)
        self.index_button.setEnabled(bool(self.folders) and not self.tasks.running(INDEX_TASK))

    # -- folder status ---------------------------------------------------------------------

    def refresh_status(self) -> None:
        if not self._closed:
            self.tasks.start(STATUS_TASK, self._refresh_status())

    async def _refresh_status(self) -> None:
        report = await self.notes.folder_report()
        if self._closed:
            return
        self._fill_folder_list({view.path: view.status for view in report.folders if view.status})
        self.index_panel.show_index_model(report.model)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        fit_all(self.folder_list)
        fit_all(self.result_list)

    # -- indexing --------------------------------------------------------------------------

    def is_indexing(self) -> bool:
        return self.tasks.running(INDEX_TASK)

    def start_index(self, *, reset: bool = False, confirmed: bool = False) -> None:
        """Bring the index up to date; ``confirmed`` embeds a large run without asking."""
        self._start_run(RunMode.LIVE if confirmed else RunMode.AUTO, reset)

    def start_batch(self) -> None:
        """Send the pending parts as batch jobs (they are imported when they are done)."""
        self._start_run(RunMode.BATCH, False)

    def _start_run(self, mode: RunMode, reset: bool) -> None:
        self.resume_jobs()  # at start-up: go on with batch jobs sent in an earlier session
        if not self.folders or self._closed:
            return
        if self.tasks.running(INDEX_TASK):
            if mode is not RunMode.AUTO or reset:
                self._after_index = lambda: self._start_run(mode, reset)
            else:
                self._rerun_after_index = True
            return
        self._set_indexing(True)  # at once, not when the task first runs
        self.index_started.emit()
        self.index_panel.started(mode)
        self.tasks.start(INDEX_TASK, self._run_index(mode, reset))

    def cancel_index(self) -> None:
        self._rerun_after_index = False
        self._after_index = None
        self.tasks.cancel(INDEX_TASK)

    def _start_what_waited(self) -> None:
        """After an index task: start what was asked for while it ran."""
        if self._after_index is not None:
            action, self._after_index = self._after_index, None
            self._rerun_after_index = False
            QTimer.singleShot(0, action)
        elif self._rerun_after_index:
            self._rerun_after_index = False
            QTimer.singleShot(0, self.start_index)

    def _set_indexing(self, running: bool) -> None:
        self.index_panel.set_running(running, can_start=bool(self.folders))

    async def _run_index(self, mode: RunMode, reset: bool) -> None:
        outcome: IndexOutcome | None = None
        try:
            outcome = await self.notes.index(mode=mode, rebuild=reset, on_event=self._on_notes_event)
            if not self._closed:
                self.index_panel.show_outcome(outcome)
        except asyncio.CancelledError:
            if not self._closed:
                self.index_panel.cancelled(mode)
            raise
        finally:
            if not self._closed:
                self._set_indexing(False)
                self.index_finished.emit(outcome is not None and outcome.ok)
                self.refresh_status()
                if self.search_box.text().strip():
                    self.search_now()
                if outcome is not None and outcome.result is RunResult.SUBMITTED:
                    self.resume_jobs(restart=True)
                self._start_what_waited()

    def _on_notes_event(self, event: NotesEvent) -> None:
        if self._closed:
            return
        if isinstance(event, IndexProgressed):
            self.index_panel.show_progress(event.progress)
        elif isinstance(event, BatchFallback):
            self.index_panel.batch_fallback(event.detail)
        elif isinstance(event, JobsUpdated):
            self.jobs_box.show_jobs(event.jobs)

    # -- batch jobs ------------------------------------------------------------------------

    def resume_jobs(self, *, restart: bool = False) -> None:
        """Poll the pending batch jobs and import their results (no-op while already doing so)."""
        if self._closed or not self.notes.db_path.exists():
            return
        if restart or not self.tasks.running(JOBS_TASK):
            self.tasks.start(JOBS_TASK, self._run_jobs())

    async def _run_jobs(self) -> None:
        jobs = await self.notes.jobs(pending_only=True)
        if self._closed:
            return
        self.jobs_box.show_jobs(jobs)
        if not jobs:
            return
        if self.notes.embedder() is None:
            self.jobs_box.problem(self.tr("Add your API key in Settings to check on the batch jobs."))
            return
        if self.jobs_box.has_problem():
            self.jobs_box.problem("")
        try:
            check = await self.notes.wait_for_jobs(retry_live=False, on_event=self._on_notes_event)
        except QwenError as error:
            if not self._closed:
                self.jobs_box.problem(self.tr("Could not check on the batch jobs: %1").replace(
                    "%1", error_text(error)), error.details())
            return
        if self._closed:
            return
        text = self.jobs_box.outcome_text(check.outcomes)
        if text:
            self.index_panel.say(text)
        self.refresh_status()
        if self.search_box.text().strip():
            self.search_now()
        if check.needs_live_retry:
            # Lines the service failed, or jobs that failed as a whole: index them live now.
            QTimer.singleShot(0, lambda: self.start_index(confirmed=True))

    def selected_job(self) -> int | None:
        return self.jobs_box.selected_job()

    def cancel_job(self, job_id: int) -> None:
        if self._closed:
            return
        self.jobs_box.set_cancelling(True)
        self.jobs_label.setText(self.tr("Cancelling the batch job…"))
        self.tasks.start(JOB_CANCEL_TASK, self._run_cancel_job(job_id))

    async def _run_cancel_job(self, job_id: int) -> None:
        try:
            await self.notes.cancel_job(job_id)
            self.jobs_label.setText(self.tr(
                "The batch job is being cancelled. Its notes are indexed again the next time you index."))
        except CannotCancel as exc:
            self.jobs_label.setText(self.tr(
                "The service could not cancel this job (%1). It goes on; its results will be imported.")
                .replace("%1", str(exc)))
        except QwenError as error:
            if error.kind is ErrorKind.NO_KEY:
                self.jobs_box.problem(self.tr("Add your API key in Settings to check on the batch jobs."))
            else:
                self.jobs_box.problem(error_text(error), error.details())
        finally:
            if not self._closed:
                self.jobs_box.set_cancelling(False)
                self.resume_jobs(restart=True)

    # -- searching -------------------------------------------------------------------------

    def search_now(self) -> None:
        self._search_timer.stop()
        query = self.search_box.text().strip()
        if not query:
            self.tasks.cancel(SEARCH_TASK)
            self._show_hint()
            return
        self.tasks.start(SEARCH_TASK, self._run_search(query))

    def _show_hint(self) -> None:
        self.results.show_hint(bool(self.folders))

    async def _run_search(self, query: str) -> None:
        results = await self.notes.search(query, k=20, best_first=self.results.best_first.isChecked())
        if self._closed or query != self.search_box.text().strip():
            return
        self.results.show_results(results)
        self.results_shown.emit(len(results.hits))

    def focus_search(self) -> None:
        self.results.focus_search()

    def current_path(self) -> str | None:
        return self.results.current_path()

    # -- shutdown --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop watching, cancel what the tab runs. The notes service is closed by its owner."""
        self._closed = True
        if self._watcher is not None:
            watcher, self._watcher = self._watcher, None
            await asyncio.to_thread(watcher.stop)
        for name in (INDEX_TASK, SEARCH_TASK, STATUS_TASK, JOBS_TASK, JOB_CANCEL_TASK):
            task = self.tasks.get(name)
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
