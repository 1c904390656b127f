"""Settings → Backups: the list of backups, Back up now, Restore…, Export everything…, Import…,
where backups go and whether they hold the notes index.

Everything that touches the disk runs in the core's :class:`BackupService`, off the UI thread; this
section only asks and shows. A restore shows what the backup holds and what it replaces first; when
it is done the window reloads (``restored``), and after an import without a key it asks for one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QDateTime, QLocale, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.appcontext import AppContext
from desktop.core.backup.archive import NOTES, BackupInfo, BackupRefused, Kind
from desktop.core.backup.service import BackupService, Restored, RestoreFailed, RestorePlan
from desktop.core.errors import QwenError
from desktop.core.i18n import QT_TRANSLATE_NOOP, fill
from desktop.core.tasks import TaskRunner

log = logging.getLogger(__name__)

KIND_LABELS: dict[Kind, str] = {
    Kind.DAILY: QT_TRANSLATE_NOOP("Backups", "Daily"),
    Kind.MANUAL: QT_TRANSLATE_NOOP("Backups", "Made by hand"),
    Kind.UPGRADE: QT_TRANSLATE_NOOP("Backups", "Before an app update"),
    Kind.MIGRATION: QT_TRANSLATE_NOOP("Backups", "Before the history was upgraded"),
    Kind.RESTORE: QT_TRANSLATE_NOOP("Backups", "Before a restore"),
    Kind.EXPORT: QT_TRANSLATE_NOOP("Backups", "Export"),
}
DAILY_DELAY_MS = 20_000  # the day's backup waits until the window has settled
DAILY_CHECK_MS = 3_600_000  # and is looked for again every hour


def tr(text: str) -> str:
    return QCoreApplication.translate("Backups", text)


def when(created: float) -> str:
    return QLocale().toString(QDateTime.fromSecsSinceEpoch(int(created)), QLocale.FormatType.ShortFormat)


def size_text(size: int) -> str:
    return QLocale().formattedDataSize(size, 1, QLocale.DataSizeFormat.DataSizeTraditionalFormat)


def _documents() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


class BackupsSection(QGroupBox):
    restored = Signal(object)  # Restored, after the files were replaced: the window reloads

    def __init__(self, context: AppContext, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert context.backups is not None
        self.context = context
        self.service: BackupService = context.backups
        self.tasks = tasks
        self.busy: Callable[[], bool] = lambda: False  # a reply is arriving: no restore now
        self.dialog: QFileDialog | None = None
        self.box: QMessageBox | None = None
        self._backups: list[BackupInfo] = []
        self._setup_ui()
        self.refresh()

    # -- construction ----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setTitle(self.tr("Backups"))
        intro = QLabel(self.tr(
            "Your conversations and settings are backed up once a day and before every update of the "
            "app. The API key is never part of a backup."), self)
        intro.setWordWrap(True)
        self.list = QTreeWidget(self)
        self.list.setObjectName("backupList")
        self.list.setHeaderLabels([self.tr("Date"), self.tr("Conversations"), self.tr("Size"),
                                   self.tr("Type")])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setMinimumHeight(130)
        self.list.setMaximumHeight(170)
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.back_up_button = QPushButton(self.tr("Back up now"), self)
        self.restore_button = QPushButton(self.tr("Restore…"), self)
        self.restore_button.setEnabled(False)
        self.export_button = QPushButton(self.tr("Export everything…"), self)
        self.import_button = QPushButton(self.tr("Import…"), self)
        buttons = QHBoxLayout()
        for button in (self.back_up_button, self.restore_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.import_button)
        self.status = QLabel(self)
        self.status.setObjectName("backupStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label = QLabel(self)
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_label.setWordWrap(True)
        self.folder_button = QPushButton(self.tr("Change folder…"), self)
        self.default_folder_button = QPushButton(self.tr("Use the default"), self)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        folder_row.addWidget(self.default_folder_button)
        self.with_index = QCheckBox(self.tr("Include the notes index (larger; it can be rebuilt from "
                                            "your notes)"), self)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addLayout(folder_row)
        layout.addWidget(self.with_index)
        prefs = self.service.prefs()
        self.with_index.setChecked(prefs.with_index)
        self._show_folder()
        self.list.currentItemChanged.connect(lambda *_: self._update_enabled())
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button.clicked.connect(self.restore_selected)
        self.export_button.clicked.connect(self.choose_export_file)
        self.import_button.clicked.connect(self.choose_import_file)
        self.folder_button.clicked.connect(self.choose_folder)
        self.default_folder_button.clicked.connect(lambda: self.set_folder(""))
        self.with_index.toggled.connect(self._on_with_index_toggled)

    def _show_folder(self) -> None:
        self.folder_label.setText(fill(self.tr("Backups are kept in %1"), str(self.service.folder())))
        self.default_folder_button.setEnabled(bool(self.service.prefs().folder))

    def _update_enabled(self) -> None:
        self.restore_button.setEnabled(self.list.currentItem() is not None)

    # -- the list --------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tasks.start("backups-list", self._refresh())

    async def _refresh(self) -> None:
        backups = await asyncio.get_running_loop().run_in_executor(None, self.service.backups)
        self.show_backups(backups)

    def show_backups(self, backups: list[BackupInfo]) -> None:
        self._backups = backups
        self.list.clear()
        for info in backups:
            m = info.manifest
            item = QTreeWidgetItem([when(m.created), str(m.conversations), size_text(info.size),
                                    tr(KIND_LABELS[m.kind])])
            item.setData(0, Qt.ItemDataRole.UserRole, str(info.path))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        if not backups and not self.status.text():
            self.status.setText(self.tr("No backups yet."))
        self._update_enabled()

    # -- creating --------------------------------------------------------------------------

    def start_daily(self, delay_ms: int = DAILY_DELAY_MS) -> None:
        """Once the window has settled, today's backup if there is none yet (off the UI thread);
        then every hour the same check, for a window left open past midnight."""
        QTimer.singleShot(delay_ms, self, self._start_daily_task)
        self.daily_timer = QTimer(self)
        self.daily_timer.setInterval(DAILY_CHECK_MS)
        self.daily_timer.timeout.connect(self._start_daily_task)
        self.daily_timer.start()

    def _start_daily_task(self) -> None:
        if not self.tasks.running("daily-backup"):
            self.tasks.start("daily-backup", self.run_daily())

    async def run_daily(self) -> None:
        try:
            info = await asyncio.get_running_loop().run_in_executor(None, self.service.daily)
        except OSError as exc:
            log.error("the daily backup failed: %s", exc)
            self.status.setText(fill(self.tr("Today's backup could not be written: %1"), exc.strerror or str(exc)))
            return
        if info is not None:
            await self._refresh()

    def back_up_now(self) -> None:
        self.tasks.start("backup-now", self._create(Kind.MANUAL, None))

    async def _create(self, kind: Kind, target: Path | None) -> BackupInfo | None:
        self.status.setText(self.tr("Backing up…"))
        self.back_up_button.setEnabled(False)
        try:
            info = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.service.create(kind, target))
        except OSError as exc:
            self.status.setText(fill(self.tr("The backup could not be written: %1"), exc.strerror or str(exc)))
            return None
        except QwenError as exc:
            log.error("backup not written: %s", exc)
            self.status.setText(fill(self.tr("The backup could not be written: %1"),
                                     QCoreApplication.translate("Errors", exc.message)))
            return None
        finally:
            self.back_up_button.setEnabled(True)
        text = fill(self.tr("Backed up %1 conversations (%2) to %3"), info.manifest.conversations,
                    size_text(info.size), str(info.path))
        if info.extra.get("index_left_out"):
            text += "\n" + self.tr("The notes index was left out; it can be rebuilt from your notes.")
        self.status.setText(text)
        await self._refresh()
        return info

    def choose_export_file(self) -> QFileDialog:
        name = time.strftime("Qwen Desktop %Y-%m-%d.zip")
        dialog = QFileDialog(self, self.tr("Export everything"), str(_documents() / name),
                             self.tr("Qwen Desktop backup (*.zip)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("zip")
        dialog.fileSelected.connect(lambda path: self.export_to(Path(path)))
        self.dialog = dialog
        dialog.open()
        return dialog

    def export_to(self, path: Path) -> None:
        self.tasks.start("backup-export", self._create(Kind.EXPORT, path))

    # -- preferences -----------------------------------------------------------------------

    def choose_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, self.tr("Keep backups in"), str(self.service.folder()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda path: self.set_folder(path))
        self.dialog = dialog
        dialog.open()
        return dialog

    def set_folder(self, folder: str) -> None:
        self.tasks.start("backup-folder", self._save_prefs(folder=folder))

    def _on_with_index_toggled(self, checked: bool) -> None:
        self.tasks.start("backup-index", self._save_prefs(with_index=checked))

    async def _save_prefs(self, **changes: object) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, lambda: self.service.update_prefs(**changes))
        except OSError as exc:
            self.status.setText(fill(self.tr("The choice could not be saved: %1"), exc.strerror or str(exc)))
            return
        self._show_folder()
        if "folder" in changes:
            await self._refresh()

    # -- restoring -------------------------------------------------------------------------

    def selected_path(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def restore_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.ask_restore(path)

    def choose_import_file(self) -> QFileDialog:
        dialog = QFileDialog(self, self.tr("Import a backup"), str(_documents()),
                             self.tr("Qwen Desktop backup (*.zip);;All files (*)"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.ask_restore(Path(path), importing=True))
        self.dialog = dialog
        dialog.open()
        return dialog

    def ask_restore(self, path: Path, *, importing: bool = False) -> None:
        """Check the file and say what restoring it replaces (the question comes in ``self.box``)."""
        self.tasks.start("restore", self._ask_restore(path, importing))

    async def _ask_restore(self, path: Path, importing: bool) -> None:
        try:
            plan = await asyncio.get_running_loop().run_in_executor(None, self.service.plan, path)
        except BackupRefused as refused:
            self.refuse(refused)
            return
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Restore a backup"),
                          fill(self.tr("Restore the backup of %1?"), when(plan.info.manifest.created)),
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("restoreQuestion")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(self.plan_text(plan))
        yes = box.addButton(self.tr("Restore"), QMessageBox.ButtonRole.DestructiveRole)
        no = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.restore(path, importing) if button is yes else None)
        self.box = box
        box.open()

    def plan_text(self, plan: RestorePlan) -> str:
        m = plan.info.manifest
        lines = [fill(self.tr("It holds %1 conversations (%2 messages), made by Qwen Desktop %3."),
                      m.conversations, m.messages, m.app_version),
                 fill(self.tr("It replaces your %1 conversations and your settings."),
                      plan.current_conversations)]
        if NOTES in plan.replaces:
            lines.append(self.tr("It also replaces the index of your notes."))
        lines.append(self.tr("The current state is backed up first, so you can go back to it. Your "
                             "API key stays as it is."))
        return "\n\n".join(lines)

    def refuse(self, refused: BackupRefused) -> QMessageBox:
        log.warning("backup refused: %s", refused)
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Restore a backup"),
                          tr(refused.message), QMessageBox.StandardButton.Ok, self)
        box.setObjectName("restoreRefused")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.box = box
        box.open()
        self.status.setText(tr(refused.message))
        return box

    def restore(self, path: Path, importing: bool = False) -> None:
        if self.busy():
            self.status.setText(self.tr("A reply is still arriving. Stop it or let it finish, then "
                                        "restore."))
            return
        self.tasks.start("restore", self._restore(path, importing))

    async def _restore(self, path: Path, importing: bool) -> None:
        self.status.setText(self.tr("Restoring…"))
        for button in (self.restore_button, self.import_button):
            button.setEnabled(False)
        session = self.context.session
        store = session.store
        try:
            restored: Restored = await self.service.restore(
                path, holder=session, flush=store.flush if store is not None else None,
                notes=self.context.notes)
        except BackupRefused as refused:
            self.refuse(refused)
            return
        except RestoreFailed as failed:
            log.error("restore failed midway: %s", failed)
            self.status.setText(fill(tr(failed.message), when(failed.safety.manifest.created)))
            self.restored.emit(None)  # show what is there now
            await self._refresh()
            return
        except OSError as exc:
            self.status.setText(fill(self.tr("The backup could not be restored: %1. Nothing was changed."),
                                     exc.strerror or str(exc)))
            return
        finally:
            self.import_button.setEnabled(True)
            self._update_enabled()
        text = fill(self.tr("Restored %1 conversations."), restored.plan.info.manifest.conversations)
        if restored.safety is not None:
            text += "\n" + fill(self.tr("What was there before is in the backup of %1."),
                               when(restored.safety.manifest.created))
        self.status.setText(text)
        self.restored.emit(restored)
        await self._refresh()
        if importing and session.key is None:
            self.ask_for_key()

    def ask_for_key(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Import a backup"), self.tr(
            "Your conversations and settings are here. Backups never hold the API key: paste your "
            "key in the API key field above and press Save."), QMessageBox.StandardButton.Ok, self)
        box.setObjectName("askForKey")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.box = box
        box.open()
        return box
