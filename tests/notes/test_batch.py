"""Bulk indexing through the offline interfaces, end to end: real files, real SQLite, the real
client and SDK over loopback HTTP against the emulated Batch API and native task API."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.core.client import QwenClient
from desktop.core.notes.batch import (
    BatchConfig,
    BatchIndexer,
    BatchUnavailable,
    CannotCancel,
    JobOutcome,
    PollSchedule,
)
from desktop.core.notes.batch_files import ResultFormatError, read_native_results, write_openai_parts
from desktop.core.notes.jobs import Interface, JobStatus
from desktop.core.notes.store_records import IndexModel, PendingChunk
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer

# Deterministic: the server moves a job one step per GET, and the client asks again at once.
NO_WAIT = PollSchedule(first=0, running_min=0, maximum=0, scale=0)
CONFIG = BatchConfig(poll=NO_WAIT)


async def finish(batch: BatchIndexer, *args: Any, **kwargs: Any) -> list[JobOutcome]:
    """``batch.wait()``, failing instead of hanging should a job never end."""
    return await asyncio.wait_for(batch.wait(*args, **kwargs), 20)


def many_notes(root: Path, count: int) -> None:
    for i in range(count):
        write(root / f"note{i:03d}.md", f"# Note {i}\n\nParagraph about subject {i} and topic {i % 7}.\n")
    write(root / "codes.md", "# Errors\n\nE-4012 means the approval failed.\n")


def db_count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def batch_inputs(srv: DashScopeServer) -> list[list[str]]:
    """The inputs of every line of every batch, per line."""
    return [line["body"]["input"] for batch in srv.batches for line in batch.lines]


def live_inputs(srv: DashScopeServer, since: int = 0) -> list[str]:
    return [text for request in srv.embedding_requests()[since:] for text in request]


async def test_batch_api_round_trip(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any,
    db_path: Path,
) -> None:
    many_notes(notes_dir, 24)
    indexer = await open_indexer(client)
    estimate, _ = await indexer.prepare([str(notes_dir)])
    assert estimate.chunks == 25 and estimate.batch_cost_cny == pytest.approx(estimate.cost_cny / 2)

    batch = BatchIndexer(indexer, CONFIG)
    report = await batch.submit()
    assert report.chunks == 25 and len(report.jobs) == 1 and srv.embedding_requests() == []
    job = report.jobs[0]
    assert job.interface is Interface.OPENAI and job.status is JobStatus.VALIDATING and job.remote_id
    assert job.lines == 3 and job.chunks == 25  # 10 + 10 + 5 inputs: the per-request cap
    [uploaded] = [f for f in srv.files.values() if f.purpose == "batch"]
    lines = [json.loads(line) for line in uploaded.data.splitlines()]
    assert [line["custom_id"] for line in lines] == ["line-0", "line-1", "line-2"]
    assert {(line["url"], line["body"]["model"], line["body"]["dimensions"]) for line in lines} == {
        ("/v1/embeddings", "text-embedding-v4", 64)}
    assert srv.batches[0].completion_window == "24h"

    # While the job runs its chunks are reserved: a live run sends nothing for them.
    assert (await indexer.estimate()).chunks == 0
    live = await indexer.embed_pending()
    assert live.chunks_embedded == 0 and srv.embedding_requests() == []

    seen: list[list[JobStatus]] = []
    outcomes = await finish(batch, lambda jobs: seen.append([j.status for j in jobs]))
    assert [JobStatus.IN_PROGRESS] in seen and seen[-1] == []
    [outcome] = outcomes
    assert outcome.job.status is JobStatus.IMPORTED and not outcome.job.reserved
    assert (outcome.vectors_saved, outcome.results_dropped, outcome.left) == (25, 0, ())
    assert outcome.job.lines_done == 3 and outcome.job.lines_failed == 0
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 25
    assert srv.embedding_requests() == []  # every vector came from the batch

    searcher = await open_searcher(client)
    results = await searcher.search("approval failed", k=3)
    assert not results.keyword_only and results.hits[0].file_name == "codes.md"
    assert results.hits[0].vector_score is not None


async def test_large_runs_are_split_across_several_files(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 69)  # 70 chunks: 7 request lines of 10
    srv.batch_max_lines = 3  # the server refuses bigger files, as it would above 50,000 lines
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, replace(CONFIG, max_lines=3))
    report = await batch.submit()
    assert [job.lines for job in report.jobs] == [3, 3, 1]
    assert len(srv.batches) == 3 and sum(len(b.lines) for b in srv.batches) == 7
    for server_batch in srv.batches:  # every file numbers its lines from 0
        assert [line["custom_id"] for line in server_batch.lines] == [
            f"line-{i}" for i in range(len(server_batch.lines))]
    outcomes = await finish(batch)
    assert sorted(o.vectors_saved for o in outcomes) == [10, 30, 30]
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 70


def test_files_are_cut_below_the_byte_limit(tmp_path: Path) -> None:
    chunks = [PendingChunk(i, f"text number {i} " * 20, 300) for i in range(40)]
    parts = write_openai_parts(chunks, tmp_path, model="text-embedding-v4", dimensions=1024,
                               per_line=10, max_lines=50_000, max_bytes=6600)
    assert len(parts) == 2 and [p.chunks for p in parts] == [20, 20]
    for part in parts:
        assert part.size == part.path.stat().st_size <= 6600
        assert [json.loads(raw)["custom_id"] for raw in part.path.read_bytes().splitlines()] == [
            "line-0", "line-1"]
    assert [cid for part in parts for line in part.lines for cid in line] == list(range(40))


async def test_failed_lines_go_to_a_new_batch_then_live(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 39)  # 40 chunks, 4 lines
    srv.batch_fail_texts = {"Note 13"}  # fails line 1 (chunks 10..19) in every batch
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, replace(CONFIG, retry_in_batch_from=5))
    await batch.submit()
    outcomes = await finish(batch)

    first, second = outcomes
    assert first.job.lines_failed == 1 and first.vectors_saved == 30 and len(first.left) == 10
    assert first.retried_in == second.job.id and second.job.attempt == 2  # many: a new batch
    assert len(srv.batches) == 2 and [len(b.lines) for b in srv.batches] == [4, 1]
    assert second.job.lines_failed == 1 and second.needs_live_retry  # failed again: live
    sent_live = live_inputs(srv)
    assert len(sent_live) == 10 and any("Note 13" in text for text in sent_live)
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 40


async def test_a_few_failed_lines_are_retried_live(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 19)
    srv.batch_fail_texts = {"Note 4\n"}
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)  # retry_in_batch_from is 2,000: ten go live
    await batch.submit()
    [outcome] = await finish(batch)
    assert outcome.lines_failed == 1 and len(outcome.left) == 10 and outcome.needs_live_retry
    assert len(srv.batches) == 1 and len(srv.embedding_requests()) == 1  # one live request of 10
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 20


async def test_closed_and_reopened_mid_job_then_imported(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 9)
    srv.batch_advance_on_get = False  # the service makes progress only when the test says so
    first = await open_indexer(client)
    await first.prepare([str(notes_dir)])
    report = await BatchIndexer(first, CONFIG).submit()
    assert await BatchIndexer(first, CONFIG).poll_all() == []  # still validating
    await first.close()  # the app is closed mid-job

    srv.advance_jobs(3)  # meanwhile the service finishes it
    reopened = await open_indexer(client)
    batch = BatchIndexer(reopened, CONFIG)
    [pending] = await batch.list_jobs(pending_only=True)
    assert pending.id == report.jobs[0].id and pending.remote_id == report.jobs[0].remote_id
    assert pending.status is JobStatus.VALIDATING
    [outcome] = await finish(batch)
    assert outcome.vectors_saved == 10 and outcome.job.status is JobStatus.IMPORTED
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 10
    assert await batch.list_jobs(pending_only=True) == []
    assert [j.status for j in await batch.list_jobs()] == [JobStatus.IMPORTED]  # kept for a while


async def test_cancel_cancels_on_the_service_and_releases_the_chunks(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 4)
    srv.batch_advance_on_get = False
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    [job] = (await batch.submit()).jobs

    cancelled = await batch.cancel(job.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLING and cancelled.reserved
    assert [r.path for r in srv.requests if r.method == "POST"][-1].endswith(f"/batches/{job.remote_id}/cancel")
    assert srv.batches[0].cancel_requested
    assert (await indexer.estimate()).chunks == 0  # still reserved until the service confirms

    srv.advance_jobs(1)
    [outcome] = await finish(batch)
    assert outcome.job.status is JobStatus.CANCELLED and not outcome.needs_live_retry
    assert srv.embedding_requests() == [] and db_count(db_path, "SELECT count(*) FROM vectors") == 0
    assert (await indexer.estimate()).chunks == 5  # pending again: the next run embeds them
    assert (await indexer.embed_pending()).chunks_embedded == 5


async def test_note_edited_during_the_job(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any,
    db_path: Path,
) -> None:
    many_notes(notes_dir, 5)
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    await batch.submit()

    write(notes_dir / "note001.md", "# Note 1\n\nRewritten: the walrus exhibit opens in May.\n")
    (notes_dir / "note002.md").unlink()
    await indexer.prepare([str(notes_dir)])
    live = await indexer.embed_pending()  # e.g. the watcher's run: only the new text goes live
    assert live.chunks_embedded == 1
    assert live_inputs(srv) == ["note001 › Note 1\nRewritten: the walrus exhibit opens in May."]

    [outcome] = await finish(batch)
    assert outcome.vectors_saved == 4 and outcome.results_dropped == 2  # old note001 and note002
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 5
    assert db_count(db_path, "SELECT count(*) FROM vectors v LEFT JOIN chunks c ON c.id = v.chunk_id "
                             "WHERE c.id IS NULL") == 0
    searcher = await open_searcher(client)
    hits = (await searcher.search("walrus exhibit", k=1)).hits
    assert hits[0].file_name == "note001.md" and hits[0].vector_score is not None


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
async def test_native_task_round_trip(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any,
    db_path: Path, compressed: bool,
) -> None:
    many_notes(notes_dir, 11)
    write(notes_dir / "multi.md", "# Travel\n\nFirst line.\nSecond line about receipts.\n")
    srv.native_result_gzip = compressed
    indexer = await open_indexer(client, model="text-embedding-async-v2", dimensions=1024)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    assert batch.interface is Interface.NATIVE
    [job] = (await batch.submit()).jobs
    assert job.interface is Interface.NATIVE and job.lines == 13 and job.input_ref.startswith("oss://")

    policy, upload, create = [r for r in srv.requests if r.path != "/oss-results"][:3]
    assert policy.path == "/api/v1/uploads" and "action=getPolicy" in policy.query
    assert "model=text-embedding-async-v2" in policy.query
    assert upload.path == "/oss-upload" and "authorization" not in upload.headers
    assert create.path == "/api/v1/services/embeddings/text-embedding/text-embedding"
    assert create.headers["x-dashscope-async"] == "enable"
    assert create.headers["x-dashscope-ossresourceresolve"] == "enable"
    assert create.body["input"]["url"] == job.input_ref and create.body["model"] == "text-embedding-async-v2"
    [uploaded] = srv.oss_objects.values()
    assert len(uploaded.decode().splitlines()) == 13  # one chunk per line: line breaks flattened
    assert "multi › Travel First line. Second line about receipts." in uploaded.decode()

    [outcome] = await finish(batch)
    assert outcome.vectors_saved == 13 and outcome.job.status is JobStatus.IMPORTED
    result_name = srv.native_tasks[0].result_name or ""
    assert result_name.endswith(".txt.gz" if compressed else ".txt")
    assert indexer.store.index_model() == IndexModel("text-embedding-async-v2", 1536)

    # Queries (and later changes) embed with the matching live model, text-embedding-v2, through
    # the native endpoint the task API embedded the index with (one index never mixes the two).
    assert indexer.store.embedding_endpoint() == "native"
    searcher = await open_searcher(client)
    results = await searcher.search("approval failed", k=1)
    assert results.hits[0].file_name == "codes.md" and not results.keyword_only
    assert not [r for r in srv.requests if r.endpoint == "/embeddings"]
    [query] = [r.body for r in srv.requests if r.path.endswith("/text-embedding/text-embedding")
               and "texts" in r.body["input"]]
    assert query["model"] == "text-embedding-v2" and "dimension" not in query["parameters"]
    assert query["parameters"]["text_type"] == "query"
    write(notes_dir / "new.md", "# New\n\nPenguins.\n")
    await indexer.prepare([str(notes_dir)])
    assert (await indexer.embed_pending()).chunks_embedded == 1
    last = [r.body for r in srv.requests if r.path.endswith("/text-embedding/text-embedding")][-1]
    assert last["model"] == "text-embedding-v2" and last["parameters"]["text_type"] == "document"


async def test_native_task_cancel_only_while_pending(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 2)
    srv.batch_advance_on_get = False
    indexer = await open_indexer(client, model="text-embedding-async-v2")
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    first = (await batch.submit()).jobs[0]
    cancelled = await batch.cancel(first.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED and not cancelled.reserved
    assert srv.native_tasks[0].status == "CANCELED"

    second = (await batch.submit()).jobs[0]  # the released chunks go out again
    srv.advance_jobs(1)  # now RUNNING: the service refuses to cancel
    with pytest.raises(CannotCancel):
        await batch.cancel(second.id)
    srv.advance_jobs(1)
    [outcome] = await finish(batch)  # so it is imported as usual
    assert outcome.vectors_saved == 3 and outcome.job.message


async def test_batch_unavailable_leaves_nothing_behind(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 3)
    srv.batch_unsupported_models = {"text-embedding-v4"}
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    with pytest.raises(BatchUnavailable, match="not supported by the Batch API"):
        await batch.submit()
    assert await batch.list_jobs() == []
    assert (await indexer.embed_pending()).chunks_embedded == 4  # the fallback: live


async def test_failed_job_releases_its_chunks_for_live_indexing(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 3)
    srv.batch_validation_error = "Embedding batches are not offered in this region."
    indexer = await open_indexer(client)
    await indexer.prepare([str(notes_dir)])
    batch = BatchIndexer(indexer, CONFIG)
    await batch.submit()
    [outcome] = await finish(batch)
    assert outcome.job.status is JobStatus.FAILED and "not offered" in (outcome.job.message or "")
    assert outcome.needs_live_retry and len(live_inputs(srv)) == 4
    assert db_count(db_path, "SELECT count(*) FROM vectors") == 4


def test_unknown_native_result_format_is_an_error_not_silence(tmp_path: Path) -> None:
    odd = tmp_path / "result"
    odd.write_bytes(gzip.compress(b'{"vectors": [[0.1, 0.2]]}\n'))
    with pytest.raises(ResultFormatError):
        list(read_native_results(odd))
    odd.write_bytes(b'{"text_index": 0, "embedding": [0.5, 0.5]}\n')  # top-level shape: accepted
    [line] = list(read_native_results(odd))
    assert line.line == 0 and line.vectors == [[0.5, 0.5]]


def test_poll_schedule_backs_off_and_is_at_most_once_a_minute_while_running() -> None:
    schedule = PollSchedule(scale=1.0)
    waits: list[float] = []
    interval = None
    for status in [JobStatus.VALIDATING] * 2 + [JobStatus.IN_PROGRESS] * 6:
        interval = schedule.next_interval(interval, status)
        waits.append(interval)
    assert waits[:2] == [15.0, 22.5]
    assert all(w >= 60 for w in waits[2:]) and waits == sorted(waits) and waits[-1] <= 600
