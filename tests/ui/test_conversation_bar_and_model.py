"""Rename / Export / Delete in plain sight above the conversation (issue 11, item 13), and the model
chosen from the chat bar, each said in plain words with its price from prices.json (item 14)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QFileDialog

from desktop.core import settings as settings_mod
from desktop.core.pricing import prices_file
from tests.support.qt_async import run, until
from tests.ui.test_chat_turns import open_boxes, press
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


def test_the_bar_names_the_open_conversation_and_acts_on_it(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    tab = window.chat_tab
    assert tab.bar.isHidden()  # a new chat has nothing to rename, export or delete
    type_and_send(qtbot, window, "Plan the offsite")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    assert tab.bar.isVisible() and tab.bar.title.text() == "Plan the offsite"
    for button in (tab.bar.rename_button, tab.bar.export_button, tab.bar.delete_button):
        assert button.isVisible() and button.isEnabled()

    qtbot.mouseClick(tab.bar.rename_button, Qt.MouseButton.LeftButton)
    assert tab.conversation_list.state() == QAbstractItemView.State.EditingState
    editor = QApplication.focusWidget()
    editor.setText("Offsite 2027")  # type: ignore[union-attr]
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.bar.title.text() == "Offsite 2027")

    actions = tab.bar.export_button.menu().actions()
    assert [a.text() for a in actions] == ["Export as Markdown…", "Export as Word document…"]
    actions[1].trigger()
    dialog = next(d for d in tab.findChildren(QFileDialog) if d.isVisible())
    assert dialog.selectedFiles()[0].endswith(".docx") and "Offsite 2027" in dialog.selectedFiles()[0]
    dialog.reject()

    qtbot.mouseClick(tab.bar.delete_button, Qt.MouseButton.LeftButton)
    (box,) = open_boxes(tab)
    assert "Offsite 2027" in box.text()
    press(box, "Delete")
    assert tab.history.conversations() == [] and tab.bar.isHidden()


def test_the_model_is_chosen_in_the_chat_bar_and_used_for_the_next_reply(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    tab = window.chat_tab
    picker = tab.model_picker
    assert picker.current_model() == "qwen-plus"
    rows = {picker.itemText(i): picker.describe(picker.itemText(i)) for i in range(picker.count())}
    assert "qwen-max" in rows and "qwq-plus" in rows
    assert "Balanced" in rows["qwen-plus"] and "¥0.8 in, ¥2 out per million tokens" in rows["qwen-plus"]
    assert "(¥8 out when thinking)" in rows["qwen-plus"] and "can think first" in rows["qwen-plus"]
    assert "always thinks first" in rows["qwq-plus"] and "without deep thinking" in rows["qwen-max"]

    picker.setFocus()
    index = picker.findText("qwen-max")
    picker.setCurrentIndex(index)
    picker.activated.emit(index)  # what choosing a row in the open list does
    assert tab.session.settings.model == "qwen-max"
    assert window.settings_tab.model_combo.currentText() == "qwen-max"
    assert not tab.thinking_box.isEnabled()  # qwen-max does not think
    type_and_send(qtbot, window, "hi")
    run(loop, until(lambda: not tab.is_busy() and len(bodies(window)) == 2))
    assert srv.chat_requests()[-1]["model"] == "qwen-max"

    # A later edit in Settings keeps the model chosen in the chat bar.
    window.settings_tab.temperature.setValue(1.1)
    assert tab.session.settings.model == "qwen-max" and tab.session.settings.temperature == 1.1
    harness.close(window)
    assert settings_mod.load().model == "qwen-max"  # the default from now on


def test_an_edited_price_shows_when_the_list_opens(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    picker = window.chat_tab.model_picker
    path: Path = prices_file()
    table = json.loads(path.read_text(encoding="utf-8"))
    table["models"]["qwen-flash"] = {"input": 0.5, "output": 3.0}
    path.write_text(json.dumps(table), encoding="utf-8")
    future = time.time() + 5
    os.utime(path, (future, future))  # a new mtime even on a coarse clock
    picker.showPopup()
    row = picker.itemData(picker.findText("qwen-flash"), Qt.ItemDataRole.UserRole + 1)
    picker.hidePopup()
    assert "¥0.5 in, ¥3 out per million tokens" in row
