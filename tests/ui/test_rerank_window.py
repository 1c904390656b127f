"""Reranking in the window: "Best match first" in the Search tab, the Settings choice, and an
answer from the notes citing the reranked order. The real window, the loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.core.paths import settings_file
from desktop.core.settings import load
from desktop.gui.main_window import MainWindow
from tests.core.test_rerank import QUESTION, RERANK_NOTES
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.notes import write_notes
from tests.support.qt_async import run, until
from tests.ui.test_chat_features import idle, vectors_stored, widgets
from tests.ui.test_chat_window import Harness, configure, harness, type_and_send  # noqa: F401


@pytest.fixture
def notes(tmp_path: Path) -> dict[str, Path]:
    return write_notes(tmp_path / "notes", RERANK_NOTES)


def open_with_notes(harness: Harness, srv: DashScopeServer, loop, notes: dict[str, Path]) -> MainWindow:  # type: ignore[no-untyped-def]
    configure(srv, embedding_dimensions=64)
    window = harness.open()

    async def add_and_index() -> None:
        window.search_tab.add_folder(str(next(iter(notes.values())).parent))
        await until(lambda: not window.search_tab.is_indexing() and vectors_stored() == len(notes))

    run(loop, add_and_index())
    return window


def search(qtbot, loop, window: MainWindow, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    tab = window.search_tab
    window.tabs.setCurrentWidget(tab)
    shown: list[int] = []
    tab.results_shown.connect(shown.append)
    if tab.search_box.text() != query:
        tab.search_box.clear()
        qtbot.keyClicks(tab.search_box, query)
    qtbot.keyClick(tab.search_box, Qt.Key.Key_Return)
    run(loop, until(lambda: bool(shown)))
    tab.results_shown.disconnect()
    results = tab.results.list
    return [Path(results.item(i).data(Qt.ItemDataRole.UserRole)).name for i in range(results.count())]


def rerank_requests(srv: DashScopeServer) -> int:
    return sum(r.path.endswith("/text-rerank/text-rerank") for r in srv.requests)


def test_best_match_first_reorders_the_results_and_says_when_it_cannot(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    tab = window.search_tab
    assert not tab.results.best_first.isChecked()
    assert search(qtbot, loop, window, QUESTION)[0] == "long.md"
    assert rerank_requests(srv) == 0  # off: no request, no cost

    shown: list[int] = []
    tab.results_shown.connect(shown.append)
    tab.results.best_first.click()  # searches again at once
    run(loop, until(lambda: bool(shown)))
    first = tab.results.list.item(0).data(Qt.ItemDataRole.UserRole)
    assert Path(first).name == "exact.md" and rerank_requests(srv) == 1
    assert not tab.notice_label.isVisible()

    srv.rerank_status = 500
    assert search(qtbot, loop, window, QUESTION)[0] == "long.md"
    assert tab.notice_label.isVisible()
    assert "Best match first could not be used just now" in tab.notice_label.text()


def test_answers_cite_the_reranked_order_unless_settings_turn_it_off(
    harness: Harness, qtbot, srv: DashScopeServer, loop, notes: dict[str, Path],  # type: ignore[no-untyped-def]
) -> None:
    window = open_with_notes(harness, srv, loop, notes)
    chat = window.chat_tab
    window.tabs.setCurrentWidget(chat)
    chat.notes_box.setChecked(True)
    srv.script_chat(ChatReply(content="Reception [1]."), ChatReply(content="Again [1]."))
    type_and_send(qtbot, window, QUESTION)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    answer = widgets(window)[1]
    assert answer.sources_view is not None
    assert answer.sources_view.buttons[0].text() == "[1] exact.md"  # on by default with a key
    assert rerank_requests(srv) == 1
    assert chat.service.conversation_totals(chat.conversation_id).prompt_tokens > \
        answer.message.usage.prompt_tokens  # the rerank tokens are in the cost

    # Settings: off, saved, and the next answer cites the search's own order.
    box = window.settings_tab.notes_box
    assert box.rerank.isChecked() and box.rerank_model.currentText() == "gte-rerank-v2"
    box.rerank.click()
    assert not box.rerank_model.isEnabled()
    run(loop, until(lambda: not load(settings_file()).rerank_notes))
    type_and_send(qtbot, window, QUESTION)
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 4))
    assert widgets(window)[3].sources_view.buttons[0].text() == "[1] long.md"  # type: ignore[union-attr]
    assert rerank_requests(srv) == 1
