"""``qwen-desktop notes index --batch`` and ``notes jobs`` against the loopback server."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.core.paths import notes_db
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def corpus(root: Path) -> None:
    write(root / "codes.md", "# Errors\n\nE-4012 means the approval failed.\n")
    write(root / "travel.txt", "差旅报销需要发票。\n", "gbk")


def vectors() -> int:
    with sqlite3.connect(notes_db()) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def test_index_batch_submits_and_jobs_wait_imports(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus(notes_dir)
    service_env.batch_advance_on_get = False
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index", "--batch"]) == 0
    err = capsys.readouterr().err
    assert "batch mode: about CNY" in err and "Submitted 2 chunks in 1 batch job(s)" in err
    assert "notes jobs --wait" in err and service_env.embedding_requests() == []

    assert run_cli(["notes", "jobs"]) == 0  # asks the service once, lists
    out = capsys.readouterr().out
    assert re.search(r"^\s+1\s+openai\s+Waiting in the queue\s+2 chunks\s+0/1 lines", out, re.MULTILINE), out
    assert service_env.batches[0].id in out

    assert run_cli(["notes", "index"]) == 0  # a live run meanwhile leaves the job's chunks alone
    assert "Everything is up to date." in capsys.readouterr().err

    service_env.batch_advance_on_get = True
    assert run_cli(["notes", "jobs", "--wait"]) == 0
    captured = capsys.readouterr()
    assert "Job 1 imported: 2 chunks imported." in captured.err
    assert re.search(r"^\s+1\s+openai\s+Imported\s+2 chunks\s+1/1 lines.*\(2 imported\)", captured.out, re.MULTILINE)
    assert vectors() == 2 and service_env.embedding_requests() == []


def test_jobs_cancel(service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus(notes_dir)
    service_env.batch_advance_on_get = False
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index", "--batch"]) == 0
    capsys.readouterr()
    assert run_cli(["notes", "jobs", "--cancel", "1"]) == 0
    assert "Job 1: cancelling." in capsys.readouterr().err
    assert service_env.batches[0].cancel_requested
    service_env.advance_jobs(1)
    assert run_cli(["notes", "jobs", "--wait"]) == 0
    captured = capsys.readouterr()
    assert "Job 1 cancelled: 0 chunks imported, 2 chunks without a result (indexed the next time you index)" \
        in captured.err
    assert vectors() == 0
    assert run_cli(["notes", "jobs", "--cancel", "7"]) == 2


def test_index_batch_asks_before_going_live_when_unavailable(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus(notes_dir)
    service_env.batch_unsupported_models = {"text-embedding-v4"}
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    # Live costs about twice the batch price: without a yes, nothing is sent.
    assert run_cli(["notes", "index", "--batch"]) == 1
    err = capsys.readouterr().err
    assert "Batch mode is not available for this model or region" in err and "twice the batch price" in err
    assert "--yes" in err and service_env.embedding_requests() == [] and vectors() == 0
    assert run_cli(["notes", "index", "--batch", "--yes"]) == 0
    err = capsys.readouterr().err
    assert "indexing now instead" in err
    assert "Done: 2 chunks embedded" in err and vectors() == 2


def test_jobs_without_key_lists_but_cannot_wait(notes_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["notes", "jobs"]) == 0
    assert "No batch jobs." in capsys.readouterr().out
    assert run_cli(["notes", "jobs", "--wait"]) == 3


def test_separate_processes_submit_then_import(
    service_env: DashScopeServer, notes_dir: Path, data_dir: Path
) -> None:
    """The real entry point: one process submits and exits, a later one imports."""
    corpus(notes_dir)
    service_env.batch_advance_on_get = False
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "desktop", "notes", *args], cwd=PROJECT_ROOT,
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    assert cli("add", str(notes_dir)).returncode == 0
    submitted = cli("index", "--batch")
    assert submitted.returncode == 0, submitted.stderr
    assert len(service_env.batches) == 1 and vectors() == 0
    service_env.advance_jobs(3)
    imported = cli("jobs", "--wait")
    assert imported.returncode == 0, imported.stderr
    assert "2 chunks imported" in imported.stderr and vectors() == 2
