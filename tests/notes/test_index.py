"""The index run end to end: real files, real SQLite, the real client over loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.index_records import IndexModelChanged, IndexProgress, Phase
from desktop.core.notes.reader import SkipReason
from desktop.core.notes.store import NoteStore
from tests.notes.conftest import make_docx, make_pdf, write
from tests.support.dashscope_server import DashScopeServer, EmbeddingReply

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def sent_inputs(srv: DashScopeServer, since: int = 0) -> list[str]:
    return [text for request in srv.embedding_requests()[since:] for text in request]


def many_notes(root: Path, count: int, prefix: str = "note") -> None:
    for i in range(count):
        write(root / f"{prefix}{i:03d}.md", f"# {prefix} {i}\n\nParagraph about subject {i} and topic {i % 7}.\n")


def stored_vectors(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def chunk_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


async def test_mixed_corpus_is_read_correctly(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    write(notes_dir / "gbk.txt", "差旅报销规定：出差回来一周内提交发票。\n", "gbk")
    write(notes_dir / "big5.txt", "會議紀要：下週三討論年度預算。\n", "big5")
    write(notes_dir / "utf16.txt", "培训通知：新员工入职培训在周五。\n", "utf-16")
    write(notes_dir / "utf16-nobom.txt", "打印机故障：请联系行政部小王。\n", "utf-16-le")
    write(notes_dir / "bom.md", "\ufeff# 密码策略\n\n密码每九十天更换一次。\n")
    make_docx(notes_dir / "office" / "合同.docx", "合同审批", ["合同金额超过十万元需要总经理签字。"])
    make_pdf(notes_dir / "office" / "manual.pdf", ["Printer manual", "Replace the toner cartridge."])
    (notes_dir / "blob.txt").write_bytes(b"\x00\x01binary\x00data" * 20)
    write(notes_dir / "huge.md", "大" * 30000)  # 90,000 bytes, over the 60,000 byte limit below
    write(notes_dir / "node_modules" / "lib" / "README.md", "should never be read")

    indexer = await open_indexer(client, max_file_size=60_000)
    report = await indexer.run([str(notes_dir)])
    assert report.chunks_embedded == 7 and report.files_skipped == 2, indexer.store.skipped()

    sent = "\n".join(sent_inputs(srv))
    for phrase in ("出差回来一周内提交发票", "下週三討論年度預算", "新员工入职培训", "请联系行政部小王",
                   "密码每九十天更换一次", "总经理签字", "Replace the toner cartridge"):
        assert phrase in sent
    assert "should never be read" not in sent and "\ufeff" not in sent

    skipped = {Path(s.path).name: s.reason for s in indexer.store.skipped()}
    assert skipped == {
        "blob.txt": SkipReason.BINARY,
        "huge.md": SkipReason.TOO_LARGE,
        "node_modules": SkipReason.EXCLUDED_FOLDER,
    }

    searcher = await open_searcher(client)
    for query, name in (("报销", "gbk.txt"), ("預算", "big5.txt"), ("培训", "utf16.txt"),
                        ("打印机", "utf16-nobom.txt"), ("合同", "合同.docx"), ("toner", "manual.pdf")):
        results = await searcher.search(query, k=3)
        assert results.hits and results.hits[0].file_name == name, (query, results.hits)


async def test_batches_respect_the_cap_and_shrink_when_the_server_says_so(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 45)
    srv.embedding_cap = 4  # the server says "should not be larger than 4"
    indexer = await open_indexer(client, concurrency=3)
    report = await indexer.run([str(notes_dir)])
    assert report.chunks_embedded == 45
    sizes = [len(r) for r in srv.embedding_requests()]
    assert max(sizes) == 10  # the table's cap for text-embedding-v4 was tried first...
    assert sum(1 for s in sizes if s > 4) <= 3  # ...by at most the requests already in flight
    assert stored_vectors(indexer.store.path) == 45


async def test_v2_models_send_25_per_request(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 60)
    indexer = await open_indexer(client, model="text-embedding-v2", dimensions=1536)
    await indexer.run([str(notes_dir)])
    assert sorted(len(r) for r in srv.embedding_requests()) == [10, 25, 25]


async def test_busy_service_is_retried_with_backoff(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 5)
    srv.script_embeddings(
        EmbeddingReply.error(429, "limit_requests", "Requests rate limit exceeded"),
        EmbeddingReply.error(503, "ModelUnavailable", "overloaded"),
    )
    seen: list[IndexProgress] = []
    indexer = await open_indexer(client, concurrency=1)
    report = await indexer.run([str(notes_dir)], seen.append)
    assert report.chunks_embedded == 5 and report.requests == 3
    assert [p.retry_reason for p in seen if p.retry_in is not None] == [
        ErrorKind.RATE_LIMITED, ErrorKind.SERVICE_DOWN,
    ]
    assert seen[-1].phase is Phase.DONE and seen[-1].chunks_embedded == 5


async def test_refused_input_does_not_stop_the_run(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 4)
    srv.script_embeddings(EmbeddingReply.error(
        400, "InvalidParameter", "<400> InternalError.Algo.InvalidParameter: Range of input length "
        "should be [1, 8192]"))
    indexer = await open_indexer(client, concurrency=1)
    report = await indexer.run([str(notes_dir)])
    assert report.chunks_embedded == 4  # the batch was split in halves, which then went through
    assert [len(r) for r in srv.embedding_requests()] == [4, 2, 2]


async def test_incremental_reindex_sends_only_what_changed(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    many_notes(notes_dir, 20)
    write(notes_dir / "long.md", "# Long\n\n" + "\n\n".join(
        f"## Part {i}\n\nSection {i} text that stays the same." for i in range(5)))
    write(notes_dir / "doomed.md", "# Doomed\n\nThe zebra protocol is obsolete.\n")
    indexer = await open_indexer(client)
    first = await indexer.run([str(notes_dir)])
    assert first.chunks_embedded == 26

    # Nothing changed: nothing is read, nothing is sent.
    before = len(srv.embedding_requests())
    again = await indexer.run([str(notes_dir)])
    assert again.files_read == 0 and again.files_unchanged == 22 and again.requests == 0
    assert len(srv.embedding_requests()) == before

    # Touched without a change of content: read and hashed, not re-embedded.
    touched = notes_dir / "note000.md"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10_000_000_000))
    # One section of a long note edited: only that chunk goes out.
    long = notes_dir / "long.md"
    long.write_text(long.read_text().replace("Section 3 text", "Section 3 rewritten text"))
    write(notes_dir / "new.md", "# New\n\nA fresh note about penguins.\n")
    (notes_dir / "doomed.md").unlink()
    report = await indexer.run([str(notes_dir)])
    sent = sent_inputs(srv, before)
    assert sorted(sent) == sorted([
        "long › Long › Part 3\nSection 3 rewritten text that stays the same.",
        "new › New\nA fresh note about penguins.",
    ])
    assert report.files_read == 3 and report.files_removed == 1 and report.vectors_reused == 4

    searcher = await open_searcher(client)
    results = await searcher.search("zebra protocol", k=5)
    assert all(h.file_name != "doomed.md" for h in results.hits)
    results = await searcher.search("penguins", k=1)
    assert results.hits[0].file_name == "new.md"


async def test_cancel_then_resume_never_re_embeds(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 150)
    srv.embedding_latency = 0.03
    indexer = await open_indexer(client, concurrency=2)
    task = asyncio.ensure_future(indexer.run([str(notes_dir)]))
    while len(srv.embedding_requests()) < 4:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # A request of the cancelled run may still be reaching the server (a loaded machine): count
    # only when nothing more arrives, so that none is taken for one of the resumed run's.
    seen = -1
    while seen != len(srv.requests):
        seen = len(srv.requests)
        await asyncio.sleep(0.2)
    sent_before = len(srv.embedding_requests())
    pending = {p.input for p in await asyncio.to_thread(_pending_inputs, db_path)}
    assert 0 < stored_vectors(db_path) < 150
    assert len(pending) == 150 - stored_vectors(db_path)

    srv.embedding_latency = 0.0
    resumed = await open_indexer(client)
    report = await resumed.run([str(notes_dir)])
    resent = sent_inputs(srv, sent_before)
    assert sorted(resent) == sorted(pending)  # exactly the chunks without a vector, once each
    assert report.files_read == 0 and stored_vectors(db_path) == 150


def _pending_inputs(db_path: Path) -> list[Any]:
    with NoteStore(db_path) as store:
        return store.pending_chunks()


async def test_killed_process_resumes_where_it_stopped(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 200)
    srv.embedding_latency = 0.05
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled without blocking
        [sys.executable, "-m", "tests.notes.index_worker", str(db_path), str(notes_dir), srv.base_url],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while len(srv.embedding_requests()) < 6:
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker never started embedding"
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(10)
    assert worker.returncode == -signal.SIGKILL
    sent_before = len(srv.embedding_requests())
    stored = stored_vectors(db_path)
    assert chunk_count(db_path) == 200 and 0 < stored < 200
    pending = [p.input for p in await asyncio.to_thread(_pending_inputs, db_path)]
    assert len(pending) == 200 - stored

    srv.embedding_latency = 0.0
    indexer = await open_indexer(client)
    report = await indexer.run([str(notes_dir)])
    assert sorted(sent_inputs(srv, sent_before)) == sorted(pending)
    assert report.files_read == 0 and stored_vectors(db_path) == 200


async def test_changing_the_model_needs_an_explicit_reindex(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, db_path: Path
) -> None:
    many_notes(notes_dir, 3)
    await (await open_indexer(client, dimensions=64)).run([str(notes_dir)])
    bigger = await open_indexer(client, dimensions=128)
    with pytest.raises(IndexModelChanged):
        await bigger.run([str(notes_dir)])
    assert stored_vectors(db_path) == 3  # nothing lost by asking
    await bigger.reset_for_new_model()
    report = await bigger.run([str(notes_dir)])
    assert report.chunks_embedded == 3
    assert srv.embedding_requests()[-1] and bigger.store.index_model().dimensions == 128  # type: ignore[union-attr]


async def test_wrong_key_fails_plainly_and_keeps_the_chunks(
    srv: DashScopeServer, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    many_notes(notes_dir, 3)
    write(notes_dir / "code.md", "Error E-4012 means the approval failed.\n")
    bad = QwenClient(ConnectionConfig(base_url=srv.base_url, api_key="sk-wrong-key-000000", proxy_mode="none"))
    try:
        indexer = await open_indexer(bad)
        with pytest.raises(QwenError) as info:
            await indexer.run([str(notes_dir)])
        assert info.value.kind is ErrorKind.AUTH
        searcher = await open_searcher(None)
        results = await searcher.search("E-4012")
        assert results.keyword_only and results.hits[0].file_name == "code.md"
    finally:
        await bad.aclose()


async def test_estimate_before_embedding(client: QwenClient, notes_dir: Path, open_indexer: Any) -> None:
    many_notes(notes_dir, 12)
    write(notes_dir / "zh.md", "".join(f"第{i}条：中文笔记。" for i in range(40)))
    indexer = await open_indexer(client)
    estimate, report = await indexer.prepare([str(notes_dir)])
    assert (estimate.files, estimate.chunks) == (13, 13) and report.files_read == 13
    assert estimate.tokens > 200 and estimate.cost_cny == pytest.approx(estimate.tokens / 1000 * 0.0005)
    await indexer.embed_pending()
    assert (await indexer.estimate()).chunks == 0


async def test_removing_a_folder_drops_its_index(
    client: QwenClient, tmp_path: Path, open_indexer: Any, db_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    many_notes(a, 3, "alpha")
    many_notes(b, 2, "beta")
    indexer = await open_indexer(client)
    await indexer.run([str(a), str(b)])
    assert stored_vectors(db_path) == 5
    await indexer.run([str(b)])
    assert stored_vectors(db_path) == 2 and indexer.store.folder_paths() == [str(b)]


async def test_raising_the_size_limit_reads_files_skipped_before(
    client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    write(notes_dir / "big.md", " ".join(f"w{i:03d}" for i in range(400)))  # 1,999 bytes
    small = await open_indexer(client, max_file_size=1000)
    report = await small.prepare([str(notes_dir)])
    assert report[1].files_skipped == 1
    assert [s.reason for s in small.store.skipped()] == [SkipReason.TOO_LARGE]
    await small.close()
    larger = await open_indexer(client, max_file_size=10_000)
    estimate, report = await larger.prepare([str(notes_dir)])
    assert report.files_read == 1 and report.files_skipped == 0 and estimate.chunks == 2
    assert larger.store.skipped() == []
