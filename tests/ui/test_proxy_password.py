"""The proxy password in the Settings tab: its own hidden field, kept in the keyring (or for the
session only), never in settings.json or any other file — and the chat still goes through the
proxy with it (a real forwarding proxy on 127.0.0.1 that records Proxy-Authorization)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import keyring
import keyring.backends.null
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from desktop.core.proxy_password import PROXY_USERNAME, split_password
from desktop.core.secrets import SERVICE
from tests.support.dashscope_server import TEST_KEY
from tests.support.qt_async import run, until
from tests.support.recording_proxy import RecordingProxy, basic
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401

PASSWORD = "pr0xy-S3cret/#@x"


def files_holding(directory: Path, secret: str) -> list[Path]:
    forms = {secret.encode(), quote(secret, safe="").encode()}
    return [p for p in directory.rglob("*") if p.is_file() and any(f in p.read_bytes() for f in forms)]


def chat_once(qtbot, loop, window) -> None:  # type: ignore[no-untyped-def]
    before = len(bodies(window))
    type_and_send(qtbot, window, "through the proxy")
    run(loop, until(lambda: len(bodies(window)) == before + 2 and not window.chat_tab.is_busy()))


def test_a_password_typed_in_its_field_goes_to_the_keyring_and_to_the_proxy(  # type: ignore[no-untyped-def] # noqa: F811
        harness: Harness, qtbot, srv, loop, memory_keyring, data_dir: Path) -> None:
    with RecordingProxy(require=basic("alice", PASSWORD)) as proxy:
        configure(srv, proxy_mode="manual", proxy_url=f"http://alice@127.0.0.1:{proxy.port}")
        window = harness.open()
        tab = window.settings_tab
        assert tab.proxy_password.echoMode() is QLineEdit.EchoMode.Password
        assert tab.proxy_password.isEnabled()
        qtbot.keyClicks(tab.proxy_password, PASSWORD)
        qtbot.keyClick(tab.proxy_password, Qt.Key.Key_Return)
        assert tab.proxy_password.text() == ""
        run(loop, until(lambda: not tab.proxy_password_status.isHidden()))
        assert "keyring" in tab.proxy_password_status.text()
        assert memory_keyring.passwords[(SERVICE, PROXY_USERNAME)] == PASSWORD
        assert tab.forget_proxy_password_button.isEnabled()

        chat_once(qtbot, loop, window)
        assert bodies(window)[-1] == "Echo: through the proxy"
        assert proxy.authorizations[-1] == basic("alice", PASSWORD)
        assert srv.chat_requests()[-1]["messages"][-1]["content"] == "through the proxy"
        harness.close(window)  # what is pending in settings reaches the disk
    assert window.session.settings.proxy_url == f"http://alice@127.0.0.1:{proxy.port}"
    assert files_holding(data_dir, PASSWORD) == []


def test_a_password_typed_into_the_address_leaves_it_for_the_keyring(  # type: ignore[no-untyped-def] # noqa: F811
        harness: Harness, qtbot, srv, loop, memory_keyring, data_dir: Path) -> None:
    configure(srv)
    window = harness.open()
    tab = window.settings_tab
    tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("manual"))
    tab.proxy_url.setText(f"http://alice:{quote(PASSWORD, safe='')}@127.0.0.1:3128")
    tab.proxy_url.editingFinished.emit()
    assert tab.proxy_url.text() == "http://alice@127.0.0.1:3128"  # shown without it at once
    run(loop, until(lambda: (SERVICE, PROXY_USERNAME) in memory_keyring.passwords))
    assert memory_keyring.passwords[(SERVICE, PROXY_USERNAME)] == PASSWORD
    harness.wait_idle(window)
    assert split_password(window.session.config().proxy_url) == ("http://alice@127.0.0.1:3128", PASSWORD)

    qtbot.mouseClick(tab.forget_proxy_password_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: (SERVICE, PROXY_USERNAME) not in memory_keyring.passwords))
    harness.wait_idle(window)
    assert window.session.config().proxy_url == "http://alice@127.0.0.1:3128"
    harness.close(window)
    assert files_holding(data_dir, PASSWORD) == []


def test_without_a_keyring_the_password_is_for_this_session_only(  # type: ignore[no-untyped-def] # noqa: F811
        harness: Harness, qtbot, srv, loop, data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    keyring.set_keyring(keyring.backends.null.Keyring())
    with RecordingProxy(require=basic("alice", PASSWORD)) as proxy:
        configure(srv, key=False, proxy_mode="manual", proxy_url=f"http://alice@127.0.0.1:{proxy.port}")
        window = harness.open()
        tab = window.settings_tab
        qtbot.keyClicks(tab.proxy_password, PASSWORD)
        qtbot.keyClick(tab.proxy_password, Qt.Key.Key_Return)
        run(loop, until(lambda: not tab.proxy_password_status.isHidden()))
        assert "session only" in tab.proxy_password_status.text()
        chat_once(qtbot, loop, window)
        assert proxy.authorizations[-1] == basic("alice", PASSWORD)
        harness.close(window)
    assert files_holding(data_dir, PASSWORD) == []


def test_a_password_left_in_an_old_settings_file_is_moved_out_at_start(  # type: ignore[no-untyped-def] # noqa: F811
        harness: Harness, qtbot, srv, loop, memory_keyring, data_dir: Path) -> None:
    with RecordingProxy(require=basic("alice", PASSWORD)) as proxy:
        configure(srv, proxy_mode="manual",
                  proxy_url=f"http://alice:{quote(PASSWORD, safe='')}@127.0.0.1:{proxy.port}")
        assert files_holding(data_dir, PASSWORD)  # the old file holds it
        window = harness.open()
        harness.wait_idle(window)
        tab = window.settings_tab
        assert tab.proxy_url.text() == f"http://alice@127.0.0.1:{proxy.port}"
        assert memory_keyring.passwords[(SERVICE, PROXY_USERNAME)] == PASSWORD
        chat_once(qtbot, loop, window)
        assert proxy.authorizations[-1] == basic("alice", PASSWORD)
        harness.close(window)
    assert files_holding(data_dir, PASSWORD) == []
