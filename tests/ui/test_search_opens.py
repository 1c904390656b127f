"""What the Search tab says when a result cannot be opened or shown in its folder: a file deleted
after indexing, no app to open it. Real index, real files, the real search; the system's opener is
stood in for by a QDesktopServices URL handler (UrlCatcher) where an open should succeed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl

from desktop.core.paths import notes_db
from desktop.core.notes.service import NotesService
from desktop.gui.search.tab import SearchTab
from desktop.core.tasks import TaskRunner
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_features import UrlCatcher, opened  # noqa: F401
from tests.ui.test_search_tab import make_notes, make_session

# The offscreen platform has no system opener: QDesktopServices.openUrl warns and returns False,
# which is exactly the failure these tests want the tab to put in words.
NO_OPENER = "This plugin does not support QPlatformServices::openDocument"


async def indexed_tab(qtbot: Any, notes: Path, srv: DashScopeServer) -> SearchTab:
    session = make_session(notes, srv)
    tab = SearchTab(NotesService(session, notes_db()), TaskRunner(), watch=False, search_delay_ms=50)
    qtbot.addWidget(tab)
    tab.show()
    finished: list[bool] = []
    tab.index_finished.connect(finished.append)
    tab.index_button.click()
    await until(lambda: finished == [True], timeout=30)
    tab._test_session = session  # type: ignore[attr-defined]  # closed by close_tab
    return tab


async def close_tab(tab: SearchTab) -> None:
    await tab.aclose()
    await tab.notes.aclose()
    await tab._test_session.aclose()  # type: ignore[attr-defined]


async def search(qtbot: Any, tab: SearchTab, text: str) -> None:
    shown: list[int] = []
    tab.results_shown.connect(shown.append)
    tab.search_box.setText(text)
    await until(lambda: bool(shown))


def status(tab: SearchTab) -> str:
    label = tab.results.open_status
    return label.text() if label.isVisible() else ""


def test_a_deleted_file_says_it_is_gone_and_a_present_one_opens(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path,
    opened: UrlCatcher,  # noqa: F811
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 3)
    codes = notes / "codes.md"

    async def scenario() -> None:
        tab = await indexed_tab(qtbot, notes, srv)
        await search(qtbot, tab, "E-4012")
        assert tab.current_path() == str(codes)
        assert status(tab) == ""

        codes.unlink()  # deleted after indexing: the result is still listed
        tab.open_button.click()
        assert opened.urls == []
        assert status(tab) == f"This file is no longer there: {codes}"

        tab.results.show_button.click()  # Show in folder says the same, and opens nothing
        assert opened.urls == []
        assert status(tab) == f"This file is no longer there: {codes}"

        # Double-click (activation) goes the same way.
        tab.result_list.itemActivated.emit(tab.result_list.currentItem())
        assert opened.urls == [] and "no longer there" in status(tab)

        # A file that is there opens, and the old complaint goes away.
        codes.write_text("# Errors\n\nE-4012 means the approval failed.\n", encoding="utf-8")
        tab.open_button.click()
        assert opened.urls == [QUrl.fromLocalFile(str(codes))]
        assert status(tab) == ""
        tab.results.show_button.click()
        assert opened.urls[-1].toLocalFile().rstrip("/") == str(notes)
        assert status(tab) == ""
        await close_tab(tab)

    run(loop, scenario(), timeout=60)


@pytest.mark.qt_log_ignore(NO_OPENER)
def test_no_app_to_open_the_file_is_said_in_plain_words(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path,
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 3)
    codes = notes / "codes.md"

    async def scenario() -> None:
        tab = await indexed_tab(qtbot, notes, srv)
        await search(qtbot, tab, "E-4012")
        tab.open_button.click()  # no URL handler: the platform cannot open it
        assert status(tab) == f"Could not open {codes}: no app on this computer opened it."
        tab.results.show_button.click()
        assert status(tab) == f"Could not show {codes} in its folder."
        await close_tab(tab)

    run(loop, scenario(), timeout=60)
