"""'Ask Qwen about these results': the user phrases the question, the results attached; nothing
is sent before Enter, and "Use my notes" is on for that conversation only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_features import idle, notes, open_with_notes, widgets  # noqa: F401
from tests.ui.test_chat_window import Harness, bodies, harness  # noqa: F401


def search_and_ask(qtbot, loop, window: MainWindow, query: str) -> None:  # type: ignore[no-untyped-def]
    search = window.search_tab
    window.tabs.setCurrentWidget(search)
    search.search_box.clear()
    shown: list[int] = []
    search.results_shown.connect(shown.append)
    qtbot.keyClicks(search.search_box, query)
    qtbot.keyClick(search.search_box, Qt.Key.Key_Return)
    run(loop, until(lambda: bool(shown) and search.ask_button.isEnabled()))
    qtbot.mouseClick(search.ask_button, Qt.MouseButton.LeftButton)


def test_ask_fills_the_composer_and_sends_only_on_enter(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    tab = window.chat_tab
    assert not tab.notes_box.isChecked()
    search_and_ask(qtbot, loop, window, "VPN password")
    count = window.search_tab.results.hit_count()
    assert count >= 1

    assert window.tabs.currentWidget() is tab
    assert tab.conversation_id is None and widgets(window) == []
    assert tab.composer.toPlainText() == "What do my notes say about VPN password?"
    assert tab.composer.textCursor().selectedText() == tab.composer.toPlainText()  # typing replaces it
    assert tab.composer.hasFocus()
    assert tab.notes_box.isChecked()
    assert tab.attachment.isVisible()
    suffix = "(1 result)" if count == 1 else f"({count} results)"
    assert tab.attachment.label.text() == f"Answering from your notes: VPN password {suffix}"
    run(loop, until(lambda: idle(window)))
    assert srv.chat_requests() == []

    srv.script_chat(ChatReply(content="It expires every 90 days [1]."))
    qtbot.keyClick(tab.composer, Qt.Key.Key_Return)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    assert bodies(window)[0] == "What do my notes say about VPN password?"
    answer = widgets(window)[1]
    assert answer.sources_view is not None
    assert answer.sources_view.buttons[0].text() == "[1] vpn.md"
    assert "VPN password expires every 90 days" in srv.chat_requests()[-1]["messages"][-1]["content"]
    assert not tab.attachment.isVisible()
    assert tab.notes_box.isChecked()  # the conversation goes on from the notes

    # Another conversation: "Use my notes" is off again, as it was before.
    tab.new_button.click()
    assert not tab.notes_box.isChecked()


def test_the_question_can_be_retyped_and_the_results_detached(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    tab = window.chat_tab
    search_and_ask(qtbot, loop, window, "VPN password")
    qtbot.keyClicks(tab.composer, "How often must I change it?")
    assert tab.composer.toPlainText() == "How often must I change it?"

    qtbot.mouseClick(tab.attachment.detach_button, Qt.MouseButton.LeftButton)
    assert not tab.attachment.isVisible() and not tab.notes_box.isChecked()
    srv.script_chat(ChatReply(content="Every 90 days, usually."))
    qtbot.keyClick(tab.composer, Qt.Key.Key_Return)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    assert widgets(window)[1].message.sources is None  # not a notes answer
    assert "90 days" not in srv.chat_requests()[-1]["messages"][-1]["content"]


def test_use_my_notes_returns_to_what_it_was_when_another_conversation_opens(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    tab = window.chat_tab
    srv.script_chat(ChatReply(content="Canberra."))
    tab.composer.setPlainText("Capital of Australia?")
    qtbot.keyClick(tab.composer, Qt.Key.Key_Return)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    earlier = tab.conversation_id
    assert earlier is not None

    search_and_ask(qtbot, loop, window, "VPN password")
    assert tab.notes_box.isChecked()
    tab.conversation_list.setCurrentRow(0)  # the earlier conversation
    assert tab.conversation_id == earlier
    assert not tab.notes_box.isChecked() and not tab.attachment.isVisible()

    # With the switch on beforehand, it stays on.
    tab.notes_box.setChecked(True)
    search_and_ask(qtbot, loop, window, "VPN password")
    tab.new_button.click()
    assert tab.notes_box.isChecked()
    assert srv.chat_requests()[-1]["messages"][-1]["content"] == "Capital of Australia?"
