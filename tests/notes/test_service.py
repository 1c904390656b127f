"""The notes service, the one place the window and the command line take notes workflows from:
the large-run policy, batch mode, keyword-only without a key, one run at a time, and folder removal
stopping a run — against the loopback server and a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.core import settings as settings_mod
from desktop.core.notes.batch import BatchConfig, PollSchedule
from desktop.core.notes.service import AddResult, IndexProgressed, NotesService, RunMode, RunResult
from desktop.core.paths import notes_db
from desktop.core.runtime import Session
from desktop.core.secrets import KeyStore
from desktop.core.settings import Settings
from tests.notes.conftest import write
from tests.support.dashscope_server import TEST_KEY, DashScopeServer

FAST_POLL = BatchConfig(poll=PollSchedule(first=0.01, running_min=0.01, maximum=0.02, scale=1.0))


def corpus(root: Path, count: int) -> None:
    for i in range(count):
        write(root / f"note{i}.md", f"# Note {i}\n\nSubject {i}: the budget of team {i}.\n")


def vectors() -> int:
    with sqlite3.connect(notes_db()) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def session_for(srv: DashScopeServer | None, notes: Path, **changes: object) -> Session:
    keys = KeyStore()
    if srv is not None:
        keys.use_for_session(TEST_KEY)
    base = srv.base_url if srv is not None else "http://127.0.0.1:9/compatible-mode/v1"
    settings = Settings(region="custom", custom_base_url=base, notes_folders=[str(notes)],
                        embedding_dimensions=64).replace(**changes)
    session = Session(settings, keys)
    session.load_key()
    return session


@pytest.fixture
async def opened() -> list[tuple[NotesService, Session]]:
    made: list[tuple[NotesService, Session]] = []
    yield made
    for service, session in made:
        await service.aclose()
        await session.aclose()


def service_for(opened: list[tuple[NotesService, Session]], session: Session) -> NotesService:
    service = NotesService(session, notes_db(), FAST_POLL)
    opened.append((service, session))
    return service


async def test_a_large_run_asks_first_and_sends_nothing_until_answered(
    srv: DashScopeServer, notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    corpus(notes_dir, 5)
    notes = service_for(opened, session_for(srv, notes_dir, batch_threshold_chunks=3))
    events: list[object] = []
    asked = await notes.index(on_event=events.append)
    assert asked.result is RunResult.CHOOSE and asked.estimate is not None
    assert asked.estimate.chunks == 5 and asked.estimate.batch_cost_cny < asked.estimate.cost_cny
    assert srv.embedding_requests() == [] and vectors() == 0
    assert any(isinstance(e, IndexProgressed) for e in events)

    done = await notes.index(mode=RunMode.LIVE)
    assert done.result is RunResult.DONE and done.embedded is not None
    assert done.embedded.chunks_embedded == 5 and vectors() == 5
    again = await notes.index()
    assert again.result is RunResult.UP_TO_DATE

    hits = (await notes.search("budget of team 3", k=3)).hits
    assert hits and hits[0].path == str(notes_dir / "note3.md")
    assert (await notes.folder_report()).folders[0].status.embedded == 5  # type: ignore[union-attr]


async def test_batch_mode_submits_then_the_jobs_are_imported(
    srv: DashScopeServer, notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    corpus(notes_dir, 3)
    notes = service_for(opened, session_for(srv, notes_dir))
    sent = await notes.index(mode=RunMode.BATCH)
    assert sent.result is RunResult.SUBMITTED and sent.submitted is not None
    assert sent.submitted.chunks == 3 and len(sent.submitted.jobs) == 1
    assert srv.embedding_requests() == [] and vectors() == 0
    assert [job.id for job in await notes.jobs(pending_only=True)] == [sent.submitted.jobs[0].id]

    check = await notes.wait_for_jobs(retry_live=True)
    assert [o.vectors_saved for o in check.outcomes] == [3] and not check.needs_live_retry
    assert vectors() == 3 and await notes.jobs(pending_only=True) == []


async def test_without_a_key_notes_are_read_for_keyword_search(
    notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    corpus(notes_dir, 2)
    notes = service_for(opened, session_for(None, notes_dir))
    outcome = await notes.index(mode=RunMode.LIVE)
    assert outcome.result is RunResult.KEYWORDS_ONLY and outcome.ok
    results = await notes.search("team 1")
    assert results.keyword_only and results.hits[0].path == str(notes_dir / "note1.md")


async def test_one_run_at_a_time_and_removing_a_folder_stops_its_run(
    srv: DashScopeServer, tmp_path: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    corpus(first, 4)
    corpus(second, 1)
    session = session_for(srv, first)
    notes = service_for(opened, session)
    srv.embedding_latency = 0.3
    run = asyncio.ensure_future(notes.index(mode=RunMode.LIVE))
    await asyncio.sleep(0.1)
    assert notes.indexing()
    queued = asyncio.ensure_future(notes.index(mode=RunMode.LIVE))
    await asyncio.sleep(0.05)
    assert not queued.done()  # waits for the first run instead of writing beside it

    assert await notes.remove_folder(first)
    assert run.cancelled() and session.settings.notes_folders == []
    assert (await queued).result is RunResult.UP_TO_DATE
    assert (await notes.folder_report()).folders == ()
    with sqlite3.connect(notes_db()) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0

    srv.embedding_latency = 0.0
    assert notes.add_folder(second) == (AddResult.ADDED, str(second))
    assert notes.add_folder(second)[0] is AddResult.ALREADY
    assert notes.add_folder(tmp_path / "missing")[0] is AddResult.NOT_A_FOLDER
    assert (await notes.index()).result is RunResult.DONE and vectors() == 1


def test_the_command_line_honours_the_large_run_threshold(
    srv: DashScopeServer, notes_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    corpus(notes_dir, 3)
    settings_mod.save(Settings(region="custom", custom_base_url=srv.base_url, embedding_dimensions=64,
                               batch_threshold_chunks=2))
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert settings_mod.load().notes_folders == [str(notes_dir)]
    assert run_cli(["notes", "index"]) == 1  # not a terminal: say how to go on, send nothing
    err = capsys.readouterr().err
    assert "3 chunks" in err and "more than 2 chunks" in err and "--now" in err and "--batch" in err
    assert srv.embedding_requests() == []
    assert run_cli(["notes", "index", "--now"]) == 0
    assert "Done: 3 chunks embedded" in capsys.readouterr().err and vectors() == 3


async def test_a_second_process_cannot_index_the_same_notes_at_once(
    srv: DashScopeServer, notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    import subprocess
    import sys

    corpus(notes_dir, 2)
    notes = service_for(opened, session_for(srv, notes_dir))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from desktop.core.notes.runlock import RunLock; lock = RunLock(Path(sys.argv[1])); "
         "print(lock.try_acquire(), flush=True); time.sleep(30)", str(notes_db())],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        busy = await notes.index()
        assert busy.result is RunResult.BUSY and not busy.ok and srv.embedding_requests() == []
    finally:
        holder.kill()
        holder.wait()
    # The OS dropped the other process's lock with it: nothing stale is left behind.
    done = await notes.index()
    assert done.result is RunResult.DONE and vectors() == 2


async def test_repeated_characters_and_encoded_data_are_not_embedded(
    srv: DashScopeServer, notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    import base64

    write(notes_dir / "real.md", "# Plan\n\nThe offsite is in May; book the rooms early.\n")
    write(notes_dir / "dashes.txt", "ha" * 3000 + "\n")
    write(notes_dir / "blob.txt", base64.b64encode(bytes(range(256)) * 40).decode() + "\n")
    notes = service_for(opened, session_for(srv, notes_dir))
    outcome = await notes.index(mode=RunMode.LIVE)
    assert outcome.result is RunResult.DONE and outcome.embedded is not None
    assert outcome.embedded.chunks_embedded == 1 and vectors() == 1
    sent = [text for request in srv.embedding_requests() for text in request]
    assert len(sent) == 1 and "offsite" in sent[0]
    skipped = {Path(e.path).name: e.reason.value for e in await notes.skipped(str(notes_dir))}
    assert skipped == {"dashes.txt": "no_meaning", "blob.txt": "no_meaning"}


async def test_a_run_that_would_cost_more_than_the_limit_asks_first(
    srv: DashScopeServer, notes_dir: Path, opened: list[tuple[NotesService, Session]], data_dir: Path
) -> None:
    corpus(notes_dir, 3)
    notes = service_for(opened, session_for(srv, notes_dir, confirm_cost_cny=0.0))  # few parts, but not free
    asked = await notes.index()
    assert asked.result is RunResult.CHOOSE and asked.estimate is not None and asked.estimate.chunks == 3
    assert srv.embedding_requests() == []
