"""The API key part of the Settings tab: its status line, Save, Delete and "for this session only".

The key goes to the system keyring (off the UI thread); without one it can be used for this session
only and is never written to disk. Mixed into :class:`desktop.gui.settings.tab.SettingsTab`, whose
widgets it uses; its texts are in the tab's translation context.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QLineEdit

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.i18n import fill
from desktop.core.secrets import (
    KEYRING_TIMEOUT,
    NO_KEYRING_NOTE,
    KeyringUnavailable,
    KeySource,
    backend_is_usable,
    clean_key,
    keyring_advice,
    mask_key,
)
from desktop.gui.settings.parts import error_text

log = logging.getLogger(__name__)


class KeySection:
    """The key's methods of the Settings tab (the widgets are made by the tab's _setup_ui)."""

    session: Any
    tasks: Any
    key_changed: Any
    welcome: QLabel
    key_edit: QLineEdit
    key_status: QLabel
    save_key_button: Any
    delete_key_button: Any
    session_key_button: Any
    keyring_note: QLabel
    _keyring_checked: bool

    _update_proxy_password_state: Any

    def check_keyring(self) -> None:
        """Find out off the UI thread (D-Bus may block) whether a keyring can keep the key, and
        say so next to the key field, with the fix for this system, before anyone presses Save."""
        self._keyring_checked = True
        self.tasks.start("keyring check", self._check_keyring())

    async def _check_keyring(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            usable = await asyncio.wait_for(loop.run_in_executor(None, backend_is_usable), KEYRING_TIMEOUT)
        except Exception:  # noqa: BLE001 - a keyring that fails or does not answer is not usable
            log.warning("keyring: the check whether it is usable failed", exc_info=True)
            usable = False
        self.show_keyring_note(not usable)

    def show_keyring_note(self, shown: bool) -> None:
        if shown:
            self.keyring_note.setText(
                QCoreApplication.translate("SettingsTab", NO_KEYRING_NOTE) + " "
                + QCoreApplication.translate("SettingsTab", keyring_advice(sys.platform)))
        self.keyring_note.setVisible(shown)

    def update_key_status(self) -> None:
        if not getattr(self, "_keyring_checked", False):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass  # not yet: the window calls this again once its event loop runs
            else:
                self.check_keyring()
        key = self.session.key
        self.welcome.setVisible(key is None)
        if key is None:
            text = QCoreApplication.translate("SettingsTab", "No API key is set.")
        elif key.source is KeySource.ENVIRONMENT:
            text = fill(QCoreApplication.translate(
                "SettingsTab", "Using the key from the DASHSCOPE_API_KEY environment variable (%1). "
                               "It takes precedence over a saved key."), mask_key(key.value))
        elif key.source is KeySource.SESSION:
            text = fill(QCoreApplication.translate(
                "SettingsTab", "Using %1 for this session only; it will be forgotten when the app "
                               "closes."), mask_key(key.value))
        else:
            text = fill(QCoreApplication.translate("SettingsTab", "Saved in the system keyring (%1)."),
                        mask_key(key.value))
        self.key_status.setText(text)
        self.delete_key_button.setEnabled(key is not None and key.source is not KeySource.ENVIRONMENT)
        self._update_proxy_password_state()  # read from the keyring with the key

    def _on_show_key_toggled(self, shown: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def _typed_key(self, show_problem_in: QLabel) -> str | None:
        """The key in the field as the user meant it (see clean_key), or None after saying why not."""
        try:
            return clean_key(self.key_edit.text())
        except QwenError as error:
            if error.kind is ErrorKind.NO_KEY:
                show_problem_in.setText(QCoreApplication.translate("SettingsTab", "Paste a key first."))
            else:
                show_problem_in.setText(error_text(error.kind))
            return None

    def save_key(self) -> None:
        key = self._typed_key(self.key_status)
        if key is None:
            self.session_key_button.setVisible(False)
            return
        self.tasks.start("key", self._save_key(key))

    async def _save_key(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        self.save_key_button.setEnabled(False)
        try:
            await loop.run_in_executor(None, self.session.key_store.save, key)
        except KeyringUnavailable:
            self.key_status.setText(QCoreApplication.translate("SettingsTab",
                "No system keyring is available, so the key cannot be stored safely. You can use "
                "it for this session only; it will not be written to disk."))
            self.session_key_button.setVisible(True)
            self.show_keyring_note(True)
            return
        except QwenError as error:
            self.key_status.setText(error_text(error.kind))
            return
        finally:
            self.save_key_button.setEnabled(True)
        self.key_edit.clear()
        self.session_key_button.setVisible(False)
        self.show_keyring_note(False)
        await self.session.refresh_key()
        self.update_key_status()
        self.key_changed.emit()

    def use_key_for_session(self) -> None:
        key = self._typed_key(self.key_status)
        if key is None:
            self.session_key_button.setVisible(False)
            return
        self.session.key_store.use_for_session(key)
        self.session.load_key()  # memory only: the environment still wins, no keyring is read
        self.key_edit.clear()
        self.session_key_button.setVisible(False)
        self.update_key_status()
        self.key_changed.emit()

    def delete_key(self) -> None:
        self.tasks.start("key", self._delete_key())

    async def _delete_key(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.session.key_store.delete)
        except KeyringUnavailable:
            self.key_status.setText(error_text(ErrorKind.KEYRING))
            return
        await self.session.refresh_key()
        self.update_key_status()
        self.key_changed.emit()

