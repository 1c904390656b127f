"""The Search tab: folders of notes, their index, and search by meaning and keywords.

Widgets only: scanning, reading, embedding and searching are the core's (:mod:`desktop.core.notes`),
run as named tasks on the qasync loop; every blocking step inside them runs in an executor.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QProcess, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core import paths
from desktop.core import settings as settings_mod
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.batch import BatchConfig, BatchIndexer, BatchUnavailable, CannotCancel, JobOutcome
from desktop.core.notes.index import (
    PHASE_LABELS,
    IndexConfig,
    Indexer,
    IndexEstimate,
    IndexModelChanged,
    IndexProgress,
    Phase,
    normalise_folder,
)
from desktop.core.notes.jobs import STATUS_LABELS, BatchJob, Interface, JobStatus, JobStore
from desktop.core.notes.keywords import Snippet
from desktop.core.notes.models import is_async_model, live_model
from desktop.core.notes.reader import SKIP_MESSAGES
from desktop.core.notes.search import SearchHit, SearchResults, SharedSearcher
from desktop.core.notes.store import FolderStatus, IndexModel, NoteStore, SkippedEntry
from desktop.core.notes.watcher import NotesWatcher
from desktop.core.runtime import Session
from desktop.ui.plain import plain_tooltip
from desktop.ui.panes import side_and_main
from desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

INDEX_TASK = "notes-index"
SEARCH_TASK = "notes-search"
STATUS_TASK = "notes-status"
JOBS_TASK = "notes-batch-jobs"  # polls pending batch jobs and imports their results
JOB_CANCEL_TASK = "notes-batch-cancel"
PATH_ROLE = Qt.ItemDataRole.UserRole
JOB_ROLE = Qt.ItemDataRole.UserRole


def _core_tr(text: str) -> str:
    """Texts from the core are marked with context "Notes" (and "Errors")."""
    return QCoreApplication.translate("Notes", text)


def cny(amount: float) -> str:
    """A cost in yuan for the user: two decimals, and no "0.00" for something that is not free."""
    return "<0.01" if 0 < amount < 0.005 else f"{amount:,.2f}"


def snippet_html(snippet: Snippet) -> str:
    """The snippet as escaped HTML with the query terms in bold."""
    out: list[str] = []
    pos = 0
    for start, end in snippet.highlights:
        out.append(html.escape(snippet.text[pos:start]))
        out.append("<b>" + html.escape(snippet.text[start:end]) + "</b>")
        pos = end
    out.append(html.escape(snippet.text[pos:]))
    return "".join(out)


def show_in_folder(path: str) -> None:
    """Open the file's folder with the file selected where the platform allows it."""
    if sys.platform == "win32":
        QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])
    elif sys.platform == "darwin":
        QProcess.startDetached("open", ["-R", path])
    else:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


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
            reason = _core_tr(SKIP_MESSAGES[entry.reason])
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


