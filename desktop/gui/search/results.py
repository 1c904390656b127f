"""The search side of the Search tab: the search box, the results, and what to do with one."""

from __future__ import annotations

import html
import os
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import ErrorKind
from desktop.core.notes.search import SearchHit, SearchResults
from desktop.gui.search.rows import add_rich_item, open_file, show_in_folder, snippet_html
from desktop.gui.common.plain import plain_label, plain_tooltip, search_field

PATH_ROLE = Qt.ItemDataRole.UserRole


class ResultsPanel(QWidget):
    ask_requested = Signal(str)  # "Ask Qwen about these results": the query

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_box = search_field(self, "notesSearch", self.tr("Search your notes by meaning or exact words…"))
        self.notice_label = plain_label(self, "notesNotice", visible=False)
        self.list = QListWidget(self)
        self.list.setObjectName("notesResults")
        self.list.setWordWrap(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.open_button = QPushButton(self.tr("Open"), self)
        self.show_button = QPushButton(self.tr("Show in folder"), self)
        self.copy_button = QPushButton(self.tr("Copy path"), self)
        # What an Open or Show in folder that did not work says (just above the buttons the user pressed).
        self.open_status = plain_label(self, "notesOpenStatus", visible=False)
        self.ask_button = QPushButton(self.tr("Ask Qwen about these results"), self)
        self.ask_button.setToolTip(self.tr("Ask a question about the search in a new chat, answered "
                                           "from your notes with sources"))
        self.best_first = QCheckBox(self.tr("Best match first"), self)
        self.best_first.setObjectName("bestMatchFirst")
        self.best_first.setToolTip(self.tr("Reorder the best results with a rerank model (needs your API "
                                           "key; costs a little per search)"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.copy_button)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_box, 1)
        search_row.addWidget(self.best_first)
        search_row.addWidget(self.ask_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(search_row)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.open_status)
        layout.addLayout(buttons)
        self.copy_shortcut = QShortcut(QKeySequence.StandardKey.Copy, self.list)
        self.copy_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.into_results_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Down), self.search_box)
        self.into_results_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._connect_signals()
        self._update_buttons()

    def _connect_signals(self) -> None:
        self.ask_button.clicked.connect(lambda: self.ask_requested.emit(self.query()))
        self.list.itemActivated.connect(lambda item: self.open_path(item.data(PATH_ROLE)))
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.customContextMenuRequested.connect(self._on_list_menu)
        self.open_button.clicked.connect(lambda: self.open_path(self.current_path()))
        self.show_button.clicked.connect(lambda: self._show_in_folder(self.current_path()))
        self.copy_button.clicked.connect(lambda: self._copy_path(self.current_path()))
        self.copy_shortcut.activated.connect(lambda: self._copy_path(self.current_path()))
        self.into_results_shortcut.activated.connect(self.focus_results)
        self.search_box.returnPressed.connect(self.focus_results)

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def focus_results(self) -> None:
        """Down or Enter in the search box: into the results, on the first one (Enter opens it)."""
        first = next((row for row in range(self.list.count())
                      if self.list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled), None)
        if first is None:
            return
        if self.list.currentItem() is None or not self.list.currentItem().flags() & Qt.ItemFlag.ItemIsEnabled:
            self.list.setCurrentRow(first)
        self.list.setFocus(Qt.FocusReason.TabFocusReason)

    def query(self) -> str:
        return self.search_box.text().strip()

    def show_hint(self, has_folders: bool) -> None:
        """What the empty result list says: how to start."""
        self.list.clear()
        self._say_open_failed(None)
        self.notice_label.setVisible(False)
        if has_folders:
            text = self.tr("Type a few words to find notes by meaning, or an exact term such as an "
                           "error code. Results appear as you type.")
        else:
            text = self.tr("Add a folder of notes on the left. Qwen Desktop reads it, keeps it up to "
                           "date, and finds notes by meaning.")
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.list.addItem(item)
        self._update_buttons()

    def show_results(self, results: SearchResults) -> None:
        self.list.clear()
        self._say_open_failed(None)
        notices: list[str] = []
        if results.keyword_only:
            if results.error is not None and results.error.kind is ErrorKind.NO_KEY:
                notices.append(self.tr("Keyword search only: add your API key in Settings to search by meaning."))
            elif results.error is not None:
                notices.append(self.tr("Keyword search only: %1").replace(
                    "%1", QCoreApplication.translate("Errors", results.error.message)))
            else:
                notices.append(self.tr("Keyword search only: your notes are not indexed by meaning yet."))
        if results.reranked is False:
            notices.append(self.tr("Best match first could not be used just now; the results are in "
                                   "the usual order."))
        if results.exact is False:
            if not results.hits:
                notice = self.tr("No note contains “%1” exactly.")
            elif results.keyword_only:
                notice = self.tr("No note contains “%1” exactly; these are the closest matches.")
            else:
                notice = self.tr("No note contains “%1” exactly; these are the closest by meaning.")
            notices.append(notice.replace("%1", results.exact_text or results.query))
        self.notice_label.setText("\n".join(notices))
        self.notice_label.setVisible(bool(notices))
        for hit in results.hits:
            self._add_result(hit)
        if not results.hits:
            item = QListWidgetItem(self.tr("No results."))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        else:
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _add_result(self, hit: SearchHit) -> None:
        lines = (self.tr("line %1").replace("%1", str(hit.line_start)) if hit.line_start == hit.line_end
                 else self.tr("lines %1").replace("%1", f"{hit.line_start}–{hit.line_end}"))
        details = [hit.heading] if hit.heading else []
        details.append(lines)
        # Only what the user can trust: an exact match says so; a percentage is the meaning
        # similarity, shown only when the search by meaning found the note.
        if hit.exact:
            details.append(self.tr("exact match"))
        if hit.similarity_percent is not None:
            details.append(self.tr("%1% similar in meaning").replace("%1", str(hit.similarity_percent)))
        details.append(hit.folder)
        text = (f"<b>{html.escape(hit.file_name)}</b><br>"
                f"<small>{html.escape(' · '.join(details))}</small><br>{snippet_html(hit.snippet)}")
        item = QListWidgetItem()
        item.setData(PATH_ROLE, hit.path)
        item.setToolTip(plain_tooltip(hit.path))
        add_rich_item(self.list, item, text)

    def hit_count(self) -> int:
        """How many results are listed."""
        return sum(self.list.item(row).data(PATH_ROLE) is not None for row in range(self.list.count()))

    def current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def _update_buttons(self) -> None:
        has = self.current_path() is not None
        for button in (self.open_button, self.show_button, self.copy_button, self.ask_button):
            button.setEnabled(has)

    def _on_list_menu(self, pos: Any) -> None:
        item = self.list.itemAt(pos)
        path = item.data(PATH_ROLE) if item is not None else None
        if not path:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("Open"), lambda: self.open_path(path))
        menu.addAction(self.tr("Show in folder"), lambda: self._show_in_folder(path))
        menu.addAction(self.tr("Copy path"), lambda: self._copy_path(path))
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def open_path(self, path: str | None) -> None:
        """Open a result with the system's app, or say in plain words why it did not open."""
        if not path or not self._still_there(path):
            return
        if open_file(path):
            self._say_open_failed(None)
        else:
            self._say_open_failed(self.tr("Could not open %1: no app on this computer opened it.")
                                  .replace("%1", os.path.normpath(path)))

    def _show_in_folder(self, path: str | None) -> None:
        if not path or not self._still_there(path):
            return
        if show_in_folder(path):
            self._say_open_failed(None)
        else:
            self._say_open_failed(self.tr("Could not show %1 in its folder.")
                                  .replace("%1", os.path.normpath(path)))

    def _still_there(self, path: str) -> bool:
        """A note moved or deleted since the index run is still listed: say so instead of handing
        the system a path it can only fail on (often without a word)."""
        if os.path.exists(path):
            return True
        self._say_open_failed(self.tr("This file is no longer there: %1").replace("%1", os.path.normpath(path)))
        return False

    def _say_open_failed(self, text: str | None) -> None:
        self.open_status.setText(text or "")
        self.open_status.setVisible(bool(text))

    def _copy_path(self, path: str | None) -> None:
        if path:
            QGuiApplication.clipboard().setText(os.path.normpath(path))
