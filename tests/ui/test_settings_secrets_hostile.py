"""The Settings tab's key and proxy fields, and the window's log file, with hostile input."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import keyring
import keyring.backend
import pytest
from PySide6.QtCore import Qt

from desktop.core import paths
from desktop.core.errors import register_secret
from desktop.core.secrets import KeyStore
from desktop.gui.app import setup_logging
from tests.support.dashscope_server import TEST_KEY
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, configure, harness  # noqa: F401 - the fixture

ZERO_WIDTH_PASTE = f"\ufeff {TEST_KEY[:6]}\u200b{TEST_KEY[6:]}\u200d\n"


class HangingKeyring(keyring.backend.KeyringBackend):
    """A keyring whose writes never return (an unlock prompt nobody answers)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


keyring.backend.KeyringBackend._classes.discard(HangingKeyring)  # type: ignore[attr-defined]


def wait_for_test(loop, tab) -> None:  # type: ignore[no-untyped-def]
    run(loop, until(lambda: tab.test_button.isEnabled() and "Testing" not in tab.test_result.text()))


def test_a_key_pasted_with_invisible_characters_is_saved_clean(harness: Harness, qtbot, srv, loop,  # type: ignore[no-untyped-def] # noqa: F811
                                                                memory_keyring) -> None:
    configure(srv, key=False)
    window = harness.open()
    tab = window.settings_tab
    tab.key_edit.setText(ZERO_WIDTH_PASTE)  # what a paste from a web page or a Windows file gives
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    wait_for_test(loop, tab)
    assert "Connected" in tab.test_result.text()

    changed: list[bool] = []
    tab.key_changed.connect(lambda: changed.append(True))
    qtbot.mouseClick(tab.save_key_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: bool(changed)))
    assert list(memory_keyring.passwords.values()) == [TEST_KEY]
    assert window.session.key is not None and window.session.key.value == TEST_KEY


def test_a_key_that_cannot_be_sent_is_refused_in_the_tab(harness: Harness, qtbot, srv, loop,  # type: ignore[no-untyped-def] # noqa: F811
                                                         memory_keyring) -> None:
    configure(srv, key=False)
    window = harness.open()
    tab = window.settings_tab
    broken = "sk-two words-0123456789"
    tab.key_edit.setText(broken)
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    assert "not a complete API key" in tab.test_result.text()  # said at once, nothing was sent
    qtbot.mouseClick(tab.save_key_button, Qt.MouseButton.LeftButton)
    harness.wait_idle(window)
    assert "not a complete API key" in tab.key_status.text()
    assert "0123456789" not in tab.key_status.text() + tab.test_result.text()
    assert tab.save_key_button.isEnabled()
    assert memory_keyring.passwords == {} and window.session.key is None
    assert srv.requests == []
    qtbot.mouseClick(tab.session_key_button, Qt.MouseButton.LeftButton)  # hidden, but still safe
    assert window.session.key is None


def test_a_keyring_that_never_answers_leaves_the_tab_usable(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, key=False)
    window = harness.open()
    tab = window.settings_tab
    backend = HangingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    window.session.key_store.timeout = 0.5
    try:
        qtbot.keyClicks(tab.key_edit, TEST_KEY)
        qtbot.mouseClick(tab.save_key_button, Qt.MouseButton.LeftButton)
        run(loop, until(lambda: tab.session_key_button.isVisible(), timeout=30))
        assert tab.save_key_button.isEnabled()
        qtbot.mouseClick(tab.session_key_button, Qt.MouseButton.LeftButton)
        assert window.session.key is not None and window.session.key.value == TEST_KEY
    finally:
        backend.release.set()
        keyring.set_keyring(previous)


@pytest.mark.parametrize("proxy", ["http://alice:hunter2secret@[::1", "ftp://alice:hunter2secret@proxy:21"])
def test_a_broken_proxy_address_is_reported_without_its_password(harness: Harness, qtbot, srv, loop,  # type: ignore[no-untyped-def] # noqa: F811
                                                                 proxy: str) -> None:
    configure(srv)
    window = harness.open()
    tab = window.settings_tab
    tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("manual"))
    tab.proxy_url.setText(proxy)
    tab.proxy_url.editingFinished.emit()
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    wait_for_test(loop, tab)
    assert "proxy" in tab.test_result.text().lower()
    assert "hunter2secret" not in tab.test_result.text()
    assert srv.requests == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_window_log_is_private_and_keeps_no_secret(data_dir: Path) -> None:
    odd = "Odd-Shaped.Key.0042"
    register_secret(odd)
    handler = setup_logging()
    try:
        log = logging.getLogger("desktop.test")
        log.warning("request with Authorization: Bearer %s via http://bob:pa55word99@proxy:3128", odd)
        try:
            raise RuntimeError(f"Illegal header value b'Bearer {odd}'")
        except RuntimeError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    log_file = paths.log_dir() / "qwen-desktop.log"
    text = log_file.read_text(encoding="utf-8")
    assert "Bearer" in text and "Traceback" in text
    assert odd not in text and "pa55word99" not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert KeyStore().get() is None