class SearchTab(QWidget):
    index_started = Signal()
    index_finished = Signal(bool)  # True when the run completed, False when cancelled or failed
    folders_changed = Signal(list)  # the new list of folders (already saved in the settings file)
    results_shown = Signal(int)  # number of results now listed
    ask_requested = Signal(str)  # "Ask Qwen about these results": the query, for the chat tab

    def __init__(
        self,
        session: Session,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        db_path: Path | None = None,
        watch: bool = True,
        watch_debounce: float = 2.0,
        search_delay_ms: int = 300,
        batch_config: BatchConfig | None = None,
        searchers: SharedSearcher | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.tasks = tasks
        self.db_path = db_path or paths.notes_db()
        self.batch_config = batch_config or BatchConfig()
        self.large_run_dialog: LargeRunDialog | None = None
        self._watch_enabled = watch
        self._watch_debounce = watch_debounce
        self._watcher: NotesWatcher | None = None
        # One searcher per process: the window passes the one it shares with the Chat tab.
        self._applied: object = None  # the settings apply_settings last acted on
        self._owns_searchers = searchers is None
        self.searchers = searchers or SharedSearcher(self.db_path)
        self._rerun_after_index = False
        self._after_index: Callable[[], None] | None = None  # an answer given while a run ended
        self._closed = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(search_delay_ms)
        self._last_progress: IndexProgress | None = None
        self._setup_ui()
        self._connect_signals()
        self.apply_settings()

    # -- construction ----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        # Folders and index (left).
        self.folder_list = QListWidget(self)
        self.folder_list.setObjectName("notesFolderList")
        self.folder_list.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add folder…"), self)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.setToolTip(self.tr("Stop searching this folder (the files are not touched)"))
        self.skipped_button = QPushButton(self.tr("Skipped files…"), self)
        folder_buttons = QHBoxLayout()
        folder_buttons.addWidget(self.add_button)
        folder_buttons.addWidget(self.remove_button)
        folder_buttons.addWidget(self.skipped_button)

        self.index_button = QPushButton(self.tr("Index now"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setEnabled(False)
        index_buttons = QHBoxLayout()
        index_buttons.addWidget(self.index_button)
        index_buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setVisible(False)
        self.progress_label = QLabel(self)
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_label.setObjectName("notesProgress")
        self.progress_label.setWordWrap(True)

        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel(self.tr("Notes folders"), side))
        side_layout.addWidget(self.folder_list, 1)
        side_layout.addLayout(folder_buttons)
        side_layout.addLayout(index_buttons)
        side_layout.addWidget(self.progress_bar)
        side_layout.addWidget(self.progress_label)
        self.index_model_label = QLabel(self)
        self.index_model_label.setTextFormat(Qt.TextFormat.PlainText)
        self.index_model_label.setObjectName("notesIndexModel")
        self.index_model_label.setWordWrap(True)
        self.index_model_label.setVisible(False)
        side_layout.addWidget(self.index_model_label)
        side_layout.addWidget(self._setup_jobs_box(side))

        # Search (right).
        self.search_box = QLineEdit(self)
        self.search_box.setObjectName("notesSearch")
        self.search_box.setPlaceholderText(self.tr("Search your notes by meaning or exact words…"))
        self.search_box.setClearButtonEnabled(True)
        self.notice_label = QLabel(self)
        self.notice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notice_label.setObjectName("notesNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setVisible(False)
        self.result_list = QListWidget(self)
        self.result_list.setObjectName("notesResults")
        self.result_list.setWordWrap(True)
        self.result_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.result_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.result_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.open_button = QPushButton(self.tr("Open"), self)
        self.show_button = QPushButton(self.tr("Show in folder"), self)
        self.copy_button = QPushButton(self.tr("Copy path"), self)
        self.ask_button = QPushButton(self.tr("Ask Qwen about these results"), self)
        self.ask_button.setToolTip(self.tr("Ask the search as a question in a new chat, answered from "
                                           "these notes with sources"))
        self.ask_button.clicked.connect(lambda: self.ask_requested.emit(self.search_box.text().strip()))
        result_buttons = QHBoxLayout()
        result_buttons.addStretch(1)
        result_buttons.addWidget(self.open_button)
        result_buttons.addWidget(self.show_button)
        result_buttons.addWidget(self.copy_button)

        main = QWidget(self)
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_box, 1)
        search_row.addWidget(self.ask_button)
        main_layout.addLayout(search_row)
        main_layout.addWidget(self.notice_label)
        main_layout.addWidget(self.result_list, 1)
        main_layout.addLayout(result_buttons)

        self.splitter = side_and_main(self, side, main, (300, 680))
        self.setFocusProxy(self.search_box)
        self.copy_shortcut = QShortcut(QKeySequence.StandardKey.Copy, self.result_list)
        self.copy_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._update_result_buttons()

    def _setup_jobs_box(self, parent: QWidget) -> QWidget:
        """Pending batch jobs: status, counts, age, and Cancel (hidden while there are none)."""
        self.jobs_box = QWidget(parent)
        self.jobs_box.setVisible(False)
        self.jobs_table = QTableWidget(0, 4, self.jobs_box)
        self.jobs_table.setObjectName("notesJobs")
        self.jobs_table.setHorizontalHeaderLabels(
            [self.tr("Status"), self.tr("Parts"), self.tr("Done"), self.tr("Age")])
        self.jobs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.jobs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.jobs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.jobs_table.verticalHeader().setVisible(False)
        header = self.jobs_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.jobs_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.jobs_table.setWordWrap(False)
        self.jobs_table.setMaximumHeight(140)
        self.cancel_job_button = QPushButton(self.tr("Cancel job"), self.jobs_box)
        self.cancel_job_button.setToolTip(self.tr("Cancel the selected batch job, on the service too"))
        self.cancel_job_button.setEnabled(False)
        self.jobs_label = QLabel(self.jobs_box)
        self.jobs_label.setTextFormat(Qt.TextFormat.PlainText)
        self.jobs_label.setObjectName("notesJobsNotice")
        self.jobs_label.setWordWrap(True)
        layout = QVBoxLayout(self.jobs_box)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(QLabel(self.tr("Batch jobs"), self.jobs_box))
        layout.addWidget(self.jobs_table)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_job_button)
        layout.addLayout(buttons)
        layout.addWidget(self.jobs_label)
        return self.jobs_box

    def _connect_signals(self) -> None:
        self.cancel_job_button.clicked.connect(self._on_cancel_job_button_clicked)
        self.jobs_table.itemSelectionChanged.connect(self._update_job_buttons)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.skipped_button.clicked.connect(self._on_skipped_button_clicked)
        self.index_button.clicked.connect(self.start_index)
        self.cancel_button.clicked.connect(self.cancel_index)
        self.folder_list.currentRowChanged.connect(lambda _row: self._update_folder_buttons())
        self.search_box.textChanged.connect(self._on_search_box_text_changed)
        self.search_box.returnPressed.connect(self.search_now)
        self._search_timer.timeout.connect(self.search_now)
        self.result_list.itemActivated.connect(self._on_result_list_item_activated)
        self.result_list.currentItemChanged.connect(lambda *_: self._update_result_buttons())
        self.result_list.customContextMenuRequested.connect(self._on_result_list_menu)
        self.open_button.clicked.connect(lambda: self.open_path(self.current_path()))
        self.show_button.clicked.connect(lambda: self._show_in_folder(self.current_path()))
        self.copy_button.clicked.connect(lambda: self._copy_path(self.current_path()))
        self.copy_shortcut.activated.connect(lambda: self._copy_path(self.current_path()))

    # -- settings and folders --------------------------------------------------------------

    @property
    def folders(self) -> list[str]:
        return list(self.session.settings.notes_folders)

    def apply_settings(self) -> None:
        """Show the folders of the current settings, watch them, refresh their status.

        Only what this tab depends on counts: typing a system prompt neither restarts the watcher
        nor reads the index again."""
        relevant = self.session.settings.replace(system_prompt="", temperature=0.0, thinking=False,
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
        if not self._watch_enabled or self._closed:
            return
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

    def add_folder(self, folder: str) -> None:
        folder = normalise_folder(folder)
        if folder in self.folders:
            return
        self._save_folders([*self.folders, folder])
        self.start_index()

    def remove_folder(self, folder: str) -> None:
        if folder not in self.folders:
            return
        if self.tasks.running(INDEX_TASK):
            self.tasks.cancel(INDEX_TASK)
        self._save_folders([f for f in self.folders if f != folder])
        self.tasks.start(f"notes-remove-{folder}", self._remove_folder_index(folder))

    def _save_folders(self, folders: list[str]) -> None:
        self.session.settings = self.session.settings.replace(notes_folders=folders)
        if self.session.store is None:  # with a store, its writer saves the change
            settings = self.session.settings
            self.tasks.start("notes-save-settings", asyncio.to_thread(settings_mod.save, settings))
        self.folders_changed.emit(folders)
        self.apply_settings()

    async def _remove_folder_index(self, folder: str) -> None:
        def remove() -> None:
            with NoteStore(self.db_path) as store:
                store.remove_folder(folder)

        await asyncio.to_thread(remove)
        self.refresh_status()
        if self.search_box.text().strip():
            self.search_now()

    def _on_add_button_clicked(self) -> None:
        dialog = QFileDialog(self, self.tr("Choose a folder of notes"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.add_folder)
        dialog.open()  # never exec() inside the qasync loop

    def _on_remove_button_clicked(self) -> None:
        folder = self.current_folder()
        if folder:
            self.remove_folder(folder)

    def _on_skipped_button_clicked(self) -> None:
        folder = self.current_folder()
        if folder:
            self.tasks.start("notes-skipped", self._show_skipped(folder))

    async def _show_skipped(self, folder: str) -> None:
        def read() -> list[SkippedEntry]:
            with NoteStore(self.db_path) as store:
                return store.skipped(folder)

        entries = await asyncio.to_thread(read)
        dialog = SkippedDialog(folder, entries, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def current_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def _update_folder_buttons(self) -> None:
        has = self.current_folder() is not None
        self.remove_button.setEnabled(has)
        self.skipped_button.setEnabled(has)
        self.index_button.setEnabled(bool(self.folders) and not self.tasks.running(INDEX_TASK))

    # -- folder status ---------------------------------------------------------------------

    def refresh_status(self) -> None:
        if not self._closed:
            self.tasks.start(STATUS_TASK, self._refresh_status())

    async def _refresh_status(self) -> None:
        def read() -> tuple[dict[str, FolderStatus], IndexModel | None]:
            with NoteStore(self.db_path) as store:
                return {s.path: s for s in store.folder_statuses()}, store.index_model()

        statuses, model = await asyncio.to_thread(read)
        self._fill_folder_list(statuses)
        self._show_index_model(model)

    def _show_index_model(self, model: IndexModel | None) -> None:
        """Say so when the index was built offline with a model queries cannot use directly."""
        if model is None or not is_async_model(model.model):
            self.index_model_label.setVisible(False)
            return
        self.index_model_label.setText(self.tr(
            "Indexed offline with %1 (%2 dimensions). Searches and changed notes use %3, "
            "which matches it.")
            .replace("%1", model.model).replace("%2", str(model.dimensions))
            .replace("%3", live_model(model.model)))
        self.index_model_label.setVisible(True)

    def _fill_folder_list(self, statuses: dict[str, FolderStatus]) -> None:
        current = self.current_folder()
        self.folder_list.clear()
        for folder in self.folders:
            name = os.path.basename(folder.rstrip(os.sep)) or folder
            text = (f"<b>{html.escape(name)}</b><br><small>{html.escape(folder)}<br>"
                    f"{html.escape(self._status_text(statuses.get(folder)))}</small>")
            item = QListWidgetItem()
            item.setData(PATH_ROLE, folder)
            item.setToolTip(plain_tooltip(folder))
            self._add_rich_item(self.folder_list, item, text)
            if folder == current:
                self.folder_list.setCurrentItem(item)
        if self.folder_list.currentItem() is None and self.folder_list.count():
            self.folder_list.setCurrentRow(0)
        self._update_folder_buttons()

    @staticmethod
    def _add_rich_item(view: QListWidget, item: QListWidgetItem, text: str) -> None:
        """A list row showing wrapped rich text (the list's own rows cannot wrap HTML)."""
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setContentsMargins(6, 4, 6, 4)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        view.addItem(item)
        view.setItemWidget(item, label)
        SearchTab._fit_item(view, item)

    @staticmethod
    def _fit_item(view: QListWidget, item: QListWidgetItem) -> None:
        label = view.itemWidget(item)
        if label is not None:
            width = max(100, view.viewport().width())
            item.setSizeHint(QSize(width, label.heightForWidth(width)))

    def _fit_all_items(self) -> None:
        for view in (self.folder_list, self.result_list):
            for row in range(view.count()):
                self._fit_item(view, view.item(row))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_all_items()

    def _status_text(self, status: FolderStatus | None) -> str:
        if status is None or status.last_indexed_at is None:
            return self.tr("Not indexed yet")
        if status.missing:
            return self.tr("Folder not found (unplugged drive?)")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(status.last_indexed_at))
        text = self.tr("%1 files · %2 chunks · indexed %3").replace("%1", str(status.files)).replace(
            "%2", str(status.chunks)).replace("%3", when)
        if status.embedded < status.chunks:
            text += " · " + self.tr("%1 not yet by meaning").replace("%1", str(status.chunks - status.embedded))
        if status.skipped:
            text += " · " + self.tr("%1 skipped").replace("%1", str(status.skipped))
        return text

    # -- indexing --------------------------------------------------------------------------

    def is_indexing(self) -> bool:
        return self.tasks.running(INDEX_TASK)

    def start_index(self, *, reset: bool = False, confirmed: bool = False) -> None:
        self.resume_jobs()  # at start-up: go on with batch jobs sent in an earlier session
        if not self.folders or self._closed:
            return
        if self.tasks.running(INDEX_TASK):
            if confirmed or reset:
                self._after_index = lambda: self.start_index(reset=reset, confirmed=confirmed)
            else:
                self._rerun_after_index = True
            return
        self._set_indexing(True)  # at once, not when the task first runs
        self.index_started.emit()
        self.progress_label.setText(_core_tr(PHASE_LABELS[Phase.SCANNING]))
        self.tasks.start(INDEX_TASK, self._run_index(reset=reset, confirmed=confirmed))

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

    def _embedder(self) -> Any:
        try:
            return self.session.client()
        except QwenError:
            return None  # no key: keyword search only

    def _set_indexing(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.index_button.setEnabled(not running and bool(self.folders))
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setRange(0, 0)  # busy until the first counts arrive

    async def _run_index(self, *, reset: bool, confirmed: bool) -> None:
        settings = self.session.settings
        embedder = self._embedder()
        ok = False
        try:
            indexer = await Indexer.open(self.db_path, IndexConfig.from_settings(settings), embedder)
        except BaseException:
            self._set_indexing(False)
            self.index_finished.emit(False)
            raise
        try:
            if reset:
                await indexer.reset_for_new_model()
            estimate, _report = await indexer.prepare(settings.notes_folders, self._on_progress)
            if embedder is None:
                self.progress_label.setText(self.tr(
                    "Notes are ready for keyword search. Add your API key in Settings to also "
                    "search by meaning."))
                ok = True
                return
            if estimate.chunks > settings.batch_threshold_chunks and not confirmed:
                self._ask_large_run(estimate)
                return
            if estimate.chunks == 0:
                await indexer.check_model()
            else:
                await indexer.embed_pending(self._on_progress)
            self.progress_label.setText(_core_tr(PHASE_LABELS[Phase.DONE]))
            ok = True
        except asyncio.CancelledError:
            self.progress_label.setText(self.tr(
                "Cancelled. What was indexed is kept; Index now continues from there."))
            raise
        except IndexModelChanged as exc:
            self._ask_reindex(exc)
        except QwenError as error:
            message = QCoreApplication.translate("Errors", error.message)
            if error.kind is ErrorKind.NO_KEY:
                message = self.tr("Add your API key in Settings to search by meaning.")
            self.progress_label.setText(message + " " + self.tr(
                "What was indexed is kept; Index now continues from there."))
            self.progress_label.setToolTip(plain_tooltip(error.details()))
        finally:
            await indexer.close()
            if not self._closed:
                self._set_indexing(False)
                self.index_finished.emit(ok)
                self.refresh_status()
                if self.search_box.text().strip():
                    self.search_now()
                self._start_what_waited()

    def _on_progress(self, progress: IndexProgress) -> None:
        if self._closed:
            return
        self._last_progress = progress
        label = _core_tr(PHASE_LABELS[progress.phase])
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

    def _ask_large_run(self, estimate: IndexEstimate) -> None:
        box = LargeRunDialog(estimate, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._on_large_run_answered(box))
        self.large_run_dialog = box
        self.progress_label.setText(self.tr("Waiting for your answer…"))
        box.open()  # never exec() inside the qasync loop

    def _on_large_run_answered(self, box: LargeRunDialog) -> None:
        self.large_run_dialog = None
        clicked = box.clickedButton()
        if clicked is box.now_button:
            self.start_index(confirmed=True)
        elif clicked is box.batch_button:
            self.start_batch()
        else:
            self.progress_label.setText(self.tr(
                "Not indexed by meaning yet; keyword search works. Index now asks again."))

    # -- batch mode ------------------------------------------------------------------------

    def start_batch(self) -> None:
        """Send the pending parts as batch jobs (they are imported when they are done)."""
        if self._closed:
            return
        if self.tasks.running(INDEX_TASK):
            self._after_index = self.start_batch
            return
        self._set_indexing(True)
        self.index_started.emit()
        self.progress_label.setText(self.tr("Sending your notes to the batch service…"))
        self.tasks.start(INDEX_TASK, self._run_batch_submit())

    async def _run_batch_submit(self) -> None:
        embedder = self._embedder()
        ok = False
        fallback = False
        indexer = None
        try:
            indexer = await Indexer.open(self.db_path, IndexConfig.from_settings(self.session.settings),
                                         embedder)
            batch = BatchIndexer(indexer, self.batch_config)
            report = await batch.submit()
            self.progress_label.setText(self.tr(
                "Sent %1 parts in %2 batch jobs (about CNY %3). Results take from minutes to hours; "
                "they are imported automatically, also after Qwen Desktop was closed.")
                .replace("%1", f"{report.chunks:,}").replace("%2", str(len(report.jobs)))
                .replace("%3", cny(report.cost_cny)))
            ok = True
        except BatchUnavailable as exc:
            log.warning("batch mode unavailable: %s", exc)
            self.progress_label.setText(self.tr(
                "Batch mode is not available for this model or region (%1). Indexing now instead.")
                .replace("%1", exc.detail))
            fallback = True
        except asyncio.CancelledError:
            self.progress_label.setText(self.tr("Cancelled. Index now asks again."))
            raise
        except IndexModelChanged as exc:
            self._ask_reindex(exc)
        except QwenError as error:
            self.progress_label.setText(QCoreApplication.translate("Errors", error.message))
            self.progress_label.setToolTip(plain_tooltip(error.details()))
        finally:
            if indexer is not None:
                await indexer.close()
            if not self._closed:
                self._set_indexing(False)
                self.index_finished.emit(ok)
                self.refresh_status()
                if ok:
                    self.resume_jobs(restart=True)
                if fallback:
                    self._after_index = lambda: self.start_index(confirmed=True)
                self._start_what_waited()

    def resume_jobs(self, *, restart: bool = False) -> None:
        """Poll the pending batch jobs and import their results (no-op while already doing so)."""
        if self._closed or not self.db_path.exists():
            return
        if restart or not self.tasks.running(JOBS_TASK):
            self.tasks.start(JOBS_TASK, self._run_jobs())

    async def _run_jobs(self) -> None:
        def read() -> list[BatchJob]:
            with NoteStore(self.db_path) as store:
                return JobStore(store).select(pending_only=True)

        jobs = await asyncio.to_thread(read)
        self._show_jobs(jobs)
        if not jobs:
            return
        embedder = self._embedder()
        if embedder is None:
            self._jobs_problem(self.tr("Add your API key in Settings to check on the batch jobs."))
            return
        if self.jobs_label.property("problem"):
            self._jobs_problem("")
        indexer = await Indexer.open(self.db_path, IndexConfig.from_settings(self.session.settings),
                                     embedder)
        try:
            batch = BatchIndexer(indexer, self.batch_config)
            outcomes = await batch.wait(self._show_jobs, retry_live=False)
        except QwenError as error:
            self._jobs_problem(self.tr("Could not check on the batch jobs: %1").replace(
                "%1", QCoreApplication.translate("Errors", error.message)), error.details())
            return
        finally:
            await indexer.close()
        if self._closed:
            return
        self._report_outcomes(outcomes)
        self.refresh_status()
        if self.search_box.text().strip():
            self.search_now()
        if any(o.needs_live_retry for o in outcomes):
            # Lines the service failed, or jobs that failed as a whole: index them live now.
            QTimer.singleShot(0, lambda: self.start_index(confirmed=True))

    def _report_outcomes(self, outcomes: list[JobOutcome]) -> None:
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
                             .replace("%1", _core_tr(STATUS_LABELS[outcome.job.status]))
                             .replace("%2", outcome.job.message or ""))
        if texts:
            self.progress_label.setText(" ".join(texts))

    def _show_jobs(self, jobs: list[BatchJob]) -> None:
        """List the pending jobs (called on every polling round)."""
        if self._closed:
            return
        selected = self.selected_job()
        self.jobs_table.setRowCount(len(jobs))
        now = time.time()
        for row, job in enumerate(jobs):
            status = _core_tr(STATUS_LABELS[job.status])
            if job.cancel_requested and job.status not in (JobStatus.CANCELLING, JobStatus.CANCELLED):
                status = self.tr("%1, cancel requested").replace("%1", status)
            kind = self.tr("Batch API") if job.interface is Interface.OPENAI else self.tr("native task")
            cells = [
                status,
                f"{job.chunks:,}",
                self.tr("%1 of %2").replace("%1", f"{job.lines_done:,}").replace("%2", f"{job.lines:,}")
                + (" · " + self.tr("%1 failed").replace("%1", f"{job.lines_failed:,}")
                   if job.lines_failed else ""),
                self._age_text(job.age(now)),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(JOB_ROLE, job.id)
                item.setToolTip(self.tr("Job %1 · %2 · %3 · created %4").replace("%1", str(job.id))
                                .replace("%2", kind).replace("%3", job.remote_id or "…")
                                .replace("%4", time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at)))
                                + (f"\n{job.message}" if job.message else ""))
                self.jobs_table.setItem(row, column, item)
            if job.id == selected:
                self.jobs_table.selectRow(row)
        self.jobs_box.setVisible(bool(jobs))
        self._update_job_buttons()

    def _jobs_problem(self, text: str, details: str = "") -> None:
        """Why the jobs cannot be checked (cleared once they can)."""
        self.jobs_label.setText(text)
        self.jobs_label.setToolTip(plain_tooltip(details))
        self.jobs_label.setProperty("problem", bool(text))

    def _age_text(self, seconds: float) -> str:
        minutes = int(seconds // 60)
        if minutes < 1:
            return self.tr("just now")
        if minutes < 60:
            return self.tr("%1 min").replace("%1", str(minutes))
        if minutes < 48 * 60:
            return self.tr("%1 h %2 min").replace("%1", str(minutes // 60)).replace("%2", str(minutes % 60))
        return self.tr("%1 days").replace("%1", str(minutes // (24 * 60)))

    def selected_job(self) -> int | None:
        items = self.jobs_table.selectedItems()
        return int(items[0].data(JOB_ROLE)) if items else None

    def _update_job_buttons(self) -> None:
        self.cancel_job_button.setEnabled(
            self.selected_job() is not None and not self.tasks.running(JOB_CANCEL_TASK))

    def _on_cancel_job_button_clicked(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.cancel_job(job_id)

    def cancel_job(self, job_id: int) -> None:
        if self._closed:
            return
        self.cancel_job_button.setEnabled(False)
        self.jobs_label.setText(self.tr("Cancelling the batch job…"))
        self.tasks.start(JOB_CANCEL_TASK, self._run_cancel_job(job_id))

    async def _run_cancel_job(self, job_id: int) -> None:
        embedder = self._embedder()
        if embedder is None:
            self._jobs_problem(self.tr("Add your API key in Settings to check on the batch jobs."))
            return
        indexer = await Indexer.open(self.db_path, IndexConfig.from_settings(self.session.settings),
                                     embedder)
        try:
            await BatchIndexer(indexer, self.batch_config).cancel(job_id)
            self.jobs_label.setText(self.tr(
                "The batch job is being cancelled. Its notes are indexed again the next time you index."))
        except CannotCancel as exc:
            self.jobs_label.setText(self.tr(
                "The service could not cancel this job (%1). It goes on; its results will be imported.")
                .replace("%1", str(exc)))
        except QwenError as error:
            self._jobs_problem(QCoreApplication.translate("Errors", error.message), error.details())
        finally:
            await indexer.close()
            if not self._closed:
                self.resume_jobs(restart=True)
                self._update_job_buttons()

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
            lambda result: self.start_index(reset=True, confirmed=True)
            if result == QMessageBox.StandardButton.Yes else None
        )
        self.progress_label.setText(self.tr("Waiting for your answer…"))
        box.open()

    def _on_watcher_changed(self, paths: set[str]) -> None:
        if self._closed:
            return
        log.info("notes changed on disk (%d paths); indexing", len(paths))
        self.start_index()

    # -- searching -------------------------------------------------------------------------

    def _on_search_box_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def search_now(self) -> None:
        self._search_timer.stop()
        query = self.search_box.text().strip()
        if not query:
            self.tasks.cancel(SEARCH_TASK)
            self._show_hint()
            self.notice_label.setVisible(False)
            self._update_result_buttons()
            return
        self.tasks.start(SEARCH_TASK, self._run_search(query))

    def _show_hint(self) -> None:
        """What the empty result list says: how to start."""
        self.result_list.clear()
        if self.folders:
            text = self.tr("Type a few words to find notes by meaning, or an exact term such as an "
                           "error code. Results appear as you type.")
        else:
            text = self.tr("Add a folder of notes on the left. Qwen Desktop reads it, keeps it up to "
                           "date, and finds notes by meaning.")
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.result_list.addItem(item)

    async def _run_search(self, query: str) -> None:
        searcher = await self.searchers.get()
        searcher.embedder = self._embedder()
        results = await searcher.search(query, k=20)
        if self._closed or query != self.search_box.text().strip():
            return
        self._show_results(results)

    def _show_results(self, results: SearchResults) -> None:
        self.result_list.clear()
        if results.keyword_only:
            if results.error is not None and results.error.kind is ErrorKind.NO_KEY:
                notice = self.tr("Keyword search only: add your API key in Settings to search by meaning.")
            elif results.error is not None:
                notice = self.tr("Keyword search only: %1").replace(
                    "%1", QCoreApplication.translate("Errors", results.error.message))
            else:
                notice = self.tr("Keyword search only: your notes are not indexed by meaning yet.")
            self.notice_label.setText(notice)
        self.notice_label.setVisible(results.keyword_only)
        for hit in results.hits:
            self._add_result(hit)
        if not results.hits:
            item = QListWidgetItem(self.tr("No results."))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.result_list.addItem(item)
        else:
            self.result_list.setCurrentRow(0)
        self._update_result_buttons()
        self.results_shown.emit(len(results.hits))

    def _add_result(self, hit: SearchHit) -> None:
        lines = (self.tr("line %1").replace("%1", str(hit.line_start)) if hit.line_start == hit.line_end
                 else self.tr("lines %1").replace("%1", f"{hit.line_start}–{hit.line_end}"))
        details = [hit.heading] if hit.heading else []
        details += [lines, f"{round(hit.score * 100)}%", hit.folder]
        text = (f"<b>{html.escape(hit.file_name)}</b><br>"
                f"<small>{html.escape(' · '.join(details))}</small><br>{snippet_html(hit.snippet)}")
        item = QListWidgetItem()
        item.setData(PATH_ROLE, hit.path)
        item.setToolTip(plain_tooltip(hit.path))
        self._add_rich_item(self.result_list, item, text)

    def current_path(self) -> str | None:
        item = self.result_list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def _update_result_buttons(self) -> None:
        has = self.current_path() is not None
        for button in (self.open_button, self.show_button, self.copy_button, self.ask_button):
            button.setEnabled(has)

    def _on_result_list_item_activated(self, item: QListWidgetItem) -> None:
        self.open_path(item.data(PATH_ROLE))

    def _on_result_list_menu(self, pos: Any) -> None:
        item = self.result_list.itemAt(pos)
        path = item.data(PATH_ROLE) if item is not None else None
        if not path:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("Open"), lambda: self.open_path(path))
        menu.addAction(self.tr("Show in folder"), lambda: self._show_in_folder(path))
        menu.addAction(self.tr("Copy path"), lambda: self._copy_path(path))
        menu.popup(self.result_list.viewport().mapToGlobal(pos))

    def open_path(self, path: str | None) -> None:
        if path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _show_in_folder(self, path: str | None) -> None:
        if path:
            show_in_folder(path)

    def _copy_path(self, path: str | None) -> None:
        if path:
            QGuiApplication.clipboard().setText(os.path.normpath(path))

    # -- shutdown --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop watching, cancel index and search, close the searcher. Call before quitting."""
        self._closed = True
        if self._watcher is not None:
            watcher, self._watcher = self._watcher, None
            await asyncio.to_thread(watcher.stop)
        for name in (INDEX_TASK, SEARCH_TASK, STATUS_TASK, JOBS_TASK, JOB_CANCEL_TASK):
            task = self.tasks.get(name)
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._owns_searchers:
            await self.searchers.close()
