"""The labelled question → note set of the rerank benchmark: well formed, and with the loopback
server's deterministic scores the reranked answers cite the labelled note first (plumbing)."""

from __future__ import annotations

from pathlib import Path

from desktop.core.ask import SearcherRetriever
from desktop.core.client import QwenClient
from desktop.core.notes.rerank import DashScopeReranker
from desktop.core.notes.search import Searcher
from tests.perf.bench_rerank import first_cited, load_set
from tests.support.notes import index_notes, write_notes


def test_the_set_has_fifty_chinese_and_english_pairs_about_notes_it_holds() -> None:
    notes, pairs = load_set()
    assert len(pairs) >= 50
    chinese = [q for q, _ in pairs if any("\u4e00" <= c <= "\u9fff" for c in q)]
    assert len(chinese) >= 20 and len(pairs) - len(chinese) >= 20
    assert {n for _, n in pairs} <= set(notes) and len({q for q, _ in pairs}) == len(pairs)


async def test_reranked_answers_cite_the_labelled_note_first(client: QwenClient, tmp_path: Path) -> None:
    notes, pairs = load_set()
    write_notes(tmp_path / "notes", notes)
    await index_notes(tmp_path / "notes", tmp_path / "notes.sqlite3", client)
    searcher = await Searcher.open(tmp_path / "notes.sqlite3", client)
    try:
        retriever = SearcherRetriever(searcher, reranker=DashScopeReranker(client))
        cited = [await first_cited(retriever, question) for question, _ in pairs]
    finally:
        await searcher.close()
    assert [c[0] for c in cited] == [note for _, note in pairs]
    assert all(tokens > 0 for _, tokens in cited)
