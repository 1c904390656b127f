"""Turns a new user trips over, in the real window offscreen against the loopback server: editing an
earlier question says what it replaces and can be undone, Retry on an older error card retries that
turn only, a refused question offers Edit instead of Retry, and deleting or removing asks first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop.core import settings as settings_mod
from desktop.core.errors import ErrorKind
from desktop.core.history import Status
from desktop.gui.chat.messages import MessageWidget
from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


def widgets(window: MainWindow) -> list[MessageWidget]:
    return window.chat_tab.view.message_widgets()


def idle(window: MainWindow) -> bool:
    return not window.chat_tab.is_busy()


def stored(window: MainWindow) -> list[tuple[object, ...]]:
    """Everything stored of each message of the open conversation but its id."""
    tab = window.chat_tab
    assert tab.conversation_id is not None
    return [tuple(v for k, v in dataclasses.asdict(m).items() if k != "id")
            for m in tab.history.messages(tab.conversation_id)]


def open_boxes(parent: QWidget) -> list[QMessageBox]:
    return [box for box in parent.findChildren(QMessageBox) if box.isVisible()]


def press(box: QMessageBox, text: str) -> None:
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    button.click()


def reactivate(window: MainWindow) -> None:
    """What the window manager does when a box closes (offscreen, nothing does)."""
    window.activateWindow()
    QApplication.processEvents()
    assert QApplication.activeWindow() is window


def two_turns(qtbot, window: MainWindow, loop) -> None:  # type: ignore[no-untyped-def]
    type_and_send(qtbot, window, "Capital of France?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    type_and_send(qtbot, window, "Population?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 4))


def edit_question(qtbot, question: MessageWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    assert question.edit_button is not None
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    assert question.editor is not None
    question.editor.edit.setPlainText(text)
    qtbot.mouseClick(question.editor.send_button, Qt.MouseButton.LeftButton)


# ---- Edit and resend: said before, undoable after ----------------------------------------------


def test_editing_says_what_it_replaces_and_undo_puts_it_back(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="2.1 million."), ChatReply(content="Rome."))
    window = harness.open()
    tab = window.chat_tab
    two_turns(qtbot, window, loop)
    before, shown = stored(window), bodies(window)

    question = widgets(window)[0]
    assert question.edit_button is not None
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    assert question.editor is not None
    note = question.editor.note
    assert not note.isHidden() and "3 messages" in note.text() and "Undo" in note.text()
    question.editor.edit.setPlainText("Capital of Italy?")
    qtbot.mouseClick(question.editor.send_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window) == ["Capital of Italy?", "Rome."]))
    assert tab.undo_notice.isVisible() and "3 messages" in tab.undo_notice.label.text()
    assert tab.conversation_list.item(0).text() == "Capital of Italy?"

    qtbot.mouseClick(tab.undo_notice.undo_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: bodies(window) == shown))
    assert stored(window) == before  # text, times, tokens: exactly as they were
    assert not tab.undo_notice.isVisible()
    assert tab.conversation_list.item(0).text() == "Capital of France?"
    answer = widgets(window)[3]
    assert answer.regenerate_button is not None and answer.regenerate_button.isVisible()

    type_and_send(qtbot, window, "And Lyon?")  # the conversation goes on from the restored turns
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 6))
    assert [m["content"] for m in srv.chat_requests()[-1]["messages"][1:]] == [
        "Capital of France?", "Paris.", "Population?", "2.1 million.", "And Lyon?"]


def test_undo_while_the_new_answer_streams_stops_it_and_restores(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="2.1 million."),
                    ChatReply(content="word " * 400, chunk_delay=0.02))
    window = harness.open()
    tab = window.chat_tab
    two_turns(qtbot, window, loop)
    before, shown = stored(window), bodies(window)

    edit_question(qtbot, widgets(window)[2], "Area?")
    run(loop, until(lambda: len(widgets(window)) == 4 and bodies(window)[3].count("word") >= 3))
    assert tab.is_busy()
    qtbot.mouseClick(tab.undo_notice.undo_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window) == shown))
    assert stored(window) == before
    assert tab.send_button.isEnabled()


def test_the_undo_offer_ends_when_the_conversation_moves_on(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    two_turns(qtbot, window, loop)

    question = widgets(window)[2]
    assert question.edit_button is not None
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    assert question.editor is not None
    assert "the message after this question" in question.editor.note.text()
    qtbot.mouseClick(question.editor.cancel_button, Qt.MouseButton.LeftButton)
    assert not tab.undo_notice.isVisible()  # cancelling changes nothing, so nothing to undo

    edit_question(qtbot, question, "Area?")
    run(loop, until(lambda: idle(window) and bodies(window)[-1] == "Echo: Area?"))
    assert tab.undo_notice.isVisible() and "the message after the question" in tab.undo_notice.label.text()
    type_and_send(qtbot, window, "Thanks")
    assert not tab.undo_notice.isVisible()
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 6))


def test_undo_stays_offered_while_the_edited_question_is_retried(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="2.1 million."), ChatReply.error(400, "Arrearage"),
                    ChatReply(content="Rome."))
    window = harness.open()
    tab = window.chat_tab
    two_turns(qtbot, window, loop)
    before = stored(window)
    edit_question(qtbot, widgets(window)[0], "Capital of Italy?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2 and widgets(window)[1].error_card is not None))
    card = widgets(window)[1].error_card
    assert card is not None
    qtbot.mouseClick(card.retry_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window) == ["Capital of Italy?", "Rome."]))
    assert tab.undo_notice.isVisible()
    qtbot.mouseClick(tab.undo_notice.undo_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: stored(window) == before))
    assert bodies(window)[-1] == "2.1 million."


# ---- Retry belongs to its turn ------------------------------------------------------------------


def test_retry_on_an_older_error_card_retries_that_turn_only(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv, system_prompt="Be brief.")
    srv.script_chat(ChatReply.error(400, "Arrearage", "Access denied, please make sure your account is in good standing."),
                    ChatReply(content="Four."), ChatReply(content="Paris.", chunk_delay=0.05))
    window = harness.open()
    type_and_send(qtbot, window, "Capital of France?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    type_and_send(qtbot, window, "Two plus two?")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 4))
    failed, later_question, later_answer = widgets(window)[1], widgets(window)[2], widgets(window)[3]
    assert failed.error_card is not None and later_answer.body.text() == "Four."
    later_stored = stored(window)[2:]

    qtbot.mouseClick(failed.error_card.retry_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window)[1] == "Paris."))

    assert bodies(window) == ["Capital of France?", "Paris.", "Two plus two?", "Four."]
    assert widgets(window)[2] is later_question and widgets(window)[3] is later_answer  # left alone
    assert widgets(window)[1].error_card is None
    assert srv.chat_requests()[-1]["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    rows = stored(window)
    assert [(r[1], r[2], r[4]) for r in rows[:2]] == [
        ("user", "Capital of France?", Status.OK), ("assistant", "Paris.", Status.OK)]
    assert rows[2:] == later_stored
    harness.close(window)
    again = harness.open()  # the reply stays in its turn's place
    assert bodies(again) == ["Capital of France?", "Paris.", "Two plus two?", "Four."]


def test_an_error_cards_retry_waits_while_a_reply_streams(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply.error(400, "Arrearage"), ChatReply(content="word " * 200, chunk_delay=0.02))
    window = harness.open()
    type_and_send(qtbot, window, "first")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    card = widgets(window)[1].error_card
    assert card is not None and card.retry_button.isEnabled()
    type_and_send(qtbot, window, "second")
    run(loop, until(lambda: len(widgets(window)) == 4 and "word" in bodies(window)[3]))
    assert not card.retry_button.isEnabled()  # clicking it now would do nothing
    window.chat_tab.stop()
    run(loop, until(lambda: idle(window)))
    assert card.retry_button.isEnabled()


# ---- a refused question asks to be changed, not resent ------------------------------------------


def test_a_moderation_refusal_offers_edit_not_retry(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    srv.script_chat(ChatReply.error(400, "data_inspection_failed", "Input data may contain inappropriate content."))
    window = harness.open()
    type_and_send(qtbot, window, "something dubious")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    question, reply = widgets(window)
    card = reply.error_card
    assert card is not None and card.kind == ErrorKind.MODERATION.value
    assert not card.retry_button.isVisible() and card.edit_button.isVisible()

    qtbot.mouseClick(card.edit_button, Qt.MouseButton.LeftButton)
    assert question.editor is not None and question.editor.edit.toPlainText() == "something dubious"
    assert not question.editor.note.isHidden()  # the refusal after it is replaced
    question.editor.edit.setPlainText("something harmless")
    qtbot.mouseClick(question.editor.send_button, Qt.MouseButton.LeftButton)
    run(loop, until(lambda: idle(window) and bodies(window) == ["something harmless", "Echo: something harmless"]))
    assert widgets(window)[1].error_card is None


# ---- deleting and removing ask first, the same way ----------------------------------------------


def test_the_delete_key_asks_like_the_menu_then_deletes(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()
    tab = window.chat_tab
    type_and_send(qtbot, window, "first")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    tab.new_conversation()
    type_and_send(qtbot, window, "second")
    run(loop, until(lambda: idle(window) and len(widgets(window)) == 2))
    listing = tab.conversation_list
    listing.setCurrentRow(0)
    listing.setFocus()

    qtbot.keyClick(listing, Qt.Key.Key_Delete)
    (box,) = open_boxes(tab)
    assert "second" in box.text() and "cannot be undone" in box.text()
    from_menu = tab.confirm_delete(int(listing.item(0).data(Qt.ItemDataRole.UserRole)))
    assert from_menu.text() == box.text()
    assert [b.text() for b in from_menu.buttons()] == [b.text() for b in box.buttons()]
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)  # Enter destroys nothing
    press(from_menu, "Cancel")
    press(box, "Cancel")
    assert [c.title for c in tab.history.conversations()] == ["second", "first"]

    reactivate(window)
    listing.setFocus()
    qtbot.keyClick(listing, Qt.Key.Key_Delete)
    (box,) = open_boxes(tab)
    press(box, "Delete")
    assert [c.title for c in tab.history.conversations()] == ["first"]
    assert listing.count() == 1 and bodies(window) == []


def test_removing_a_notes_folder_asks_first(harness: Harness, qtbot, srv: DashScopeServer, loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folders = [tmp_path / "Notes", tmp_path / "Work"]
    for folder in folders:
        folder.mkdir()
    configure(srv, notes_folders=[str(f) for f in folders])
    window = harness.open(catch_up=False)
    tab = window.search_tab
    window.tabs.setCurrentWidget(tab)
    run(loop, until(lambda: tab.folder_list.count() == 2))
    tab.folder_list.setCurrentRow(1)

    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    (box,) = open_boxes(tab)
    assert "Work" in box.text() and "not touched" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    press(box, "Cancel")
    harness.wait_idle(window)
    assert settings_mod.load().notes_folders == [str(f) for f in folders]

    reactivate(window)
    tab.folder_list.setFocus()
    qtbot.keyClick(tab.folder_list, Qt.Key.Key_Delete)
    (box,) = open_boxes(tab)
    press(box, "Remove")
    run(loop, until(lambda: settings_mod.load().notes_folders == [str(folders[0])]))
    run(loop, until(lambda: tab.folder_list.count() == 1))
