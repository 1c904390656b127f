"""The Search tab's "Add folder…" dialog starts where the user keeps documents, then beside the
last folder they added, also after a restart; the place is UI state (window.ini), not a setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.core.paths import data_dir, settings_file
from desktop.gui.main_window import MainWindow
from tests.support.dashscope_server import DashScopeServer
from tests.ui.test_chat_window import Harness, configure, harness  # noqa: F401


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own with a Documents folder (and no user-dirs.dirs to point elsewhere)."""
    home = tmp_path / "user"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def open_add_dialog(window: MainWindow) -> QFileDialog:
    panel = window.search_tab.folder_panel
    panel.add_button.click()
    (dialog,) = [d for d in panel.findChildren(QFileDialog) if d.isVisible()]
    return dialog


def choose(dialog: QFileDialog, folder: Path) -> None:
    """What the user does: picks the folder and presses Choose."""
    dialog.selectFile(str(folder))
    dialog.accept()


def same_dir(a: str, b: Path) -> bool:
    return Path(a).resolve() == b.resolve()


def test_add_folder_starts_in_documents_then_beside_the_last_folder_added(
    harness: Harness, srv: DashScopeServer, tmp_path: Path, user_home: Path,  # noqa: F811
) -> None:
    configure(srv)
    notes = tmp_path / "work" / "projects" / "notes"
    notes.mkdir(parents=True)
    (notes / "a.md").write_text("# A\n\nalpha\n", encoding="utf-8")
    window = harness.open(catch_up=False)

    first = open_add_dialog(window)
    assert same_dir(first.directory().absolutePath(), user_home / "Documents")
    choose(first, notes)
    harness.wait_idle(window)
    assert window.search_tab.folders == [str(notes)]

    second = open_add_dialog(window)
    assert same_dir(second.directory().absolutePath(), notes.parent)
    second.reject()

    # Remembered across a restart, in the window's UI state and not in the user's settings.
    harness.close(window)
    again = harness.open(catch_up=False)
    third = open_add_dialog(again)
    assert same_dir(third.directory().absolutePath(), notes.parent)
    third.reject()
    assert str(notes.parent) not in settings_file().read_text(encoding="utf-8").replace(str(notes), "")
    assert str(notes.parent) in (data_dir() / "window.ini").read_text(encoding="utf-8")


def test_a_remembered_folder_that_is_gone_falls_back_to_documents(
    harness: Harness, srv: DashScopeServer, tmp_path: Path, user_home: Path,  # noqa: F811
) -> None:
    configure(srv)
    gone = tmp_path / "usb" / "notes"
    gone.mkdir(parents=True)
    window = harness.open(catch_up=False)
    choose(open_add_dialog(window), gone)
    harness.wait_idle(window)
    gone.rmdir()
    gone.parent.rmdir()  # the drive was unplugged
    dialog = open_add_dialog(window)
    assert same_dir(dialog.directory().absolutePath(), user_home / "Documents")
    dialog.reject()
