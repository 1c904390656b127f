"""Web search in the window (issue 13): the switch per conversation, answers with source cards whose
markers link to them, only http(s) pages opened and only when clicked, sources kept across a restart
and in exports and Copy for Word, the search count and price, a model that cannot search."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from desktop.core.export import conversation_markdown
from desktop.core.pricing import prices_file
from desktop.gui.chat.messages import MessageWidget
from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import DashScopeServer
from tests.support.dashscope_server.websearch import SearchReply
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401

SOURCES = [
    {"index": 1, "title": "Central bank: rates", "url": "https://bank.example/rates", "site_name": "Bank"},
    {"index": 2, "title": "A local file", "url": "file:///etc/passwd", "site_name": ""},
]
ANSWER = "Rates rose in November [ref_1], said a page [ref_2]; see also [ref_7]."


class Browser(QObject):
    """Stands in for the system's browser: records what it is asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def browser() -> Iterator[Browser]:
    catcher = Browser()
    for scheme in ("http", "https", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    try:
        yield catcher
    finally:
        for scheme in ("http", "https", "file"):
            QDesktopServices.unsetUrlHandler(scheme)


def reply(window: MainWindow) -> MessageWidget:
    return window.chat_tab.view.message_widgets()[-1]


def ask_with_search(qtbot, window: MainWindow, srv: DashScopeServer, loop, text: str = "What happened to rates?") -> None:  # type: ignore[no-untyped-def]
    tab = window.chat_tab
    assert tab.web_box.isEnabled()
    tab.web_box.setChecked(True)
    type_and_send(qtbot, window, text)
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) >= 2))


def test_an_answer_shows_its_sources_and_opens_only_web_pages_when_clicked(
    harness: Harness, qtbot, srv: DashScopeServer, loop, browser: Browser,
) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_search(SearchReply(content=ANSWER, sources=SOURCES, searches=2))
    window = harness.open(catch_up=False)
    ask_with_search(qtbot, window, srv, loop)
    assert browser.urls == []  # nothing opens by itself
    (sent,) = srv.search_requests()
    assert sent["parameters"]["enable_search"] is True and srv.chat_requests() == []

    widget = reply(window)
    cards = widget.web_sources_view
    assert cards is not None and [b.text() for b in cards.buttons] == ["[1] Central bank: rates", "[2] A local file"]
    assert cards.buttons[0].isEnabled() and not cards.buttons[1].isEnabled()  # a file: is never offered
    html = widget.body._tail.toHtml()
    assert 'href="web:1"' in html and 'href="web:2"' in html and "[ref_7]" in widget.body._tail.toPlainText()
    assert "[1]" in widget.body._tail.toPlainText() and "[ref_1]" not in widget.body._tail.toPlainText()
    assert "2 web searches" in widget.usage.text()

    qtbot.mouseClick(cards.buttons[0], Qt.MouseButton.LeftButton)
    assert browser.urls == ["https://bank.example/rates"]
    widget.body._tail.anchorClicked.emit(QUrl("web:2"))  # the marker of the file: source
    assert browser.urls == ["https://bank.example/rates"] and "Could not open" in widget.status.text()
    widget.body._tail.anchorClicked.emit(QUrl("web:1"))
    assert browser.urls[-1] == "https://bank.example/rates"

    assert widget.word_button is not None
    qtbot.mouseClick(widget.word_button, Qt.MouseButton.LeftButton)
    html_copied = QGuiApplication.clipboard().mimeData().html()
    assert "https://bank.example/rates" in html_copied and "Web sources" in html_copied

    conversation_id = window.chat_tab.conversation_id
    harness.close(window)
    again = harness.open(catch_up=False)
    again.chat_tab.open_conversation(conversation_id)
    kept = reply(again)
    assert kept.web_sources_view is not None and len(kept.web_sources_view.buttons) == 2
    stored = again.chat_tab.history.messages(conversation_id)  # type: ignore[arg-type]
    text = conversation_markdown(again.chat_tab.history.conversation(conversation_id), stored)  # type: ignore[arg-type]
    assert "[\\[1\\]](<https://bank.example/rates>)" in text and "**Web sources**" in text
    assert "- \\[2\\] A local file (file:///etc/passwd)" in text  # listed, never a link


def test_the_search_count_is_priced_from_prices_json(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    service = window.chat_tab.service
    table = json.loads(prices_file().read_text(encoding="utf-8"))
    table["web_search_per_1000"] = 1000.0  # one yuan a search: easy to see in the cost
    prices_file().write_text(json.dumps(table), encoding="utf-8")
    srv.script_search(SearchReply(content="Done [ref_1].", sources=SOURCES[:1], searches=3))
    ask_with_search(qtbot, window, srv, loop)
    message = reply(window).message
    assert message.usage is not None and message.usage.searches == 3
    cost = service.reply_cost(message)
    assert cost is not None and 3.0 <= cost < 3.01
    assert service.month_totals().searches == 3
    assert "3 web searches" in window.chat_tab.totals_label.text()


def test_the_switch_belongs_to_its_conversation_and_to_models_that_search(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    tab = window.chat_tab
    ask_with_search(qtbot, window, srv, loop, "first")
    first = tab.conversation_id
    tab.new_conversation()
    assert not tab.web_box.isChecked()  # the Settings default (off) for a new chat
    type_and_send(qtbot, window, "second, without search")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    assert len(srv.search_requests()) == 1 and len(srv.chat_requests()) == 1
    tab.open_conversation(first)
    assert tab.web_box.isChecked()

    window.settings_tab.web_default.setChecked(True)  # the default for new chats, from Settings
    tab.new_conversation()
    assert tab.web_box.isChecked()
    tab.session.settings = tab.session.settings.replace(model="qwen-long")  # as Settings would
    tab.apply_settings()
    assert not tab.web_box.isEnabled() and not tab.web_box.isChecked()
    assert "cannot search the web" in tab.web_box.toolTip()


def test_a_model_the_service_will_not_let_search_offers_to_send_without(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.no_search_models = {"qwen-plus"}
    window = harness.open(catch_up=False)
    tab = window.chat_tab
    ask_with_search(qtbot, window, srv, loop, "Any news?")
    card = reply(window).error_card
    assert card is not None and card.kind == "search_unsupported"
    assert "cannot search the web" in card.message.text()
    assert not tab.web_box.isEnabled()  # off for this model now
    assert card.retry_button.text() == "Send without web search"
    assert tab.composer.toPlainText() == ""
    qtbot.mouseClick(card.retry_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: not tab.is_busy() and bodies(window)[-1] == "Echo: Any news?"))
    assert srv.chat_requests()[-1]["messages"][-1]["content"] == "Any news?"
