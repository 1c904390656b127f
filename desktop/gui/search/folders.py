"""The notes folders of the Search tab: the list with each folder's index status, and its buttons.
Removing a folder (the button or the Delete key) asks first, as deleting a conversation does."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Sequence

from PySide6.QtCore import QDir, QStandardPaths, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.i18n import fill
from desktop.core.notes.store import FolderStatus
from desktop.gui.common.confirm import confirm
from desktop.gui.search.rows import add_rich_item
from desktop.gui.common.plain import plain_tooltip
from desktop.gui.common.ui_state import ui_state

PATH_ROLE = Qt.ItemDataRole.UserRole
ADD_DIR_KEY = "search/add_folder_dir"  # UI state: where "Add folder…" starts next time


def add_dialog_start_dir() -> str:
    """Beside the last folder added (its parent) when that is still there, else Documents, else
    home: never the program's own folder, where a file dialog starts when told nothing."""
    last = ui_state().value(ADD_DIR_KEY)
    if isinstance(last, str) and last and os.path.isdir(last):
        return last
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and os.path.isdir(documents) else QDir.homePath()


def remember_added_folder(folder: str) -> None:
    parent = os.path.dirname(os.path.normpath(folder)) or folder
    state = ui_state()
    state.setValue(ADD_DIR_KEY, parent)
    state.sync()


class FolderPanel(QWidget):
    add_requested = Signal(str)  # a folder the user chose
    remove_requested = Signal(str)  # the user confirmed
    skipped_requested = Signal(str)  # show what the index of this folder left out

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setObjectName("notesFolderList")
        self.list.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add folder…"), self)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.setToolTip(self.tr("Stop searching this folder (the files are not touched)"))
        self.skipped_button = QPushButton(self.tr("Skipped files…"), self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.skipped_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("Notes folders"), self))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self.confirm_remove)
        self.delete_shortcut.activated.connect(self.confirm_remove)
        self.skipped_button.clicked.connect(lambda: self._emit_for_current(self.skipped_requested))
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())

    def _emit_for_current(self, signal: Signal) -> None:
        folder = self.current_folder()
        if folder:
            signal.emit(folder)  # type: ignore[attr-defined]

    def confirm_remove(self) -> QMessageBox | None:
        """Ask before removing the selected folder from the search."""
        folder = self.current_folder()
        if not folder:
            return None
        name = os.path.basename(folder.rstrip(os.sep)) or folder
        return confirm(self, self.tr("Remove folder"), fill(self.tr(
            "Stop searching the folder “%1”? Its files are not touched, but its index is "
            "removed: adding the folder again indexes it again (by meaning, that costs tokens)."), name),
            self.tr("Remove"), lambda: self.remove_requested.emit(folder))

    def _choose_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, self.tr("Choose a folder of notes"), add_dialog_start_dir())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(remember_added_folder)
        dialog.fileSelected.connect(self.add_requested.emit)
        dialog.open()  # never exec() inside the qasync loop
        return dialog

    def current_folder(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def _update_buttons(self) -> None:
        has = self.current_folder() is not None
        self.remove_button.setEnabled(has)
        self.skipped_button.setEnabled(has)

    def show_folders(self, folders: Sequence[str], statuses: dict[str, FolderStatus]) -> None:
        current = self.current_folder()
        self.list.clear()
        for folder in folders:
            name = os.path.basename(folder.rstrip(os.sep)) or folder
            text = (f"<b>{html.escape(name)}</b><br><small>{html.escape(folder)}<br>"
                    f"{html.escape(self.status_text(statuses.get(folder)))}</small>")
            item = QListWidgetItem()
            item.setData(PATH_ROLE, folder)
            item.setToolTip(plain_tooltip(folder))
            add_rich_item(self.list, item, text)
            if folder == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def status_text(self, status: FolderStatus | None) -> str:
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
