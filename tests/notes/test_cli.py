"""``qwen-desktop notes …`` against the loopback server (in-process, plus the real entry point once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import run_cli
from tests.notes.conftest import write
from tests.support.dashscope_server import TEST_KEY, DashScopeServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def corpus(root: Path) -> None:
    write(root / "codes.md", "# Errors\n\nE-4012 means the approval failed.\n")
    write(root / "travel.txt", "差旅报销需要发票。\n", "gbk")
    (root / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)


def test_add_index_list_search(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "add", str(notes_dir / "codes.md")]) == 2  # not a folder
    capsys.readouterr()

    assert run_cli(["notes", "index"]) == 0
    err = capsys.readouterr().err
    assert "2 chunks" in err and "Done: 2 chunks embedded" in err
    assert len(service_env.embedding_requests()) == 1

    assert run_cli(["notes", "list", "--skipped"]) == 0
    out = capsys.readouterr().out
    assert str(notes_dir) in out and "2 files, 2 chunks (2 by meaning), 1 skipped" in out
    assert "blob.txt: Not a text file" in out

    assert run_cli(["notes", "search", "报销", "--json", "-k", "1"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 1 and hits[0]["path"].endswith("travel.txt")
    assert {"path", "score", "snippet"} <= hits[0].keys() and "报销" in hits[0]["snippet"]

    assert run_cli(["notes", "search", "E-4012"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"1. {notes_dir / 'codes.md'}:3") and "[E-4012]" in out

    requests = len(service_env.embedding_requests())  # the index run's one, plus one per query
    assert run_cli(["notes", "index"]) == 0
    assert "Everything is up to date." in capsys.readouterr().err
    assert len(service_env.embedding_requests()) == requests  # nothing sent

    assert run_cli(["notes", "remove", str(notes_dir)]) == 0
    assert run_cli(["notes", "remove", str(notes_dir)]) == 1
    capsys.readouterr()
    assert run_cli(["notes", "search", "E-4012", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_index_without_key_exits_3_but_keyword_search_works(
    notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index"]) == 3
    err = capsys.readouterr().err
    assert "No API key is set" in err and err.count("qwen-desktop:") == 1
    assert run_cli(["notes", "search", "E-4012", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["path"].endswith("codes.md")
    assert "Keyword search only" in captured.err


def test_index_with_service_down_exits_4(
    notes_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus(notes_dir)
    with DashScopeServer() as gone:
        url = gone.base_url
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", url)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index"]) == 4
    assert "Could not reach the Qwen service" in capsys.readouterr().err


def test_index_without_folders_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["notes", "index"]) == 2
    assert "notes add DIR" in capsys.readouterr().err


def test_real_entry_point(service_env: DashScopeServer, notes_dir: Path, data_dir: Path) -> None:
    corpus(notes_dir)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "desktop", "notes", *args], cwd=PROJECT_ROOT,
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    assert cli("add", str(notes_dir)).returncode == 0
    indexed = cli("index")
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout == ""  # progress goes to stderr only
    found = cli("search", "approval", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)[0]["path"].endswith("codes.md")
    assert "PySide6" not in cli("list").stderr
