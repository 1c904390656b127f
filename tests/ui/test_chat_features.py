"""The chat features office users expect, in the real window offscreen against the loopback server:
answers from notes with sources that open the file, regenerate, edit and resend, Copy for Word,
costs, context trimming, conversation search, export, and long conversations loading as you scroll."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication, QTextCursor

from desktop.core.client import Usage
from desktop.core.history import Status
from desktop.core.markdown import CITE_SCHEME
from desktop.core.paths import notes_db
from desktop.gui.main_window import MainWindow
from desktop.gui.chat.messages import MessageWidget
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.notes import write_notes
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


class UrlCatcher(QObject):
    """Stands in for the system's file opener: records the URLs QDesktopServices is asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        yield catcher
    finally:
        QDesktopServices.unsetUrlHandler("file")


def send(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    """Put any text (QTest cannot type Chinese) in the message box and press Enter."""
    window.chat_tab.composer.setPlainText(text)
    qtbot.keyClick(window.chat_tab.composer, Qt.Key.Key_Return)


def idle(window: MainWindow) -> bool:
    return not window.chat_tab.is_busy()


def widgets(window: MainWindow) -> list[MessageWidget]:
    return window.chat_tab.view.message_widgets()


def vectors_stored() -> int:
    try:
        with sqlite3.connect(notes_db()) as db:
            return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.fixture
def notes(tmp_path: Path) -> dict[str, Path]:
    return write_notes(tmp_path / "notes")


def open_with_notes(harness: Harness, srv: DashScopeServer, loop, notes: dict[str, Path]) -> MainWindow:  # type: ignore[no-untyped-def]
    """The window with the notes folder added in the Search tab and indexed there."""
    configure(srv, embedding_dimensions=64)
    window = harness.open()

    async def add_and_index() -> None:
        window.search_tab.add_folder(str(notes["travel.md"].parent))
        await until(lambda: not window.search_tab.is_indexing() and vectors_stored() == len(notes))

    run(loop, add_and_index())
    return window


def click_citation(qtbot, widget: MessageWidget, number: int) -> None:  # type: ignore[no-untyped-def]
    """Click the [n] marker in the answer text, where it is drawn."""
    for browser in widget.body.browsers():
        block = browser.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().anchorHref() == f"{CITE_SCHEME}:{number}":
                    cursor = QTextCursor(browser.document())
                    cursor.setPosition(fragment.position() + 1)
                    point = browser.cursorRect(cursor).center()
                    qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=point)
                    return
                it += 1
            block = block.next()
    raise AssertionError(f"no [{number}] link in the answer")


# ---- answers from notes ------------------------------------------------------------------------


def test_answer_from_notes_lists_sources_that_open_the_files(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path], opened: UrlCatcher,  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    tab = window.chat_tab
    assert tab.notes_box.isEnabled()
    tab.notes_box.setChecked(True)
    srv.script_chat(ChatReply(content="住宿标准为每晚不超过五百元 [1]。"))
    send(qtbot, window, "出差住宿报销标准是多少？")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))

    answer = widgets(window)[1]
    assert answer.sources_view is not None and answer.sources_view.isVisible()
    (button,) = answer.sources_view.buttons
    assert button.text() == "[1] travel.md"
    assert "住宿标准为每晚不超过五百元" in srv.chat_requests()[-1]["messages"][-1]["content"]

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened.urls == [QUrl.fromLocalFile(str(notes["travel.md"]))]
    click_citation(qtbot, answer, 1)  # the [1] in the text opens the same file
    assert opened.urls == [QUrl.fromLocalFile(str(notes["travel.md"]))] * 2
    assert opened.urls[0].toLocalFile() == str(notes["travel.md"])

    # Reopened later, the answer still has its sources.
    conversation = tab.conversation_id
    harness.close(window)
    again = harness.open()
    again.chat_tab.open_conversation(conversation)
    restored = widgets(again)[1]
    assert restored.sources_view is not None and restored.sources_view.buttons[0].text() == "[1] travel.md"
    restored.sources_view.buttons[0].click()
    assert opened.urls[-1] == QUrl.fromLocalFile(str(notes["travel.md"]))


