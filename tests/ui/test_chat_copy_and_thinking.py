"""Copy puts readable text on the clipboard (Markdown is a choice), and the expanded thinking
section is as tall as its text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.gui.chat.messages import MessageWidget
from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import ChatReply
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, configure, harness, type_and_send  # noqa: F401

REPLY = ("## Sales\n\nThe **east** grew; see [the report](https://example.com/r).\n\n"
         "| Region | Q1 |\n|---|---:|\n| 华东 | 120 |\n| 华南 | 95 |\n\n"
         "- one\n- two\n\n```python\nx = 1\n```\n")


def _answer(harness: Harness, qtbot, srv, loop, reply: ChatReply, **settings: object) -> MessageWidget:  # type: ignore[no-untyped-def]
    configure(srv, **settings)
    srv.script_chat(reply)
    window: MainWindow = harness.open(catch_up=False)
    type_and_send(qtbot, window, "question")
    run(loop, until(lambda: not window.chat_tab.is_busy()
                    and len(window.chat_tab.view.message_widgets()) == 2))
    harness.wait_idle(window)
    return window.chat_tab.view.message_widgets()[1]


def test_copy_gives_readable_text_and_the_markdown_beside_it(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    answer = _answer(harness, qtbot, srv, loop, ChatReply(content=REPLY))
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(answer.copy_button, Qt.MouseButton.LeftButton)
    clipboard = QGuiApplication.clipboard()
    text = clipboard.text()
    assert "**" not in text and "|---" not in text and "##" not in text and "```" not in text
    assert text.startswith("Sales\n\nThe east grew; see the report (https://example.com/r).")
    assert "Region\tQ1\n华东\t120\n华南\t95" in text  # pastes into Excel as a table
    assert "• one\n• two" in text and "x = 1" in text
    mime = clipboard.mimeData()
    assert mime.hasFormat("text/markdown")
    assert bytes(mime.data("text/markdown").data()).decode("utf-8") == REPLY
    assert answer.copy_button.text() == "Copied"

    # Copy as Markdown, in the Copy button's menu, gives the source as plain text.
    menu = answer.copy_button.menu()
    assert menu is not None
    action = next(a for a in menu.actions() if a.text() == "Copy as Markdown")
    QGuiApplication.clipboard().clear()
    action.trigger()
    assert QGuiApplication.clipboard().text() == REPLY


def test_copy_for_word_gives_text_editors_readable_text_too(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    answer = _answer(harness, qtbot, srv, loop, ChatReply(content=REPLY))
    assert answer.word_button is not None
    qtbot.mouseClick(answer.word_button, Qt.MouseButton.LeftButton)
    mime = QGuiApplication.clipboard().mimeData()
    assert "<table" in mime.html()
    assert "**" not in mime.text() and "Region\tQ1" in mime.text()
    assert bytes(mime.data("text/markdown").data()).decode("utf-8") == REPLY


def test_a_question_is_copied_as_typed(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    answer = _answer(harness, qtbot, srv, loop, ChatReply(content="ok"))
    window = answer.window()
    assert isinstance(window, MainWindow)
    question = window.chat_tab.view.message_widgets()[0]
    qtbot.mouseClick(question.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "question"


def _expanded_height(answer: MessageWidget, qtbot) -> int:  # type: ignore[no-untyped-def]
    section = answer.thinking
    section.toggle.click()
    assert section.view.isVisible()
    qtbot.waitUntil(lambda: section.view.toPlainText() == section.text())
    return section.view.height()


def test_short_thinking_expands_to_its_text(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    answer = _answer(harness, qtbot, srv, loop, ChatReply(reasoning="Six sevens.", content="42"),
                     model="qwq-plus")
    view = answer.thinking.view
    height = _expanded_height(answer, qtbot)
    line = view.fontMetrics().lineSpacing()
    margins = 2 * int(view.document().documentMargin()) + 2 * view.frameWidth() + 4
    assert line <= height < 4 * line + margins
    assert view.verticalScrollBar().maximum() == 0  # all of it shows: nothing to scroll


def test_long_thinking_is_capped_and_scrolls(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    reasoning = "\n".join(f"Step {n}: multiply and check the result again." for n in range(1, 61))
    answer = _answer(harness, qtbot, srv, loop, ChatReply(reasoning=reasoning, content="42"),
                     model="qwq-plus")
    view = answer.thinking.view
    height = _expanded_height(answer, qtbot)
    line = view.fontMetrics().lineSpacing()
    margins = 2 * int(view.document().documentMargin()) + 2 * view.frameWidth() + 4
    assert 10 * line <= height <= 12 * line + margins  # about 12 lines, not 60
    assert view.verticalScrollBar().maximum() > 0  # the rest scrolls
