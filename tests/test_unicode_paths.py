"""Paths with Chinese characters and spaces, as office users' folders have them on Windows
("C:\\Users\\张伟\\Documents\\工作 笔记"): the real entry point with such a data dir, notes folder and
temporary folder adds, indexes and searches the notes, chats, runs the self-test and opens the
window; and the Windows-only commands are built right for such paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.gui.common.file_manager import reveal_command
from tests.support.dashscope_server import TEST_KEY, DashScopeServer

REPO = Path(__file__).resolve().parents[1]
KEYRING_REQUIRED = os.environ.get("QWEN_TEST_REAL_KEYRING") == "1"


@pytest.fixture
def chinese_dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(data dir, notes folder, temporary folder), none of them existing yet but the notes."""
    home = tmp_path / "用户 数据" / "Qwen Desktop 配置"
    notes = tmp_path / "我的 文档" / "工作 笔记 2024"
    temp = tmp_path / "临时 文件"
    temp.mkdir()
    (notes / "周报 第一周").mkdir(parents=True)
    (notes / "周报 第一周" / "会议 记录.md").write_text(
        "# 项目会议\n\n差旅报销需要发票和审批单。\n", encoding="utf-8")
    (notes / "Budget notes.txt").write_text("The approval code E-4012 means the budget failed.\n",
                                           encoding="utf-8")
    return home, notes, temp


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout, check=False)


def test_the_real_entry_point_works_in_chinese_paths_with_spaces(
        srv: DashScopeServer, chinese_dirs: tuple[Path, Path, Path]) -> None:
    home, notes, temp = chinese_dirs
    env = {**os.environ, "QWEN_DESKTOP_HOME": str(home), "DASHSCOPE_BASE_URL": srv.base_url,
           "DASHSCOPE_API_KEY": TEST_KEY,
           "TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp), "PYTHONIOENCODING": "utf-8",
           "QT_QPA_PLATFORM": "offscreen", "QWEN_DESKTOP_RETRY_SCALE": "0.001"}
    added = run(["notes", "add", str(notes)], env)
    assert added.returncode == 0, added.stderr
    indexed = run(["notes", "index"], env)
    assert indexed.returncode == 0 and "2 chunks" in indexed.stderr, indexed.stderr
    found = run(["notes", "search", "报销", "--json", "-k", "1"], env)
    assert found.returncode == 0, found.stderr
    hit = json.loads(found.stdout)[0]
    assert Path(hit["path"]) == notes / "周报 第一周" / "会议 记录.md" and "报销" in hit["snippet"]
    listed = run(["notes", "list"], env)
    assert str(notes) in listed.stdout

    chat = run(["chat", "你好,世界"], env)
    assert chat.returncode == 0 and chat.stdout.strip() == "Echo: 你好,世界", chat.stderr
    assert (home / "history.sqlite3").is_file() and (home / "notes.sqlite3").is_file()

    # The window: settings, history, notes index, log file and single-instance socket in that dir.
    window = run([], {**env, "QWEN_DESKTOP_EXIT_AFTER_SHOWN": "1"})
    assert window.returncode == 0 and "qwen-desktop: window shown" in window.stdout, window.stderr
    log = (home / "logs" / "qwen-desktop.log").read_text(encoding="utf-8")
    assert f"data in {home}" in log and "window shown" in log

    # The self-test, with its temporary data dir under the Chinese TMPDIR.
    selftest = run(["--self-test"], env)
    failed = [line for line in selftest.stdout.splitlines() if line.startswith("FAIL")
              and (KEYRING_REQUIRED or not line.startswith("FAIL keyring:"))]
    assert not failed, selftest.stdout + selftest.stderr
    assert str(temp) in selftest.stdout  # "writable temporary <TMPDIR>/qwen-desktop-self-test-..."


def test_explorer_selects_a_file_in_a_chinese_path_with_spaces() -> None:
    program, args = reveal_command("C:/Users/张伟/Documents/工作 笔记/周报 2024.docx", "win32") or ("", [])
    assert program == "explorer.exe"
    assert args == ["/select,", "C:\\Users\\张伟\\Documents\\工作 笔记\\周报 2024.docx"]
    assert reveal_command("/Users/zw/工作 笔记/a.md", "darwin") == ("open", ["-R", "/Users/zw/工作 笔记/a.md"])
    assert reveal_command("/home/zw/工作 笔记/a.md", "linux") is None  # the folder opens instead


def test_show_in_folder_starts_explorer_with_that_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.gui.common import file_manager

    started: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(file_manager.QProcess, "startDetached",
                        lambda program, args: started.append((program, args)) or (True, 42))
    assert file_manager.show_in_folder("D:\\资料 库\\报告.pdf", platform="win32")
    assert started == [("explorer.exe", ["/select,", "D:\\资料 库\\报告.pdf"])]
