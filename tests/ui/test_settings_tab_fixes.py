"""What a new user trips over in the Settings tab (issue 11, items 9 and 15), on the real window
against the loopback server."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QPoint, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QPushButton, QScrollArea

from desktop.core.errors import MESSAGES
from desktop.core.secrets import KeyStore
from desktop.core.settings import DEFAULT_SYSTEM_PROMPT, DEFAULT_SYSTEM_PROMPT_ZH
from desktop.gui.common import i18n
from desktop.gui.settings import parts
from desktop.gui.settings.parts import restart_command
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, configure, harness, type_and_send  # noqa: F401

WRONG_KEY = "sk-wrong" + "0" * 24
_CJK = re.compile(r"[\u4e00-\u9fff]")


def settings_tab(window):  # type: ignore[no-untyped-def]
    window.show_settings()
    return window.settings_tab


def test_a_test_result_goes_when_the_key_url_or_proxy_changes(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv)
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    for change in (lambda: qtbot.keyClicks(tab.key_edit, "sk-"),
                   lambda: qtbot.keyClicks(tab.custom_url, "/"),
                   lambda: tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("none"))):
        tab.key_edit.clear()
        tab.test_connection()
        harness.wait_idle(window)
        assert tab.test_result.text().startswith("Connected."), tab.test_result.text()
        change()
        assert tab.test_result.text() == ""
        harness.wait_idle(window)  # what the change started (the Search tab follows settings)


def test_the_test_leaves_the_focus_and_the_model_alone(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, model="qwen-plus")
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    window.activateWindow()
    tab.test_button.setFocus()
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    harness.wait_idle(window)
    assert tab.test_result.text().startswith("Connected.")
    assert QApplication.focusWidget() is not tab.model_combo.lineEdit()
    assert tab.model_combo.lineEdit().selectedText() == ""
    qtbot.keyClicks(QApplication.focusWidget() or tab, "x")
    assert tab.model_combo.currentText() == "qwen-plus"
    assert window.session.settings.model == "qwen-plus"


def test_messages_in_settings_do_not_send_the_user_to_settings(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, key=False)
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    tab.test_connection()  # no key yet
    assert tab.test_result.text() and "Settings" not in tab.test_result.text()
    for kind, message in MESSAGES.items():
        if "Settings" in message:
            assert "Settings" not in parts.error_text(kind), kind
    KeyStore().save(WRONG_KEY)
    run(loop, window.session.refresh_key())
    tab.test_connection()
    harness.wait_idle(window)
    assert "not accepted" in tab.test_result.text() and "Settings" not in tab.test_result.text()


def test_an_out_of_range_temperature_is_kept_as_typed_then_set_visibly(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, temperature=0.7)
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    window.activateWindow()
    box = tab.temperature
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "3.5")
    assert box.text() == "3.5"  # not ".5" (a refused keystroke) nor 0.50
    assert "0 to 2" in tab.temperature_note.text()
    assert window.session.settings.temperature == 0.7  # nothing invalid is saved
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == 2.0 and window.session.settings.temperature == 2.0
    assert "3.5" in tab.temperature_note.text() and "2.00" in tab.temperature_note.text()
    box.selectAll()
    qtbot.keyClicks(box, "1.2")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.session.settings.temperature == 1.2 and tab.temperature_note.text() == ""
    harness.wait_idle(window)


def test_an_empty_custom_url_asks_for_the_address_and_sends_nothing(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, custom_base_url="")
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    before = len(srv.requests)
    tab.test_connection()
    harness.wait_idle(window)
    assert tab.test_result.text() == "Enter the service address (it starts with https://)."
    tab.refresh_models()
    harness.wait_idle(window)
    assert tab.models_status.text() == "Enter the service address (it starts with https://)."
    assert len(srv.requests) == before


def test_refresh_list_says_what_it_does_and_what_came_of_it(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv)
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    seen: list[str] = []
    original = tab.models_status.setText

    def recording(text: str) -> None:
        seen.append(text)
        original(text)

    tab.models_status.setText = recording  # type: ignore[method-assign]
    tab.refresh_models()
    harness.wait_idle(window)
    assert seen[0] == "Refreshing…"
    assert re.fullmatch(r"\d+ models?", tab.models_status.text()), tab.models_status.text()
    assert int(tab.models_status.text().split()[0]) == tab.model_combo.count()

    KeyStore().save(WRONG_KEY)
    run(loop, window.session.refresh_key())
    tab.refresh_models()
    harness.wait_idle(window)
    assert "not accepted" in tab.models_status.text()


def button_places(tab) -> dict[str, QPoint]:  # type: ignore[no-untyped-def]
    """Where the buttons are on the page (the page, not the tab: scrolling is not moving)."""
    page = tab.findChild(QScrollArea).widget()
    return {b.text(): b.mapTo(page, QPoint(0, 0)) for b in tab.findChildren(QPushButton) if b.isVisible()}


def test_status_lines_do_not_move_the_buttons(harness: Harness, qtbot, srv, loop, memory_keyring) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, key=False, proxy_mode="manual", proxy_url="http://127.0.0.1:9")
    KeyStore().save(WRONG_KEY)
    window = harness.open(catch_up=False)
    window.resize(1000, 900)
    tab = settings_tab(window)
    QApplication.processEvents()
    before = button_places(tab)
    qtbot.keyClicks(tab.proxy_password, "secret")
    qtbot.keyClick(tab.proxy_password, Qt.Key.Key_Return)
    run(loop, until(lambda: not tab.proxy_password_status.isHidden()))
    tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("none"))
    tab.test_connection()
    tab.refresh_models()
    harness.wait_idle(window)
    assert "not accepted" in tab.test_result.text() and "not accepted" in tab.models_status.text()
    QApplication.processEvents()
    after = button_places(tab)
    assert after == before


def test_restart_now_closes_the_window_and_starts_the_app_again(harness: Harness, qtbot, srv, loop, monkeypatch) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv)
    window = harness.open(catch_up=False)
    tab = settings_tab(window)
    assert not tab.restart_button.isVisible()
    tab.language_combo.setCurrentIndex(tab.language_combo.findData("zh_CN"))
    assert tab.restart_button.isVisible() and tab.language_note.isVisible()
    started: list[tuple[str, list[str]]] = []
    tab.start_detached = lambda program, args: started.append((program, args)) or True
    with qtbot.waitSignal(window.closed, timeout=5000):
        qtbot.mouseClick(tab.restart_button, Qt.MouseButton.LeftButton)
        harness.wait_idle(window)
    assert started == [(sys.executable, ["-m", "desktop"])]
    assert not window.isVisible()
    stored = json.loads(Path(window.session.store.path).read_text(encoding="utf-8"))
    assert stored["language"] == "zh_CN"  # written before the new process reads it

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert restart_command() == (sys.executable, [])


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    previous = QLocale()
    translators = i18n.install(qapp, "zh_CN")
    try:
        yield
    finally:
        for translator in translators:
            QCoreApplication.removeTranslator(translator)
        QLocale.setDefault(previous)


def test_the_default_prompt_is_chinese_in_a_chinese_window(chinese, harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, language="zh_CN")
    window = harness.open(catch_up=False)
    QLocale.setDefault(QLocale("zh_CN"))  # the harness builds in English; the fixture's translators stay
    window.chat_tab.new_conversation()
    type_and_send(qtbot, window, "hello")
    run(loop, until(lambda: len(srv.chat_requests()) == 1 and not window.chat_tab.is_busy()))
    assert srv.chat_requests()[-1]["messages"][0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT_ZH}
    assert window.session.settings.system_prompt == DEFAULT_SYSTEM_PROMPT  # the stored default stays

    window.session.settings = window.session.settings.replace(system_prompt="Answer like a pirate.")
    type_and_send(qtbot, window, "again")
    run(loop, until(lambda: len(srv.chat_requests()) == 2 and not window.chat_tab.is_busy()))
    assert srv.chat_requests()[-1]["messages"][0]["content"] == "Answer like a pirate."


def test_qt_file_dialog_labels_are_chinese(chinese, harness: Harness, qtbot, srv) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv)
    window = harness.open(catch_up=False)
    QLocale.setDefault(QLocale("zh_CN"))
    dialog = QFileDialog(window, "x")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    dialog.open()
    buttons = [b.text() for b in dialog.findChildren(QPushButton) if b.isVisible() and b.text()]
    labels = [label.text() for label in dialog.findChildren(QLabel) if label.isVisible() and label.text()]
    assert buttons and all(_CJK.search(t) for t in buttons), buttons
    assert labels and all(_CJK.search(t) for t in labels), labels
    dialog.reject()


def test_the_chinese_wording_in_settings_does_not_send_the_user_to_settings(chinese) -> None:  # type: ignore[no-untyped-def]
    for kind in parts.IN_PLACE_MESSAGES:
        shared = QCoreApplication.translate("Errors", MESSAGES[kind])
        own = parts.error_text(kind)
        assert "“设置”" in shared and "“设置”" not in own and _CJK.search(own), (kind, own)
