"""What the Search tab shows for a code: exact matches first or an honest notice, a percentage
only for meaning similarity, readable snippets, and rows laid out at their full height at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from desktop.core.notes.service import NotesService
from desktop.core.paths import notes_db
from desktop.core.tasks import TaskRunner
from desktop.gui.search.tab import SearchTab
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_search_tab import make_session


def make_corpus(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "invoice.md").write_text("# Payments\n\n- The supplier invoice **REF-0777** was paid in March.\n",
                                     encoding="utf-8")
    (root / "similar.md").write_text("# Ref 0777\n\nref 0777 ref 0777 REF 0777 reference 0777\n", encoding="utf-8")
    for i in range(24):
        (root / f"note{i:02d}.md").write_text(
            f"# Note {i}\n\n" + f"A long paragraph about reference number {i} and what it was for. " * 6 + "\n",
            encoding="utf-8")


def row_texts(tab: SearchTab) -> list[str]:
    view = tab.result_list
    return [view.itemWidget(view.item(i)).text() for i in range(view.count()) if view.itemWidget(view.item(i))]


def rows_fit(tab: SearchTab) -> bool:
    view = tab.result_list
    width = view.viewport().width()
    for i in range(view.count()):
        item = view.item(i)
        label = view.itemWidget(item)
        if label is None:
            continue
        # The label is laid out at the list's width, and the row is as tall as the label needs there.
        if label.width() != width or item.sizeHint().height() != label.heightForWidth(label.width()):
            return False
    return True


def test_a_code_shows_exact_matches_first_or_says_there_are_none(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_corpus(notes)

    async def scenario() -> None:
        session = make_session(notes, srv)
        tab = SearchTab(NotesService(session, notes_db()), TaskRunner(), watch=False, search_delay_ms=0)
        qtbot.addWidget(tab)
        tab.resize(700, 500)
        tab.show()
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        tab.index_button.click()
        await until(lambda: finished == [True])
        shown: list[int] = []
        tab.results_shown.connect(shown.append)

        tab.search_box.setText("REF-0777")
        tab.search_now()
        await until(lambda: len(shown) == 1)
        assert tab.current_path() == str(notes / "invoice.md")
        assert not tab.notice_label.isVisible()
        texts = row_texts(tab)
        assert "exact match" in texts[0] and "exact match" not in texts[1]
        assert "**" not in texts[0] and "100%" not in "".join(texts)
        assert "<b>REF-0777</b>" in texts[0]

        tab.search_box.setText("XQ-9931")
        tab.search_now()
        await until(lambda: len(shown) == 2)
        assert shown[1] > 0  # the closest by meaning are still listed
        assert tab.notice_label.isVisible()
        assert tab.notice_label.text() == "No note contains “XQ-9931” exactly; these are the closest by meaning."
        texts = row_texts(tab)
        assert "100%" not in "".join(texts) and "exact match" not in "".join(texts)
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_result_rows_have_their_full_height_without_a_resize(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_corpus(notes)

    async def scenario() -> None:
        session = make_session(notes, srv)
        service = NotesService(session, notes_db())
        tab = SearchTab(service, TaskRunner(), watch=False, search_delay_ms=0)
        qtbot.addWidget(tab)
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        tab.index_button.click()
        await until(lambda: finished == [True])
        shown: list[int] = []
        tab.results_shown.connect(shown.append)
        # Results arrive while the tab is not on screen yet; then it is shown, at its own size.
        tab.search_box.setText("reference number")
        tab.search_now()
        await until(lambda: len(shown) == 1)
        assert shown[0] >= 10  # more rows than fit: the scroll bar takes width from the rows
        tab.resize(640, 480)
        tab.show()
        await until(lambda: tab.result_list.verticalScrollBar().isVisible())
        await until(lambda: rows_fit(tab), timeout=5)

        # A new search while shown: right after the results, the rows fit the list as it is.
        tab.search_box.setText("reference 0777")
        tab.search_now()
        await until(lambda: len(shown) == 2)
        await until(lambda: rows_fit(tab), timeout=5)
        await tab.aclose()
        await service.aclose()
        await session.aclose()

    run(loop, scenario())