def test_nothing_relevant_in_the_notes_is_said_without_asking_qwen(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    window.chat_tab.notes_box.setChecked(True)
    type_and_send(qtbot, window, "What is the capital of Australia?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    answer = widgets(window)[1]
    assert answer.message.status is Status.NO_NOTES
    assert answer.status.isVisible() and "Nothing in your notes" in answer.status.text()
    assert srv.chat_requests() == []


def test_ask_qwen_about_search_results_starts_a_notes_chat(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    search = window.search_tab
    window.tabs.setCurrentWidget(search)
    shown: list[int] = []
    search.results_shown.connect(shown.append)
    qtbot.keyClicks(search.search_box, "VPN password")
    qtbot.keyClick(search.search_box, Qt.Key.Key_Return)
    run(loop, until(lambda: bool(shown) and search.ask_button.isEnabled()))
    qtbot.mouseClick(search.ask_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.chat_tab
    qtbot.keyClick(window.chat_tab.composer, Qt.Key.Key_Return)  # the question as suggested
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    answer = widgets(window)[1]
    assert bodies(window)[0] == "What do my notes say about VPN password?"
    assert answer.sources_view is not None
    assert answer.sources_view.buttons[0].text() == "[1] vpn.md"
    # Both tabs searched through one searcher: the vectors are in memory once.
    import gc

    from desktop.core.notes.search import Searcher

    gc.collect()
    assert sum(isinstance(o, Searcher) for o in gc.get_objects()) == 1


# ---- regenerate, edit, copy ---------------------------------------------------------------------


def test_regenerate_and_edit_send_the_right_history(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv, system_prompt="Be brief.")
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="Meh."), ChatReply(content="2.1 million."))
    window = harness.open()
    type_and_send(qtbot, window, "Capital of France?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    type_and_send(qtbot, window, "Population?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 4))
    first_answer, last_answer = widgets(window)[1], widgets(window)[3]
    assert last_answer.regenerate_button is not None and last_answer.regenerate_button.isVisible()
    assert first_answer.regenerate_button is not None and not first_answer.regenerate_button.isVisible()

    qtbot.mouseClick(last_answer.regenerate_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window)[-1] == "2.1 million."))
    assert len(widgets(window)) == 4
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"},
               {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "Population?"}]
    assert srv.chat_requests()[-1]["messages"] == srv.chat_requests()[-2]["messages"] == history

    question = widgets(window)[0]
    assert question.edit_button is not None
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    assert question.editor is not None and question.editor.edit.toPlainText() == "Capital of France?"
    question.editor.edit.setPlainText("Capital of Italy?")
    qtbot.mouseClick(question.editor.send_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2 and bodies(window)[-1] != ""))
    assert srv.chat_requests()[-1]["messages"] == [{"role": "system", "content": "Be brief."},
                                                   {"role": "user", "content": "Capital of Italy?"}]
    assert bodies(window) == ["Capital of Italy?", "Echo: Capital of Italy?"]
    stored = window.chat_tab.history.messages(window.chat_tab.conversation_id)  # type: ignore[arg-type]
    assert [m.content for m in stored] == ["Capital of Italy?", "Echo: Capital of Italy?"]
    assert window.chat_tab.conversation_list.item(0).text() == "Capital of Italy?"


def test_copy_for_word_puts_html_with_a_table_on_the_clipboard(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    reply = "## Sales\n\n| Region | Q1 |\n|---|---:|\n| 华东 | 120 |\n\n- one\n- two\n\n```python\nx = 1\n```\n"
    srv.script_chat(ChatReply(content=reply))
    window = harness.open()
    type_and_send(qtbot, window, "table please")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    answer = widgets(window)[1]
    assert answer.word_button is not None
    qtbot.mouseClick(answer.word_button, Qt.MouseButton.LeftButton)
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasHtml() and mime.hasText()
    html = mime.html()
    assert "<table" in html and "<th" in html and "华东" in html
    assert "<h2>Sales</h2>" in html and "<ul>" in html and "Consolas" in html
    # Plain-text editors get readable text; the Markdown rides along as text/markdown.
    assert mime.text().startswith("Sales\n\nRegion\tQ1\n华东\t120") and "**" not in mime.text()
    assert bytes(mime.data("text/markdown").data()).decode("utf-8") == reply


# ---- costs, context ----------------------------------------------------------------------------


def test_tokens_and_cost_per_reply_conversation_and_month(harness: Harness, qtbot, srv, loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    (data_dir / "prices.json").write_text(
        '{"models": {"qwen-plus": {"input": 2.0, "output": 8.0}}}', encoding="utf-8")
    usage = {"prompt_tokens": 1000, "completion_tokens": 250, "total_tokens": 1250}
    srv.script_chat(ChatReply(content="one", usage=usage), ChatReply(content="two", usage=usage))
    window = harness.open()
    type_and_send(qtbot, window, "first")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    type_and_send(qtbot, window, "second")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 4))
    assert widgets(window)[1].usage.text() == "Tokens: 1,000 in · 250 out · about ¥0.0040"
    totals = window.chat_tab.totals_label.text()
    assert "Conversation: ¥0.0080 · 2,500 tokens" in totals
    assert "This month: ¥0.0080 · 2,500 tokens" in totals
    window.chat_tab.new_conversation()
    assert window.chat_tab.totals_label.text() == "This month: ¥0.0080 · 2,500 tokens"


