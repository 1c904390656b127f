"""Settings → Backups in the real window (offscreen): back up, restore while the window is open,
refusals, importing on a new computer without a key, the day's backup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QScrollArea

from desktop.core import paths
from desktop.core.backup.archive import Kind
from desktop.core.secrets import KeyStore
from tests.support.backups import fill_data, folder_state, table_rows
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401


def _press(box: QMessageBox | None, text: str) -> None:
    assert box is not None and box.isVisible()
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


def _titles(window) -> list[str]:  # type: ignore[no-untyped-def]
    lst = window.chat_tab.conversation_list
    return [lst.item(i).text() for i in range(lst.count())]


def test_restore_while_the_window_is_open(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    fill_data(conversations=3)  # model qwen-max, a Chinese system prompt
    rows = table_rows(paths.history_db())
    window = harness.open(catch_up=False)
    section = window.backups
    harness.wait_idle(window)
    assert section.list.topLevelItemCount() == 0

    section.back_up_button.click()
    harness.wait_idle(window)
    assert section.list.topLevelItemCount() == 1
    assert section.list.topLevelItem(0).text(1) == "3"
    assert "Backed up 3 conversations" in section.status.text()

    # After the backup: a new conversation, and another model chosen in Settings.
    window.show_chat()
    window.chat_tab.new_conversation()
    type_and_send(qtbot, window, "written after the backup")
    run(loop, until(lambda: len(bodies(window)) == 2 and not window.chat_tab.is_busy()))
    window.settings_tab.model_combo.setCurrentText("qwen-flash")
    assert window.session.settings.model == "qwen-flash"
    assert len(_titles(window)) == 4

    window.show_settings()
    section.list.setCurrentItem(section.list.topLevelItem(0))
    section.restore_button.click()
    run(loop, until(lambda: section.box is not None and section.box.objectName() == "restoreQuestion"))
    text = section.box.informativeText()
    assert "It holds 3 conversations (18 messages)" in text and "It replaces your 4 conversations" in text
    _press(section.box, "Restore")
    harness.wait_idle(window)

    assert table_rows(paths.history_db()) == rows
    assert _titles(window) == ["会议纪要 2 — notes", "会议纪要 1 — notes", "会议纪要 0 — notes"]
    assert window.chat_tab.conversation_id is not None
    assert bodies(window)[0].startswith("问题 0")  # the latest restored conversation is open
    assert window.session.settings.model == "qwen-max"
    assert window.settings_tab.model_combo.currentText() == "qwen-max"  # the tab shows it too
    assert window.settings_tab.system_prompt.toPlainText() == "只用中文回答。"
    assert "Restored 3 conversations." in section.status.text()
    kinds = [section.list.topLevelItem(i).text(3) for i in range(section.list.topLevelItemCount())]
    assert kinds == ["Before a restore", "Made by hand"]
    assert json.loads(paths.settings_file().read_text("utf-8"))["model"] == "qwen-max"  # written


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(  # type: ignore[no-untyped-def]
    harness: Harness, srv: DashScopeServer, loop, tmp_path: Path,
) -> None:
    configure(srv)
    fill_data(conversations=2)
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    before = folder_state(paths.data_dir())
    minutes = tmp_path / "minutes.zip"
    minutes.write_bytes(b"PK\x03\x04 cut short")
    window.backups.ask_restore(minutes, importing=True)
    harness.wait_idle(window)
    box = window.backups.box
    assert box is not None and box.objectName() == "restoreRefused"
    assert "incomplete" in box.text() and "Nothing was changed" in box.text()
    assert folder_state(paths.data_dir()) == before
    assert len(_titles(window)) == 2


def test_import_on_a_new_computer_then_asks_for_the_key(  # type: ignore[no-untyped-def]
    harness: Harness, srv: DashScopeServer, loop, tmp_path: Path,
) -> None:
    configure(srv)
    fill_data(conversations=2)
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    exported = tmp_path / "Qwen Desktop export.zip"
    window.backups.export_to(exported)
    harness.wait_idle(window)
    assert exported.is_file() and str(exported) in window.backups.status.text()
    harness.close(window)

    shutil.rmtree(paths.data_dir())  # the new computer: no data, no key
    paths.data_dir()
    KeyStore().delete()
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    assert _titles(window) == []
    scroll = window.settings_tab.findChild(QScrollArea)
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())  # down at Backups
    assert window.settings_tab.key_edit.visibleRegion().isEmpty()
    window.backups.choose_import_file().fileSelected.emit(str(exported))
    run(loop, until(lambda: window.backups.box is not None and window.backups.box.isVisible()))
    _press(window.backups.box, "Restore")
    harness.wait_idle(window)
    assert len(_titles(window)) == 2
    assert window.backups.box is not None and window.backups.box.objectName() == "askForKey"
    assert window.tabs.currentWidget() is window.settings_tab
    assert not window.settings_tab.key_edit.visibleRegion().isEmpty()  # scrolled up to the key field


def test_the_days_backup_is_made_once_after_start(harness: Harness, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    fill_data(conversations=1)
    window = harness.open(catch_up=False)
    window.backups.start_daily(0)
    run(loop, until(lambda: window.backups.list.topLevelItemCount() == 1))
    harness.wait_idle(window)
    run(loop, window.backups.run_daily())
    assert [b.manifest.kind for b in window.context.backups.backups()] == [Kind.DAILY]


def test_the_folder_and_the_index_choice_are_kept(harness: Harness, srv: DashScopeServer, loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    fill_data(conversations=1)
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    section = window.backups
    assert not section.with_index.isChecked()  # off by default
    synced = tmp_path / "坚果云" / "Qwen"
    synced.mkdir(parents=True)
    section.choose_folder().fileSelected.emit(str(synced))
    section.with_index.setChecked(True)
    harness.wait_idle(window)
    assert str(synced) in section.folder_label.text() and section.default_folder_button.isEnabled()
    section.back_up_button.click()
    harness.wait_idle(window)
    assert [p.parent for p in synced.iterdir()] == [synced] and section.list.topLevelItemCount() == 1
    harness.close(window)

    window = harness.open(catch_up=False)  # the next start
    harness.wait_idle(window)
    assert window.backups.with_index.isChecked()
    assert window.backups.list.topLevelItemCount() == 1
    window.backups.default_folder_button.click()
    harness.wait_idle(window)
    assert window.backups.list.topLevelItemCount() == 0
    assert str(paths.data_dir() / "backups") in window.backups.folder_label.text()
