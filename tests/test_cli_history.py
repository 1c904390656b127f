"""``qwen-desktop history list|export`` and ``chat --notes`` against the loopback server (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from desktop.cli import run_cli
from desktop.core import paths
from desktop.core.history import HistoryStore
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.notes import write_notes


def test_list_and_export_conversations(
    service_env: DashScopeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_cli(["history", "list"]) == 0
    assert capsys.readouterr().out == "No conversations yet.\n"
    service_env.script_chat(ChatReply(content="| a | b |\n|---|---|\n| 1 | 2 |\n"))
    assert run_cli(["chat", "First question"]) == 0
    assert run_cli(["chat", "第二个问题"]) == 0
    capsys.readouterr()

    assert run_cli(["history", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in rows] == ["第二个问题", "First question"]
    assert all(r["messages"] == 2 and r["tokens"] > 0 and r["cost_cny"] > 0 for r in rows)
    assert run_cli(["history", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].endswith("第二个问题") and "2 messages" in out[0] and "¥" in out[0]

    assert run_cli(["history", "export", "--last"]) == 0  # Markdown to stdout
    text = capsys.readouterr().out
    assert text.startswith("# 第二个问题\n") and "Echo: 第二个问题" in text

    first = rows[1]["id"]
    target = tmp_path / "first.docx"
    assert run_cli(["history", "export", str(first), "-o", str(target)]) == 0  # format from the name
    assert "Exported conversation" in capsys.readouterr().err
    document = docx.Document(str(target))
    assert document.paragraphs[0].text == "First question"
    assert [[c.text for c in row.cells] for row in document.tables[0].rows] == [["a", "b"], ["1", "2"]]

    monkeypatch.chdir(tmp_path)
    assert run_cli(["history", "export", str(first), "--format", "docx"]) == 0
    assert (tmp_path / f"First-question-{first}.docx").is_file()
    assert run_cli(["history", "export", str(first), "-f", "md", "-o", str(tmp_path / "a.md")]) == 0
    assert "Echo" not in (tmp_path / "a.md").read_text() and "| a | b |" in (tmp_path / "a.md").read_text()

    assert run_cli(["history", "export", "999"]) == 1
    assert "no conversation with id 999" in capsys.readouterr().err


def test_chat_notes_streams_the_answer_then_the_sources(
    service_env: DashScopeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    notes = write_notes(tmp_path / "notes")
    assert run_cli(["chat", "--notes", "anything"]) == 2  # no notes folders yet
    assert "notes add" in capsys.readouterr().err
    assert run_cli(["notes", "add", str(tmp_path / "notes")]) == 0
    assert run_cli(["notes", "index"]) == 0
    capsys.readouterr()

    service_env.script_chat(ChatReply(content="Up to 500 yuan a night [1]."))
    assert run_cli(["chat", "--notes", "出差住宿报销标准是多少？"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (f"Up to 500 yuan a night [1].\n\nSources:\n[1] {notes['travel.md']} — 差旅报销制度\n")
    assert "住宿标准为每晚不超过五百元" in service_env.chat_requests()[-1]["messages"][-1]["content"]

    requests = len(service_env.chat_requests())
    assert run_cli(["chat", "--notes", "What is the capital of Australia?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Nothing in your notes seems to be about this, so Qwen was not asked.")
    assert len(service_env.chat_requests()) == requests

    history = HistoryStore(paths.history_db())
    try:
        answered = history.messages(history.conversations()[1].id)[-1]
        assert answered.sources is not None and answered.sources[0].path == str(notes["travel.md"])
    finally:
        history.close()
