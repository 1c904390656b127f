"""Every control is reachable and usable with the keyboard alone (issue 11, item 12), through real
key presses on the real window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_turns import open_boxes, press
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


def tab_through(qtbot, start: QWidget, limit: int = 60, back: bool = False) -> list[QWidget]:  # type: ignore[no-untyped-def]
    """Press Tab (Shift+Tab with ``back``) from ``start`` until the focus comes back to it."""
    start.setFocus(Qt.FocusReason.OtherFocusReason)
    assert QApplication.focusWidget() is start
    reached: list[QWidget] = []
    for _ in range(limit):
        modifier = Qt.KeyboardModifier.ShiftModifier if back else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab, modifier)
        focused = QApplication.focusWidget()
        if focused is start:
            return reached
        reached.append(focused)
    raise AssertionError(f"Tab never came back to {start!r}: {reached}")


def chat_with_one_turn(harness: Harness, qtbot, srv: DashScopeServer, loop, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    (tmp_path / "note.md").write_text("Holiday policy: 25 days.", encoding="utf-8")
    configure(srv, notes_folders=[str(tmp_path)])
    window = harness.open(catch_up=False)
    type_and_send(qtbot, window, "hello")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(bodies(window)) == 2))
    return window


def test_tab_reaches_every_chat_control_and_comes_back(harness: Harness, qtbot, srv, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    tab = window.chat_tab
    reached = tab_through(qtbot, tab.composer)
    for control in (tab.new_button, tab.filter_box, tab.conversation_list, tab.bar.rename_button,
                    tab.bar.export_button, tab.bar.delete_button, tab.model_picker, tab.thinking_box,
                    tab.notes_box, tab.send_button):
        assert control in reached, control
    actions = [w for w in reached if w.objectName() == "messageAction"]
    assert {a.text() for a in actions} >= {"Copy", "Edit", "Regenerate"}  # the per-message buttons
    assert len(reached) == len(set(map(id, reached)))  # no stop visited twice: no trap
    assert set(map(id, tab_through(qtbot, tab.composer, back=True))) == set(map(id, reached))


def test_tab_reaches_the_notes_controls(harness: Harness, qtbot, srv, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    window.tabs.setCurrentWidget(window.search_tab)
    search = window.search_tab
    assert QApplication.focusWidget() is search.search_box
    reached = tab_through(qtbot, search.search_box)
    for control in (search.result_list, search.folder_panel.list, search.index_panel.index_button):
        assert control in reached, control
    assert any(w.text().startswith("Add folder") for w in reached if hasattr(w, "text") and callable(w.text))


def test_tab_leaves_the_system_prompt_without_typing_a_tab(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    window.tabs.setCurrentWidget(window.settings_tab)
    prompt = window.settings_tab.system_prompt
    prompt.setFocus()
    before = prompt.toPlainText()
    qtbot.keyClick(prompt, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not prompt
    assert prompt.toPlainText() == before and "\t" not in window.chat_tab.session.settings.system_prompt


def test_ctrl_f_then_down_and_enter_open_a_conversation(harness: Harness, qtbot, srv, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    tab = window.chat_tab
    tab.new_conversation()
    type_and_send(qtbot, window, "budget for March")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    tab.new_conversation()

    qtbot.keyClick(tab.composer, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is tab.filter_box
    qtbot.keyClicks(tab.filter_box, "hello")
    tab.sidebar.reload(tab.conversation_id)  # what the typing pause starts
    assert tab.conversation_list.count() == 1
    qtbot.keyClick(tab.filter_box, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is tab.conversation_list
    assert bodies(window) == ["hello", "Echo: hello"]  # the match is open
    qtbot.keyClick(tab.conversation_list, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is tab.composer


def test_f2_renames_in_place_and_delete_asks(harness: Harness, qtbot, srv, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    tab = window.chat_tab
    listing = tab.conversation_list
    listing.setCurrentRow(0)
    listing.setFocus()
    qtbot.keyClick(listing, Qt.Key.Key_F2)
    assert listing.state() == QAbstractItemView.State.EditingState
    editor = QApplication.focusWidget()
    editor.selectAll()  # type: ignore[union-attr]
    qtbot.keyClicks(editor, "Greetings")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: listing.state() != QAbstractItemView.State.EditingState)  # committed queued
    assert [c.title for c in tab.history.conversations()] == ["Greetings"]
    assert tab.bar.title.text() == "Greetings"

    listing.setFocus()
    qtbot.keyClick(listing, Qt.Key.Key_Delete)
    (box,) = open_boxes(tab)
    press(box, "Delete")
    assert tab.history.conversations() == []


def test_ctrl_f_down_and_enter_reach_and_open_a_note(harness: Harness, qtbot, srv, loop, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    search = window.search_tab
    window.tabs.setCurrentWidget(search)
    run(loop, search.notes.index())  # keyword search needs the notes read
    opened: list[str] = []
    monkeypatch.setattr("desktop.gui.search.results.open_file", lambda path: opened.append(path) or True)
    qtbot.keyClick(search.search_box, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is search.search_box
    qtbot.keyClicks(search.search_box, "Holiday")
    qtbot.keyClick(search.search_box, Qt.Key.Key_Return)  # search now, and go to the results
    harness.wait_idle(window)
    qtbot.keyClick(search.search_box, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is search.result_list
    assert search.result_list.currentRow() == 0
    qtbot.keyClick(search.result_list, Qt.Key.Key_Return)
    assert opened and opened[0].endswith("note.md")


def test_enter_sends_an_edited_question_and_esc_cancels(harness: Harness, qtbot, srv, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = chat_with_one_turn(harness, qtbot, srv, loop, tmp_path)
    question = window.chat_tab.view.message_widgets()[0]
    question.start_edit()
    box = question.editor.edit  # type: ignore[union-attr]
    assert QApplication.focusWidget() is box
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert question.editor is None or not question.editor.isVisible()
    assert bodies(window) == ["hello", "Echo: hello"] and len(srv.chat_requests()) == 1

    question.start_edit()
    box = question.editor.edit  # type: ignore[union-attr]
    box.selectAll()
    qtbot.keyClicks(box, "hello again")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "second line")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(srv.chat_requests()) == 2))
    assert srv.chat_requests()[-1]["messages"][-1]["content"] == "hello again\nsecond line"
    edited = window.chat_tab.view.message_widgets()[0]
    assert "edited" in edited.header.text() and edited.header.toolTip().startswith("Edited 20")
