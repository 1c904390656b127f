"""The main window: Chat and Settings tabs (Search joins them), geometry kept across restarts."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QByteArray, QSettings, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from desktop import APP_NAME
from desktop.core import paths
from desktop.core.chat import ChatService
from desktop.core.runtime import Session
from desktop.ui.chat_tab import ChatTab
from desktop.ui.settings_tab import SettingsTab
from desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


def ui_state() -> QSettings:
    """Window geometry and other UI state: QSettings in the data dir, apart from user settings."""
    return QSettings(str(paths.data_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, session: Session, chat_service: ChatService, tasks: TaskRunner,
                 icon: QIcon | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tasks = tasks
        self.setWindowTitle(APP_NAME)
        if icon is not None:
            self.setWindowIcon(icon)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.chat_tab = ChatTab(session, chat_service, tasks, self)
        self.settings_tab = SettingsTab(session, tasks, self)
        self.tabs.addTab(self.chat_tab, self.tr("Chat"))
        self.tabs.addTab(self.settings_tab, self.tr("Settings"))
        self.setCentralWidget(self.tabs)
        self.resize(1100, 760)
        self._restore_state()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.chat_tab.settings_requested.connect(self.show_settings)
        self.settings_tab.settings_changed.connect(self.chat_tab.apply_settings)
        self.settings_tab.key_changed.connect(self._on_settings_key_changed)

    async def start(self) -> None:
        """Read the key off the UI thread, then open on Chat, or on Settings when there is no key."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.session.load_key)
        except Exception:  # a broken keyring must not stop the window
            log.exception("could not read the API key")
        self.settings_tab.update_key_status()
        self.chat_tab.open_latest()
        if self.session.key is None:
            self.show_settings()
        else:
            self.show_chat()

    def show_chat(self) -> None:
        self.tabs.setCurrentWidget(self.chat_tab)
        self.chat_tab.composer.setFocus()

    def show_settings(self) -> None:
        self.tabs.setCurrentWidget(self.settings_tab)
        if self.session.key is None:
            self.settings_tab.key_edit.setFocus()

    def _on_settings_key_changed(self) -> None:
        if self.session.key is not None and self.chat_tab.composer.toPlainText().strip():
            self.show_chat()  # the user was sent here from a message they wanted to send

    def _restore_state(self) -> None:
        state = ui_state()
        geometry = state.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = state.value("chat/splitter")
        if isinstance(splitter, QByteArray):
            self.chat_tab.splitter.restoreState(splitter)

    def save_state(self) -> None:
        state = ui_state()
        state.setValue("window/geometry", self.saveGeometry())
        state.setValue("chat/splitter", self.chat_tab.splitter.saveState())
        state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_state()
        event.accept()
        self.closed.emit()
