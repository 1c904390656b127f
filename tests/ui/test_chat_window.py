"""The real main window, offscreen, against the loopback DashScope server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.gui.app import Gui, build_gui
from desktop.core import settings as settings_mod
from desktop.core.history import Status
from desktop.core.retry import RetryPolicy
from desktop.core.secrets import KeyStore
from desktop.core.settings import Settings
from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer
from tests.support.qt_async import run, until

FAST_RETRIES = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.1, quota_delay=0.05)


class Harness:
    """Builds the window with the app's own composition root (``build_gui``) and tears it down the
    way the app does. The notes watcher is off; the start-up catch-up index runs unless turned off."""

    def __init__(self, qtbot, loop: asyncio.AbstractEventLoop) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot
        self.loop = loop
        self.guis: list[Gui] = []

    def open(self, *, catch_up: bool = True, watch: bool = False) -> MainWindow:
        gui = build_gui(QApplication.instance(), "en", watch=watch, catch_up=catch_up)  # type: ignore[arg-type]
        gui.context.chat.policy = FAST_RETRIES
        window = gui.window
        self.qtbot.addWidget(window)
        window.show()
        run(self.loop, window.start())
        self.guis.append(gui)
        return window

    def gui(self, window: MainWindow) -> Gui:
        return next(g for g in self.guis if g.window is window)

    def wait_idle(self, window: MainWindow) -> None:
        """Until every task the window started has ended (replies, index runs, searches)."""
        run(self.loop, self.gui(window).tasks.wait_idle())

    def close(self, window: MainWindow) -> None:
        gui = self.gui(window)
        self.guis.remove(gui)
        window.close()
        run(self.loop, gui.shutdown())

    def close_all(self) -> None:
        for gui in list(self.guis):
            self.close(gui.window)


@pytest.fixture
def harness(qtbot, loop) -> Iterator[Harness]:  # type: ignore[no-untyped-def]
    h = Harness(qtbot, loop)
    yield h
    h.close_all()


def configure(srv: DashScopeServer, *, key: bool = True, **changes: object) -> None:
    settings_mod.save(Settings(region="custom", custom_base_url=srv.base_url).replace(**changes))
    if key:
        KeyStore().save(TEST_KEY)


def type_and_send(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    composer = window.chat_tab.composer
    composer.setFocus()
    qtbot.keyClicks(composer, text)
    qtbot.keyClick(composer, Qt.Key.Key_Return)


def bodies(window: MainWindow) -> list[str]:
    return [w.body.text() for w in window.chat_tab.view.message_widgets()]


def test_type_and_send_streams_the_reply(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="Hello **there**, how can I help?", chunk_delay=0.01))
    window = harness.open()
    assert window.tabs.currentWidget() is window.chat_tab
    assert QApplication.focusWidget() is window.chat_tab.composer  # the cursor is in the message box

    type_and_send(qtbot, window, "Hi Qwen")
    assert window.chat_tab.composer.toPlainText() == ""
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))

    assert bodies(window) == ["Hi Qwen", "Hello **there**, how can I help?"]
    assistant = window.chat_tab.view.message_widgets()[1]
    assert "there" in assistant.body._tail.toPlainText()
    assert "**" not in assistant.body._tail.toPlainText()  # rendered as Markdown, not shown raw
    assert assistant.usage.isVisible() and "Tokens" in assistant.usage.text()
    sent = srv.chat_requests()[-1]
    assert sent["messages"][-1] == {"role": "user", "content": "Hi Qwen"}
    assert sent["messages"][0]["role"] == "system"
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_shift_enter_is_a_new_line_and_history_is_multi_turn(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    composer = window.chat_tab.composer
    qtbot.keyClicks(composer, "line one")
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer, "line two")
    assert composer.toPlainText() == "line one\nline two"
    assert srv.chat_requests() == []
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    run(loop, until(lambda: len(bodies(window)) == 2 and not window.chat_tab.is_busy()))
    type_and_send(qtbot, window, "second question")
    run(loop, until(lambda: len(bodies(window)) == 4 and not window.chat_tab.is_busy()))
    roles = [(m["role"], m["content"]) for m in srv.chat_requests()[-1]["messages"][1:]]
    assert roles == [("user", "line one\nline two"), ("assistant", "Echo: line one\nline two"),
                     ("user", "second question")]


def test_stop_closes_the_stream_quickly_and_keeps_the_partial_text(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="word " * 400, chunk_delay=0.02))
    window = harness.open()
    type_and_send(qtbot, window, "Tell me a long story")
    run(loop, until(lambda: len(bodies(window)) == 2 and bodies(window)[1].count("word") >= 3))

    stopped_at = time.monotonic()
    qtbot.keyClick(window.chat_tab.composer, Qt.Key.Key_Escape)  # Esc stops
    run(loop, until(lambda: not window.chat_tab.is_busy(), timeout=2))
    record = srv.wait_for_stream_end(timeout=2)
    assert record.client_disconnected
    assert record.ended_at - stopped_at < 0.5  # the HTTP response was closed promptly

    widget = window.chat_tab.view.message_widgets()[1]
    partial = widget.body.text()
    assert 0 < partial.count("word") < 400
    assert widget.status.isVisible() and widget.status.text() == "Stopped."
    saved = window.chat_tab.history.messages(window.chat_tab.conversation_id)[-1]
    assert saved.status is Status.STOPPED and saved.content == partial


def test_error_inline_with_retry_then_success(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply.error(400, "Arrearage", "Access denied, please make sure your account is in good standing."))
    window = harness.open()
    type_and_send(qtbot, window, "Are you there?")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))

    widget = window.chat_tab.view.message_widgets()[1]
    card = widget.error_card
    assert card is not None and card.isVisible()
    assert "overdue" in card.message.text()
    assert "request id:" in card.details.text()  # what Alibaba support asks for
    assert bodies(window)[0] == "Are you there?"  # the user's message is kept

    qtbot.mouseClick(card.retry_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: not window.chat_tab.is_busy() and bodies(window)[-1] == "Echo: Are you there?"))
    assert bodies(window) == ["Are you there?", "Echo: Are you there?"]
    stored = window.chat_tab.history.messages(window.chat_tab.conversation_id)
    assert [m.status for m in stored] == [Status.OK, Status.OK]


def test_busy_service_is_retried_visibly(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply.error(429, "limit_requests"), ChatReply(content="Finally."))
    window = harness.open()
    seen: list[str] = []
    type_and_send(qtbot, window, "hello")
    widget_status = lambda: window.chat_tab.view.message_widgets()[-1].status.text()  # noqa: E731

    async def watch() -> None:
        while window.chat_tab.is_busy() or len(bodies(window)) < 2:
            if len(bodies(window)) == 2:
                seen.append(widget_status())
            await asyncio.sleep(0.005)

    run(loop, watch())
    assert bodies(window)[-1] == "Finally."
    assert any("Retrying in" in s for s in seen)


def test_cut_off_reply_keeps_text_and_says_so(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="one two three four five six", disconnect_after=3))
    window = harness.open()
    type_and_send(qtbot, window, "count")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    widget = window.chat_tab.view.message_widgets()[1]
    assert widget.body.text() and "one" in widget.body.text()
    assert widget.error_card is not None and "cut off" in widget.error_card.message.text()


def test_thinking_is_shown_apart_and_collapsed(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv, model="qwq-plus")
    srv.script_chat(ChatReply(reasoning="Let me think about it.", content="The answer is 42."))
    window = harness.open()
    assert window.chat_tab.thinking_box.isChecked() and not window.chat_tab.thinking_box.isEnabled()
    type_and_send(qtbot, window, "question")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    widget = window.chat_tab.view.message_widgets()[1]
    assert widget.body.text() == "The answer is 42."
    assert widget.thinking.isVisible() and not widget.thinking.view.isVisible()  # collapsed
    assert widget.thinking.text() == "Let me think about it."
    widget.thinking.toggle.click()
    assert widget.thinking.view.isVisible()
    assert widget.thinking.view.toPlainText() == "Let me think about it."
    assert "enable_thinking" not in srv.chat_requests()[-1]  # qwq-plus only thinks: no flag sent


def test_conversation_is_restored_after_restart(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    type_and_send(qtbot, window, "remember me")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    harness.close(window)

    again = harness.open()
    assert bodies(again) == ["remember me", "Echo: remember me"]
    assert again.chat_tab.conversation_list.count() == 1
    assert again.chat_tab.conversation_list.item(0).text() == "remember me"


def test_new_rename_and_delete_conversations(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    type_and_send(qtbot, window, "first")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    qtbot.keyClick(tab.composer, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert bodies(window) == [] and tab.conversation_id is None
    type_and_send(qtbot, window, "second")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    assert tab.conversation_list.count() == 2

    item = tab.conversation_list.item(0)
    item.setText("Renamed chat")
    assert tab.history.conversations()[0].title == "Renamed chat"
    tab.delete_conversation(tab.conversation_id)  # type: ignore[arg-type]
    assert [c.title for c in tab.history.conversations()] == ["first"]


def test_first_run_without_key_opens_settings_and_keeps_the_message(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv, key=False)
    window = harness.open()
    assert window.tabs.currentWidget() is window.settings_tab
    assert window.settings_tab.welcome.isVisible()
    assert "Model Studio console" in window.settings_tab.welcome.text()
    window.tabs.setCurrentWidget(window.chat_tab)
    type_and_send(qtbot, window, "hello without a key")
    assert window.tabs.currentWidget() is window.settings_tab
    assert window.chat_tab.composer.toPlainText() == "hello without a key"
    assert srv.chat_requests() == []


def test_key_saved_to_keyring_and_absent_from_every_file(harness: Harness, qtbot, srv, loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    configure(srv, key=False)
    secret = "sk-test-window-saved-key-7f3a"
    srv.valid_keys.add(secret)
    window = harness.open()
    tab = window.settings_tab
    changed: list[bool] = []
    tab.key_changed.connect(lambda: changed.append(True))
    qtbot.keyClicks(tab.key_edit, secret)
    qtbot.mouseClick(tab.save_key_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: bool(changed)))  # the tab says the key changed once it shows it
    assert window.session.key is not None and window.session.key.value == secret
    assert KeyStore().get_stored() == secret
    assert "sk-…7f3a" in tab.key_status.text() and secret not in tab.key_status.text()
    assert tab.key_edit.text() == ""

    window.show_chat()
    type_and_send(qtbot, window, "now with a key")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    harness.close(window)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_connection_test_reports_wrong_key_in_plain_words(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv, key=False)
    window = harness.open()
    tab = window.settings_tab
    qtbot.keyClicks(tab.key_edit, "sk-test-not-a-valid-key")
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: tab.test_button.isEnabled() and "Testing" not in tab.test_result.text()))
    assert "not accepted" in tab.test_result.text()
    assert "sk-test-not-a-valid-key" not in tab.test_result.text()

    tab.key_edit.setText(TEST_KEY)
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: tab.test_button.isEnabled() and "Connected" in tab.test_result.text()))
    assert tab.model_combo.findText("qwen-plus") >= 0


def test_settings_and_geometry_survive_restart(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    window.settings_tab.temperature.setValue(1.25)
    window.settings_tab.model_combo.setCurrentText("qwen-max")
    size = (min(790, window.minimumSizeHint().width() + 10), 500)  # the offscreen screen is 800 wide
    window.resize(*size)
    harness.close(window)
    assert settings_mod.load().temperature == 1.25
    again = harness.open()
    assert again.settings_tab.temperature.value() == 1.25
    assert again.chat_tab.model_picker.current_model() == "qwen-max"
    assert not again.chat_tab.thinking_box.isEnabled()  # qwen-max has no thinking mode
    assert (again.width(), again.height()) == size


def test_without_a_keyring_the_key_is_used_for_the_session_only(harness: Harness, qtbot, srv, loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import keyring
    import keyring.backends.fail

    configure(srv, key=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        window = harness.open()
        tab = window.settings_tab
        qtbot.keyClicks(tab.key_edit, TEST_KEY)
        qtbot.mouseClick(tab.save_key_button, Qt.MouseButton.LeftButton)
        run(loop, until(lambda: tab.session_key_button.isVisible()))
        assert "No system keyring" in tab.key_status.text()  # said plainly, no silent fallback
        assert window.session.key is None
        qtbot.mouseClick(tab.session_key_button, Qt.MouseButton.LeftButton)
        assert window.session.key is not None and "this session only" in tab.key_status.text()

        window.show_chat()
        type_and_send(qtbot, window, "session key works")
        run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
        assert bodies(window)[1] == "Echo: session key works"
        harness.close(window)
    finally:
        keyring.set_keyring(previous)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
