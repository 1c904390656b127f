"""The window with damaged data files: it opens, says what happened, and offers the way back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from desktop.core.paths import history_db, notes_db
from tests.core.test_damaged_databases import GARBAGE, damage_pages, fill_history, write_notes
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


def test_a_damaged_history_opens_the_window_with_a_new_one_and_says_so(harness: Harness, qtbot, srv: DashScopeServer, loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    fill_history(history_db())
    damage_pages(history_db())
    window = harness.open(catch_up=False)
    box = window.recovery_box
    assert box is not None and box.isVisible() and "conversation history could not be read" in box.text()
    kept = [p for p in data_dir.glob(history_db().name + ".broken-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and str(kept[0]) in box.informativeText()
    box.done(0)
    window.show_chat()
    type_and_send(qtbot, window, "a new question")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    assert bodies(window)[0] == "a new question"


def test_a_damaged_notes_index_is_rebuilt_after_asking(harness: Harness, srv: DashScopeServer, loop, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes"
    write_notes(notes)
    configure(srv, notes_folders=[str(notes)], embedding_dimensions=64, batch_threshold_chunks=100_000)
    notes_db().write_bytes(GARBAGE)
    window = harness.open(catch_up=False)
    tab = window.search_tab
    finished: list[bool] = []
    tab.index_finished.connect(finished.append)
    tab.start_index()
    run(loop, until(lambda: finished == [False]))
    box = tab.index_panel.rebuild_box
    assert box is not None and box.isVisible() and notes_db().read_bytes() == GARBAGE
    box.done(QMessageBox.StandardButton.Yes)
    run(loop, until(lambda: finished == [False, True]))
    kept = [p for p in data_dir.glob(notes_db().name + ".broken-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == GARBAGE
    shown: list[int] = []
    tab.results_shown.connect(shown.append)
    tab.search_box.setText("quokka site 7")
    tab.search_now()
    run(loop, until(lambda: bool(shown)))
    assert tab.current_path() == str(notes / "n7.md")
    harness.wait_idle(window)
