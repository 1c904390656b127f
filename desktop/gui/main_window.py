"""The main window: Chat and Settings tabs (Search joins them), geometry kept across restarts."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMessageBox, QScrollArea, QSplitter, QTabWidget, QWidget

from desktop import APP_NAME
from desktop.core import client, markdown
from desktop.core.appcontext import AppContext
from desktop.core.recovery import DataFile, Recovery
from desktop.core.settings import Settings
from desktop.core.errors import MESSAGES, ErrorKind, QwenError
from desktop.gui.search.tab import SearchTab
from desktop.gui.chat.tab import ChatTab
from desktop.gui.common.ui_state import ui_state
from desktop.gui.settings.backups import BackupsSection
from desktop.gui.settings.tab import SettingsTab
from desktop.core.tasks import TaskRunner

log = logging.getLogger(__name__)

# Fields only the chat uses: a change to one of them leaves the Search tab (and its watcher) alone.
CHAT_ONLY_FIELDS = frozenset({"system_prompt", "temperature", "thinking", "web_search", "model", "language"})


def warm_up() -> None:
    """One-time costs of the first reply (SDK imports, TLS trust store, highlighter lexers)."""
    try:
        client.warm_up()
        markdown.warm_up()
    except Exception:  # only an optimisation
        log.exception("warm-up failed")


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, context: AppContext, tasks: TaskRunner, icon: QIcon | None = None,
                 parent: QWidget | None = None, *, watch: bool = True, catch_up: bool = True) -> None:
        """``watch``: index notes changed on disk; ``catch_up``: index what changed while the app
        was closed when the window starts (tests turn both off)."""
        super().__init__(parent)
        self.context = context
        self.session = session = context.session
        self.tasks = tasks
        self.catch_up = catch_up
        self._shut_down = False
        self.recovery_box: QMessageBox | None = None
        self.warmed_up: asyncio.Future[None] | None = None
        self.setWindowTitle(APP_NAME)
        if icon is not None:
            self.setWindowIcon(icon)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.chat_tab = ChatTab(session, context.chat, tasks, self)
        self.settings_tab = SettingsTab(session, tasks, self)
        self.search_tab = SearchTab(context.notes, tasks, self, watch=watch)
        self.backups = BackupsSection(context, tasks, self.settings_tab)
        self.settings_tab.add_section(self.backups)
        self.tabs.addTab(self.chat_tab, self.tr("Chat"))
        self.tabs.addTab(self.search_tab, self.tr("Search"))
        self.tabs.addTab(self.settings_tab, self.tr("Settings"))
        self.setCentralWidget(self.tabs)
        self.resize(1100, 760)
        self._restore_state()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.chat_tab.settings_requested.connect(self.show_settings)
        store = self.session.store
        if store is not None:  # the settings store says what changed, whoever changed it
            store.subscribe(self._on_settings_changed)
        else:
            self.settings_tab.settings_changed.connect(self.chat_tab.apply_settings)
            self.settings_tab.settings_changed.connect(self.search_tab.apply_settings)
            self.search_tab.folders_changed.connect(lambda _folders: self.chat_tab.apply_settings())
        self.search_tab.ask_requested.connect(self._on_search_tab_ask_requested)
        self.chat_tab.model_chosen.connect(self.settings_tab.show_model)
        self.find_shortcut = QShortcut(QKeySequence.StandardKey.Find, self)
        self.find_shortcut.activated.connect(self.focus_search)
        self.settings_tab.key_changed.connect(self._on_settings_key_changed)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.tasks.on_failure = self._on_task_failed
        self.backups.busy = self.chat_tab.is_busy
        self.backups.restored.connect(self._on_backup_restored)

    def _on_settings_changed(self, _settings: Settings, changed: frozenset[str]) -> None:
        """A field changed (in Settings, or the folder list from the Search tab): only the tabs
        that depend on it hear of it, so typing a system prompt does not touch the notes."""
        if self._shut_down:
            return
        self.chat_tab.apply_settings()
        if changed - CHAT_ONLY_FIELDS:
            self.search_tab.apply_settings()

    def _on_task_failed(self, _name: str, exc: BaseException) -> None:
        """A task outside a chat turn failed: say so in plain words (the log has the traceback)."""
        # Not translate_error: it reads any OSError as a network failure, and a background task's
        # OSError is as likely a disk or a file.
        if isinstance(exc, QwenError) and exc.kind is not ErrorKind.UNKNOWN:
            text = QCoreApplication.translate("Errors", MESSAGES[exc.kind])
        else:
            text = self.tr("Something went wrong in the background. The log file in the data "
                           "folder has the details.")
        self.statusBar().showMessage(text, 15_000)

    async def start(self) -> None:
        """Read the key off the UI thread, then open on Chat, or on Settings when there is no key."""
        loop = asyncio.get_running_loop()
        try:
            await self.session.refresh_key()
        except Exception:  # a broken keyring must not stop the window
            log.exception("could not read the API key")
        self.settings_tab.update_key_status()
        self.warmed_up = loop.run_in_executor(None, warm_up)
        self.chat_tab.open_latest()
        if self.catch_up and self.search_tab.folders:
            self.search_tab.start_index()  # catch up with what changed while the app was closed
        if self.session.key is None:  # a new computer: the key is the one thing a backup lacks
            self.show_settings()
            scroll = self.settings_tab.findChild(QScrollArea)
            if scroll is not None:
                scroll.ensureWidgetVisible(self.settings_tab.key_edit)
        else:
            self.show_chat()
        for recovery in self.context.recoveries:
            self.show_recovery(recovery)
        self.backups.start_daily()

    def _on_backup_restored(self, _restored: object) -> None:
        """A restore replaced the history and the settings: show them as they are now."""
        self.settings_tab.reload()
        self.chat_tab.reload_conversations()
        self.chat_tab.open_latest()
        if self.session.key is None:  # a new computer: the key is the one thing a backup lacks
            self.show_settings()
            scroll = self.settings_tab.findChild(QScrollArea)
            if scroll is not None:
                scroll.ensureWidgetVisible(self.settings_tab.key_edit)

    def show_recovery(self, recovery: Recovery) -> QMessageBox:
        """Say in plain words that a damaged data file was set aside and what the app uses instead."""
        kept = str(recovery.kept_at) if recovery.kept_at else self.tr("(it could not be moved)")
        title = self.tr("Settings recovered")
        if recovery.file is DataFile.HISTORY:
            title = self.tr("Conversation history damaged")
            text = self.tr("Your conversation history could not be read because its file is damaged. "
                           "Qwen Desktop set the file aside and started a new, empty history; new "
                           "conversations are saved as usual. The old ones may still be recovered from "
                           "the damaged file.")
        elif recovery.restored_from is not None:
            text = self.tr("Your settings file was damaged. Qwen Desktop is using the settings it last "
                           "saved, so nothing should be missing.")
        else:
            text = self.tr("Your settings file was damaged and no earlier copy was found, so Qwen Desktop "
                           "started with default settings. Your conversations and the index of your "
                           "notes are kept; add your notes folders again in the Search tab.")
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(self.tr("The damaged file was kept as: %1").replace("%1", kept))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.recovery_box = box
        box.open()  # never exec() inside the qasync loop
        return box

    def show_chat(self) -> None:
        self.tabs.setCurrentWidget(self.chat_tab)
        self.chat_tab.composer.setFocus()

    def focus_search(self) -> None:
        """Ctrl+F: the search box of the tab in front (the conversations', or the notes')."""
        current = self.tabs.currentWidget()
        if current is self.chat_tab:
            self.chat_tab.focus_search()
        elif current is self.search_tab:
            self.search_tab.focus_search()

    def show_settings(self) -> None:
        self.tabs.setCurrentWidget(self.settings_tab)
        if self.session.key is None:
            self.settings_tab.key_edit.setFocus()

    def _on_tabs_current_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if current is self.search_tab:
            self.search_tab.search_box.setFocus()
        elif current is self.chat_tab:
            self.chat_tab.composer.setFocus()

    def _on_search_tab_ask_requested(self, query: str) -> None:
        """A new chat with a question about the search to phrase, the results attached."""
        self.show_chat()
        self.chat_tab.ask_about_notes(query, self.search_tab.results.hit_count())

    def _on_settings_key_changed(self) -> None:
        if self.session.key is not None and self.chat_tab.composer.toPlainText().strip():
            self.show_chat()  # the user was sent here from a message they wanted to send

    def _restore_state(self) -> None:
        state = ui_state()
        geometry = state.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for key, splitter in self._splitters().items():
            saved = state.value(key)
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)

    def _splitters(self) -> dict[str, QSplitter]:
        return {"chat/splitter": self.chat_tab.splitter, "search/splitter": self.search_tab.splitter}

    async def shutdown(self) -> None:
        """Stop what the tabs run (the notes watcher, index runs, searches) before the loop ends."""
        self._shut_down = True
        await self.search_tab.aclose()
        await self.chat_tab.aclose()

    def save_state(self) -> None:
        state = ui_state()
        state.setValue("window/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            state.setValue(key, splitter.saveState())
        state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_state()
        event.accept()
        self.closed.emit()
