"""Notes and questions embedded as what they are: text_type document/query through the native
endpoint, the compatible endpoint as the fallback, and one index never mixing the two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.core.client import QwenClient
from desktop.core.notes.embed_endpoint import COMPATIBLE, NATIVE, QUERY_INSTRUCT
from desktop.core.notes.store import NoteStore
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer

NATIVE_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"


def native_bodies(srv: DashScopeServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.requests if r.path.endswith(NATIVE_PATH)]


def compatible_count(srv: DashScopeServer) -> int:
    return sum(r.endpoint == "/embeddings" for r in srv.requests)


def endpoint_of_index(db_path: Path) -> str | None:
    with NoteStore(db_path) as store:
        return store.embedding_endpoint()


async def test_notes_go_native_as_documents_and_questions_as_queries(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, db_path: Path,
    open_indexer: Any, open_searcher: Any,
) -> None:
    write(notes_dir / "vpn.md", "# VPN\n\nThe VPN password expires every 90 days.\n")
    write(notes_dir / "travel.md", "# 差旅\n\n住宿费用可以报销。\n")
    await (await open_indexer(client)).run([str(notes_dir)])
    documents = native_bodies(srv)
    assert documents and compatible_count(srv) == 0
    assert all(b["parameters"]["text_type"] == "document" and "instruct" not in b["parameters"]
               for b in documents)
    assert documents[0]["parameters"]["dimension"] == 64
    assert endpoint_of_index(db_path) == NATIVE

    searcher = await open_searcher(client)
    results = await searcher.search("When does the VPN password expire?")
    assert results.error is None and results.hits[0].file_name == "vpn.md"
    query = native_bodies(srv)[-1]
    assert query["input"]["texts"] == ["When does the VPN password expire?"]
    assert query["parameters"]["text_type"] == "query" and query["parameters"]["instruct"] == QUERY_INSTRUCT
    assert compatible_count(srv) == 0


async def test_without_a_native_endpoint_the_index_stays_compatible_for_good(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, db_path: Path,
    open_indexer: Any, open_searcher: Any,
) -> None:
    srv.native_embedding_status = 404  # a gateway that only speaks compatible mode
    write(notes_dir / "a.md", "# A\n\nalpha apples\n")
    indexer = await open_indexer(client)
    report = await indexer.run([str(notes_dir)])
    assert report.chunks_embedded == 1 and report.chunks_failed == 0
    assert len(native_bodies(srv)) == 1 and compatible_count(srv) == 1  # tried once, then fell back
    assert endpoint_of_index(db_path) == COMPATIBLE

    srv.native_embedding_status = 200  # offered now: the index still does not mix the two
    write(notes_dir / "b.md", "# B\n\nbanana bread\n")
    await indexer.run([str(notes_dir)])
    searcher = await open_searcher(client)
    assert (await searcher.search("banana")).error is None
    assert len(native_bodies(srv)) == 1 and compatible_count(srv) == 3
    assert srv.requests[-1].body["text_type"] == "query"  # compatible mode: text_type in the body

    await indexer.reset_for_new_model()  # a rebuild chooses again
    assert endpoint_of_index(db_path) is None
    await indexer.run([str(notes_dir)])
    assert endpoint_of_index(db_path) == NATIVE


async def test_an_index_with_vectors_from_before_the_choice_stays_compatible(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, db_path: Path, open_indexer: Any,
) -> None:
    write(notes_dir / "a.md", "# A\n\nalpha apples\n")
    indexer = await open_indexer(client)
    await indexer.run([str(notes_dir)])
    with NoteStore(db_path) as store, store.writing() as db:  # as an index of an older version
        db.execute("DELETE FROM meta WHERE key = 'embedding_endpoint'")
    before = len(native_bodies(srv))
    write(notes_dir / "b.md", "# B\n\nbanana bread\n")
    await indexer.run([str(notes_dir)])
    assert len(native_bodies(srv)) == before and endpoint_of_index(db_path) == COMPATIBLE


async def test_offline_jobs_never_add_vectors_of_the_other_endpoint(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, db_path: Path, open_indexer: Any,
) -> None:
    import pytest

    from desktop.core.notes.batch import BatchConfig, BatchIndexer, BatchUnavailable

    write(notes_dir / "a.md", "# A\n\nalpha apples\n")
    indexer = await open_indexer(client)
    await indexer.run([str(notes_dir)])  # live, through the native endpoint
    write(notes_dir / "b.md", "# B\n\nbanana bread\n")
    await indexer.prepare([str(notes_dir)])
    with pytest.raises(BatchUnavailable, match="native endpoint"):
        await BatchIndexer(indexer, BatchConfig()).submit()  # the Batch API is compatible mode
    assert srv.batches == [] and endpoint_of_index(db_path) == NATIVE

    await indexer.reset_for_new_model()  # a new index sent offline is a compatible one
    await BatchIndexer(indexer, BatchConfig()).submit()
    assert len(srv.batches) == 1 and endpoint_of_index(db_path) == COMPATIBLE