def test_length_error_trims_the_history_and_says_so(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    conversation = tab.history.create_conversation("long")
    for i in range(8):
        tab.history.add_message(conversation.id, "user", f"Question {i} " + "more words " * 40)
        tab.history.add_message(conversation.id, "assistant", f"Answer {i} " + "many words " * 40)
    tab.open_conversation(conversation.id)
    srv.max_input_tokens = 700
    type_and_send(qtbot, window, "And now?")
    run(loop, until(lambda: idle(window) and bodies(window)[-1] == "Echo: And now?"))
    answer = widgets(window)[-1]
    assert answer.notice.isVisible()
    notice = answer.notice.text()
    assert "at most 700 tokens" in notice and "earlier messages were left out" in notice
    assert len(srv.chat_requests()) >= 2
    assert len(srv.chat_requests()[-1]["messages"]) < len(srv.chat_requests()[0]["messages"])


# ---- conversations ------------------------------------------------------------------------------


def test_search_conversations_and_export(harness: Harness, qtbot, srv, loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    for text in ("Travel budget for May", "Printer toner", "季度预算"):
        tab.new_conversation()
        send(qtbot, window, text)
        run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    assert tab.conversation_list.count() == 3

    qtbot.keyClicks(tab.filter_box, "toner")
    run(loop, until(lambda: tab.conversation_list.count() == 1))
    assert tab.conversation_list.item(0).text() == "Printer toner"
    tab.filter_box.setText("Echo: 季度")  # message content is searched too
    run(loop, until(lambda: tab.conversation_list.count() == 1
                    and tab.conversation_list.item(0).text() == "季度预算"))
    tab.filter_box.clear()
    run(loop, until(lambda: tab.conversation_list.count() == 3))

    target = tmp_path / "export.docx"
    tab.export_conversation(tab.conversation_id, target, "docx")  # type: ignore[arg-type]
    document = docx.Document(str(target))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "季度预算" and "Echo: 季度预算" in texts
    markdown_file = tmp_path / "export.md"
    tab.export_conversation(tab.conversation_id, markdown_file, "md")  # type: ignore[arg-type]
    assert markdown_file.read_text(encoding="utf-8").startswith("# 季度预算\n")


def test_long_conversation_opens_fast_and_loads_older_messages_in_place(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    conversation = tab.history.create_conversation("long")
    long_answer = "\n\n".join(f"## Part {i}\n\n" + "Some text with **bold** words. " * 30 for i in range(12))
    for i in range(60):
        tab.history.add_message(conversation.id, "user", f"Question number {i}")
        answer = tab.history.add_message(conversation.id, "assistant", long_answer if i % 10 == 0 else f"Answer {i}",
                                         model="qwen-plus")
        answer.usage = Usage(10, 5)
        tab.history.update_message(answer)
    tab.open_conversation(conversation.id)
    view = tab.view
    first = len(view.message_widgets())
    assert first < 120 and view.has_older()
    assert view.message_widgets()[-1].body.text() == "Answer 59"

    # Scroll to the top of what is loaded: older messages come in above, and what was on screen
    # stays where it was.
    bar = view.verticalScrollBar()

    async def scroll_up() -> None:
        while view.has_older():
            shown = view.message_widgets()[0]
            bar.setValue(bar.minimum())
            position = shown.mapTo(view.viewport(), QPoint(0, 0)).y()
            await until(lambda shown=shown: view.message_widgets()[0] is not shown or not view.has_older())
            await asyncio.sleep(0)
            await until(lambda shown=shown, position=position:
                        abs(shown.mapTo(view.viewport(), QPoint(0, 0)).y() - position) <= 2, timeout=2)

    run(loop, scroll_up())
    run(loop, until(lambda: view._filling is None))
    loaded = view.message_widgets()
    assert len(loaded) == 120
    assert loaded[0].body.text() == "Question number 0" and loaded[1].body.text() == long_answer
    assert len(loaded[1].body.browsers()) > 1  # a long answer is laid out in pieces
    text = "".join(b.toPlainText() for b in loaded[1].body.browsers())
    assert "Part 0" in text and "Part 11" in text
    # Every older message came in, in order, and the lazily loaded answer is rendered Markdown.
    assert [w.body.text() for w in loaded[0::2]] == [f"Question number {i}" for i in range(60)]
    found = loaded[1].body.browsers()[0].document().find("bold")
    assert not found.isNull() and found.charFormat().fontWeight() >= QFont.Weight.Bold


def test_thinking_time_reads_as_plain_english(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.gui.chat.parts import ThinkingSection

    section = ThinkingSection()
    qtbot.addWidget(section)
    section.finish(1.2)
    assert section.toggle.text() == "Thought for 1 second"
    section.finish(3.4)
    assert section.toggle.text() == "Thought for 3 seconds"
