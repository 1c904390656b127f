"""An export says where it was saved, with Show in folder, and the export dialog starts in the last
folder exported to, with a clean name (issue 11, item 11); on the real window."""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop.gui.chat import exporting
from tests.ui.test_chat_window import Harness, configure, harness  # noqa: F401


def saved_notices(tab):  # type: ignore[no-untyped-def]
    return [b for b in tab.findChildren(QMessageBox) if b.objectName() == "exportSaved" and b.isVisible()]


def test_export_says_where_it_saved_and_the_dialog_remembers_the_folder(harness: Harness, qtbot, srv, loop, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv)
    window = harness.open(catch_up=False)
    tab = window.chat_tab
    conversation = tab.history.create_conversation('Quarterly: budget/"v2"')
    tab.history.add_message(conversation.id, "user", "How much?")
    tab.history.add_message(conversation.id, "assistant", "Enough.")
    tab.reload_conversations()

    first = tab.choose_export_file(conversation.id, "md")
    today = datetime.date.today().isoformat()
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    start = Path(documents) if Path(documents).is_dir() else Path.home()
    assert Path(first.directory().absolutePath()) == start
    assert first.selectedFiles() and Path(first.selectedFiles()[0]).name == f"Quarterly budget v2 {today}.md"
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "budget.md"
    first.fileSelected.emit(str(target))  # what the dialog does when the user picks the file
    first.reject()

    assert target.read_text(encoding="utf-8").startswith('# Quarterly: budget/"v2"')
    notices = saved_notices(tab)
    assert len(notices) == 1 and str(target) in notices[0].text()
    opened: list[Path] = []
    monkeypatch.setattr(exporting, "show_folder", lambda path: opened.append(path) or True)
    button = next(b for b in notices[0].findChildren(QPushButton) if b.objectName() == "showInFolder")
    assert button.text() == "Show in folder"
    button.click()
    assert opened == [target]

    second = tab.choose_export_file(conversation.id, "docx")
    assert Path(second.directory().absolutePath()) == folder
    assert Path(second.selectedFiles()[0]).name == f"Quarterly budget v2 {today}.docx"
    second.reject()
