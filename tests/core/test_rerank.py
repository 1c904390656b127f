"""Reranking notes for a question: the model's order cited, its tokens in the cost, and the fused
order (with a log line) whenever the reranker fails. Real index, real HTTP to the loopback server."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from desktop.core.ask import SearcherRetriever
from desktop.core.chat import ChatOptions, ChatService, ContextPrepared, NotesFound, TurnEnded
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.history import HistoryStore
from desktop.core.limits import ModelLimits
from desktop.core.notes.rerank import DashScopeReranker, rerank_or_keep, reranked_search
from desktop.core.notes.search import Searcher
from desktop.core.pricing import PriceTable
from desktop.core.retry import RetryPolicy
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer
from tests.support.notes import index_notes, write_notes

QUICK = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002, quota_delay=0.003, jitter=0.0, scale=1.0)
NOTES = ChatOptions(model="qwen-plus", system_prompt="Be terse.", use_notes=True)

# The fused search puts the long note first (more of the question's words, many times); the
# deterministic reranker prefers the note that has every word of the question once.
RERANK_NOTES = {
    "long.md": "# Parking garage permit\n\nParking parking parking permit permit permit garage garage "
               "garage. Parking permit garage parking permit garage.\n",
    "exact.md": "# Reception desk\n\nThe reception desk handles mail, keys, meeting rooms, deliveries, "
                "lost property, taxis, flowers, couriers, badges, lockers and the visitor book. A visitor "
                "needs a parking permit for the garage.\n",
    "other.md": "# Canteen\n\nThe canteen opens at noon.\n",
}
QUESTION = "visitor parking permit garage"


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
async def searcher(tmp_path: Path, client: QwenClient) -> AsyncIterator[Searcher]:
    write_notes(tmp_path / "notes", RERANK_NOTES)
    db = tmp_path / "notes.sqlite3"
    await index_notes(tmp_path / "notes", db, client)
    opened = await Searcher.open(db, client)
    yield opened
    await opened.close()


def service_for(history: HistoryStore, tmp_path: Path) -> ChatService:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"qwen-plus": {"input": 1.0, "output": 2.0}}}))
    return ChatService(history, policy=QUICK, limits=ModelLimits(tmp_path / "limits.json"),
                       prices=PriceTable(prices))


async def test_the_reranked_order_is_cited_and_its_tokens_count_in_the_cost(
    client: QwenClient, srv: DashScopeServer, searcher: Searcher, history: HistoryStore, tmp_path: Path,
) -> None:
    fused = await searcher.search(QUESTION, k=3)
    assert fused.hits[0].file_name == "long.md"  # what the answer cited before reranking

    service = service_for(history, tmp_path)
    srv.script_chat(ChatReply(content="Ask reception [1]."))
    cid = history.create_conversation().id
    service.add_user_message(cid, QUESTION)
    retriever = SearcherRetriever(searcher, reranker=DashScopeReranker(client), rerank_model="qwen3-rerank")
    events = [e async for e in service.run_turn(client, cid, NOTES, retriever=retriever)]

    found = next(e for e in events if isinstance(e, NotesFound)).retrieval
    assert found.rerank is not None and found.rerank.reranked and found.rerank.model == "qwen3-rerank"
    sources = [e for e in events if isinstance(e, ContextPrepared)][-1].sources
    assert sources is not None and [s.file_name for s in sources][:2] == ["exact.md", "long.md"]
    (request,) = [r for r in srv.requests if r.path.endswith("/text-rerank/text-rerank")]
    assert request.body["model"] == "qwen3-rerank" and request.body["input"]["query"] == QUESTION
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert isinstance(events[-1], TurnEnded) and events[-1].error is None

    # The rerank tokens are counted, at the reranker's price, in the conversation and the month.
    tokens = found.rerank.total_tokens
    assert tokens > 0 and history.service_usage(cid)[0][1].prompt_tokens == tokens
    chat_only = service.reply_cost(history.messages(cid)[-1])
    assert chat_only is not None
    totals = service.conversation_totals(cid)
    assert totals.prompt_tokens == history.messages(cid)[-1].usage.prompt_tokens + tokens  # type: ignore[union-attr]
    assert service.month_totals().prompt_tokens == totals.prompt_tokens
    assert totals.unpriced == 1  # qwen3-rerank has no price of its own in this table


async def test_gte_rerank_is_priced_by_default(history: HistoryStore, tmp_path: Path) -> None:
    # An older prices.json without the reranker: its price comes from the defaults.
    (tmp_path / "prices.json").write_text(json.dumps({"models": {"qwen-plus": {"input": 1, "output": 2}}}))
    prices = PriceTable(tmp_path / "prices.json")
    assert prices.price("qwen-max") is None  # the file's own table otherwise
    history.add_service_usage(history.create_conversation().id, "gte-rerank-v2", 1_000_000)
    assert prices.price("gte-rerank-v2") is not None
    assert prices.cost("gte-rerank-v2", history.usage_between(0)[0][1]) == pytest.approx(0.8)


@pytest.mark.parametrize("status", [500, 429, 400])
async def test_a_failing_reranker_keeps_the_fused_order_and_says_why_in_the_log(
    client: QwenClient, srv: DashScopeServer, searcher: Searcher, history: HistoryStore, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, status: int,
) -> None:
    srv.rerank_status = status
    service = service_for(history, tmp_path)
    srv.script_chat(ChatReply(content="See [1]."))
    cid = history.create_conversation().id
    service.add_user_message(cid, QUESTION)
    retriever = SearcherRetriever(searcher, reranker=DashScopeReranker(client))
    with caplog.at_level(logging.WARNING, logger="desktop.core.notes.rerank"):
        events = [e async for e in service.run_turn(client, cid, NOTES, retriever=retriever)]
    found = next(e for e in events if isinstance(e, NotesFound)).retrieval
    assert found.rerank is not None and not found.rerank.reranked
    assert found.passages[0].path.endswith("long.md")  # the fused order
    assert any("rerank with gte-rerank-v2 failed" in r.getMessage() and f"HTTP {status}" in r.getMessage()
               for r in caplog.records)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None and end.message.content == "See [1]."
    assert history.service_usage(cid) == []  # nothing was charged


async def test_an_unreachable_reranker_or_a_nonsense_answer_never_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with DashScopeServer() as gone:
        url = gone.base_url
    async with QwenClient(ConnectionConfig(base_url=url, api_key=TEST_KEY, proxy_mode="none")) as offline:
        with caplog.at_level(logging.WARNING, logger="desktop.core.notes.rerank"):
            outcome = await rerank_or_keep(DashScopeReranker(offline), "q", ["a", "b", "c"],
                                           model="gte-rerank-v2", top_n=2)
    assert outcome.positions == (0, 1, 2) and not outcome.reranked and outcome.reason == "network"
    assert "citing the search's own order" in caplog.text


async def test_best_match_first_reorders_search_results(
    client: QwenClient, srv: DashScopeServer, searcher: Searcher,
) -> None:
    results = await reranked_search(searcher, DashScopeReranker(client), QUESTION, 2, "gte-rerank-v2")
    assert results.reranked is True and [h.file_name for h in results.hits] == ["exact.md", "long.md"]
    srv.rerank_status = 503
    results = await reranked_search(searcher, DashScopeReranker(client), QUESTION, 2, "gte-rerank-v2")
    assert results.reranked is False and results.hits[0].file_name == "long.md"
