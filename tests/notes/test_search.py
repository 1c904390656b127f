"""Hybrid search: exact codes and short Chinese words found, keyword-only without a service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind
from desktop.core.notes.keywords import make_snippet, parse_query
from desktop.core.notes.search import fuse
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer


def error_code_corpus(root: Path) -> None:
    for code in range(4000, 4030):
        write(root / f"error-{code}.md",
              f"# Error E-{code}\n\nThe approval service returned E-{code}. Check the workflow settings.\n")
    write(root / "reimbursement.md",
          "# 差旅制度\n\n出差期间的交通和住宿费用可以报销，需要在十五天内提交发票。\n")
    write(root / "meeting.md",
          "# 周会\n\n本周讨论了新项目的排期。销售部门汇报了季度数字。\n")


async def test_hybrid_search_finds_an_exact_code_and_a_two_character_word(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    error_code_corpus(notes_dir)
    await (await open_indexer(client)).run([str(notes_dir)])
    searcher = await open_searcher(client)

    results = await searcher.search("E-4012", k=5)
    assert not results.keyword_only and results.error is None
    top = results.hits[0]
    assert top.file_name == "error-4012.md" and top.heading == "Error E-4012"
    assert top.keyword_rank == 1 and top.vector_score is not None
    assert top.snippet.marked().count("[E-4012]") == 1
    assert top.score > results.hits[1].score

    results = await searcher.search("报销", k=3)
    assert results.hits[0].file_name == "reimbursement.md"
    assert "[报销]" in results.hits[0].snippet.marked()
    # "报销" does not occur in meeting.md although both its characters do ("汇报", "销售").
    assert results.hits[0].keyword_rank == 1
    assert all(h.keyword_rank is None for h in results.hits if h.file_name == "meeting.md")


async def test_keyword_search_works_without_a_key_or_network(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    error_code_corpus(notes_dir)
    await (await open_indexer(client)).run([str(notes_dir)])

    no_key = await open_searcher(None)
    results = await no_key.search("E-4012")
    assert results.keyword_only and results.error is not None and results.error.kind is ErrorKind.NO_KEY
    assert results.hits[0].file_name == "error-4012.md"

    with DashScopeServer() as gone:
        url = gone.base_url  # a port that refuses connections once the server is closed
    offline = QwenClient(ConnectionConfig(base_url=url, api_key="sk-test-0000000000000000", proxy_mode="none"))
    try:
        searcher = await open_searcher(offline)
        results = await searcher.search("报销")
        assert results.keyword_only and results.error is not None
        assert results.error.kind is ErrorKind.NETWORK
        assert results.hits[0].file_name == "reimbursement.md"
        as_json = results.hits[0].to_json()
        assert {"path", "score", "snippet"} <= set(as_json) and as_json["path"].endswith("reimbursement.md")
    finally:
        await offline.aclose()


async def test_new_vectors_are_picked_up_and_deleted_ones_dropped(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    write(notes_dir / "a.md", "alpha note about apples\n")
    indexer = await open_indexer(client)
    await indexer.run([str(notes_dir)])
    searcher = await open_searcher(client)
    assert len((await searcher.search("apples")).hits) == 1
    assert len(searcher.vectors) == 1

    write(notes_dir / "b.md", "beta note about bananas\n")
    await indexer.run([str(notes_dir)])
    results = await searcher.search("bananas")
    assert len(searcher.vectors) == 2 and results.hits[0].file_name == "b.md"

    (notes_dir / "a.md").unlink()
    await indexer.run([str(notes_dir)])
    results = await searcher.search("apples")
    assert len(searcher.vectors) == 1 and all(h.file_name != "a.md" for h in results.hits)


async def test_search_before_anything_is_embedded_is_keyword_only(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    write(notes_dir / "a.md", "报销单据\n")
    await (await open_indexer(client)).prepare([str(notes_dir)])
    results = await (await open_searcher(client)).search("报销")
    assert results.keyword_only and results.hits[0].file_name == "a.md"


def test_rank_fusion_rewards_agreement() -> None:
    fused = dict(fuse([1, 2, 3], [3, 4]))
    assert fused[3] > fused[1] > fused[2]
    assert max(fused.values()) <= 1.0
    assert dict(fuse([7], [7]))[7] == 1.0
    assert dict(fuse([], [5]))[5] == 1.0


def test_snippet_marks_terms_in_a_window() -> None:
    text = "前言。" * 100 + "出差报销需要提交发票，错误代码 E-4012 表示审批失败。" + "结尾。" * 100
    snippet = make_snippet(text, parse_query("报销 e-4012"))
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    marked = snippet.marked("<b>", "</b>")
    assert "<b>报销</b>" in marked and "<b>E-4012</b>" in marked
    assert len(snippet.text) <= 182


def test_query_vectors_are_unit_length() -> None:
    from desktop.core.notes.index_embedding import unit_vectors

    m = unit_vectors([[3.0, 4.0], [0.0, 0.0]], 2)
    assert np.allclose(np.linalg.norm(m[0]), 1.0) and m.dtype == np.float32
