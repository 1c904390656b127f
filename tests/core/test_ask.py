"""Asking about notes, fitting the context, learning a model's limit, regenerate / edit, costs.

Real notes index (SQLite + vectors from the loopback server), real HistoryStore, real HTTP.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from desktop.core.ask import (
    NO_NOTES_EN,
    NO_NOTES_ZH,
    Passage,
    SearcherRetriever,
    no_notes_message,
    significant_terms,
)
from desktop.core.chat import ChatOptions, ChatService, ContextPrepared, TurnEnded, TurnEvent
from desktop.core.client import QwenClient
from desktop.core.context import plan_request
from desktop.core.history import SCHEMA_VERSION, HistoryStore, Status
from desktop.core.limits import ModelLimits
from desktop.core.notes.search import Searcher
from desktop.core.pricing import PriceTable, format_cny
from desktop.core.retry import RetryPolicy
from desktop.core.tokens import estimate_tokens
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.notes import index_notes, write_notes

QUICK = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, quota_delay=0.003, jitter=0.0, scale=1.0)
NOTES = ChatOptions(model="qwen-plus", system_prompt="You are terse.", use_notes=True)
PLAIN = ChatOptions(model="qwen-plus", system_prompt="You are terse.")


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def service(history: HistoryStore, tmp_path: Path) -> ChatService:
    return ChatService(history, policy=QUICK, limits=ModelLimits(tmp_path / "limits.json"),
                       prices=PriceTable(tmp_path / "prices.json"))


@pytest.fixture
def notes(tmp_path: Path) -> dict[str, Path]:
    return write_notes(tmp_path / "notes")


@pytest.fixture
async def retriever(notes: dict[str, Path], tmp_path: Path, client: QwenClient) -> AsyncIterator[SearcherRetriever]:
    db = tmp_path / "notes.sqlite3"
    await index_notes(tmp_path / "notes", db, client)
    searcher = await Searcher.open(db, client)
    yield SearcherRetriever(searcher)
    await searcher.close()


def ask(service: ChatService, text: str, conversation_id: int | None = None) -> int:
    cid = conversation_id if conversation_id is not None else service.history.create_conversation().id
    service.add_user_message(cid, text)
    return cid


async def run(service: ChatService, client: QwenClient, cid: int, options: ChatOptions = NOTES,
              retriever: SearcherRetriever | None = None) -> list[TurnEvent]:
    return [e async for e in service.run_turn(client, cid, options, retriever=retriever)]


def prepared(events: list[TurnEvent]) -> ContextPrepared:
    found = [e for e in events if isinstance(e, ContextPrepared)]
    assert found, events
    return found[-1]


# ---- asking the notes ------------------------------------------------------------------------


async def test_citations_map_to_the_files_they_came_from(
    service: ChatService, client: QwenClient, srv: DashScopeServer, retriever: SearcherRetriever,
    notes: dict[str, Path], history: HistoryStore, tmp_path: Path,
) -> None:
    srv.script_chat(ChatReply(content="Reset it on the staff portal [1]."))
    cid = ask(service, "How do I reset my VPN password?")
    events = await run(service, client, cid, retriever=retriever)

    sources = prepared(events).sources
    assert sources is not None and len(sources) == 1
    assert (sources[0].number, sources[0].path, sources[0].heading) == (1, str(notes["it/vpn.md"]), "VPN setup")
    sent = srv.chat_requests()[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "You are terse."}
    question = sent[-1]["content"]
    assert "[1] vpn.md — VPN setup" in question and "reset it on the staff portal" in question
    assert "like [1]" in question and question.endswith("Question: How do I reset my VPN password?")
    assert "差旅" not in question and "E-4012" not in question  # irrelevant notes stay out

    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    history.close()
    reopened = HistoryStore(tmp_path / "history.sqlite3")
    try:
        stored = reopened.messages(cid)
        assert stored[-1].content == "Reset it on the staff portal [1]."
        assert stored[-1].sources == list(sources)  # persisted with the answer
        assert stored[0].content == "How do I reset my VPN password?"  # the question as typed
    finally:
        reopened.close()


async def test_chinese_question_over_mixed_notes(
    service: ChatService, client: QwenClient, srv: DashScopeServer, retriever: SearcherRetriever,
    notes: dict[str, Path],
) -> None:
    cid = ask(service, "出差住宿报销标准是多少？")
    events = await run(service, client, cid, retriever=retriever)
    sources = prepared(events).sources
    assert sources is not None and [s.path for s in sources] == [str(notes["travel.md"])]
    assert sources[0].heading == "差旅报销制度"
    assert "住宿标准为每晚不超过五百元" in srv.chat_requests()[-1]["messages"][-1]["content"]


async def test_exact_code_in_an_english_question(
    service: ChatService, client: QwenClient, retriever: SearcherRetriever, notes: dict[str, Path],
) -> None:
    cid = ask(service, "What does E-4012 mean?")
    sources = prepared(await run(service, client, cid, retriever=retriever)).sources
    assert sources is not None and sources[0].path == str(notes["errors.md"])


async def test_nothing_relevant_says_so_instead_of_asking_qwen(
    service: ChatService, client: QwenClient, srv: DashScopeServer, retriever: SearcherRetriever,
    history: HistoryStore,
) -> None:
    cid = ask(service, "What is the capital of Australia?")
    events = await run(service, client, cid, retriever=retriever)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    assert end.message.status is Status.NO_NOTES and end.message.sources == []
    assert srv.chat_requests() == []  # Qwen was not asked
    assert history.messages(cid)[-1].status is Status.NO_NOTES

    # The unanswered question does not follow the conversation into the next request.
    ask(service, "Hello there", cid)
    await run(service, client, cid, PLAIN)
    assert srv.chat_requests()[-1]["messages"][1:] == [{"role": "user", "content": "Hello there"}]

    chinese = ask(service, "量子力学的基本原理是什么？")
    end = (await run(service, client, chinese, retriever=retriever))[-1]
    assert isinstance(end, TurnEnded) and end.message.status is Status.NO_NOTES
    assert no_notes_message("量子力学的基本原理是什么？") == NO_NOTES_ZH
    assert no_notes_message("What is the capital of Australia?") == NO_NOTES_EN


def test_question_words_are_not_significant_terms() -> None:
    assert significant_terms("What is the capital of Australia?") == [("capital",), ("australia",)]
    assert ("什", "么") not in significant_terms("报销标准是什么")
    assert ("报", "销") in significant_terms("报销标准是什么")
    assert significant_terms("E-4012") == [("e", "4012")]


# ---- fitting the context ---------------------------------------------------------------------


def passage(name: str, text: str) -> Passage:
    return Passage(f"/notes/{name}", name.upper(), 1, 2, text[:40], text, 1.0, True)


def test_excerpts_that_do_not_fit_are_left_out() -> None:
    big = passage("big.md", "x" * 4000)  # ~1000 tokens
    small = [passage(f"s{i}.md", "y" * 400) for i in range(3)]  # ~100 tokens each
    turns = [{"role": "user", "content": "question?"}]
    plan = plan_request([], turns, 700, passages=[small[0], big, small[1], small[2]])
    assert plan.sources is not None
    assert [s.path for s in plan.sources] == ["/notes/s0.md", "/notes/s1.md", "/notes/s2.md"]
    assert [s.number for s in plan.sources] == [1, 2, 3]  # numbered as sent
    assert plan.omitted_sources == 1
    assert plan.estimated_tokens <= 700
    content = plan.messages[-1]["content"]
    assert "[2] s1.md — S1.MD" in content and "x" * 100 not in content


def test_oldest_history_is_left_out_first_and_the_question_always_goes() -> None:
    turns = []
    for i in range(10):
        turns += [{"role": "user", "content": f"question {i} " + "q" * 400},
                  {"role": "assistant", "content": f"answer {i} " + "a" * 400}]
    turns.append({"role": "user", "content": "the last question"})
    system = [{"role": "system", "content": "Be brief."}]
    plan = plan_request(system, turns, 700)
    kept = plan.messages
    assert kept[0] == system[0] and kept[-1] == turns[-1]
    assert kept[1]["role"] == "user"  # history starts with a question
    assert plan.omitted_messages == len(turns) - 1 - (len(kept) - 2)
    assert plan.omitted_messages > 0 and len(kept) > 2
    assert kept[1:-1] == turns[len(turns) - 1 - (len(kept) - 2):-1]  # the newest turns are kept
    assert plan.estimated_tokens <= 700

    everything = plan_request(system, turns, 1_000_000)
    assert everything.omitted_messages == 0 and everything.messages == [*system, *turns]


def test_excerpts_keep_at_least_half_of_the_room_from_a_long_history() -> None:
    turns = [{"role": "user", "content": "q" * 8000}, {"role": "assistant", "content": "a" * 8000},
             {"role": "user", "content": "the question"}]
    passages = [passage(f"n{i}.md", "n" * 600) for i in range(4)]  # ~150 tokens each
    plan = plan_request([], turns, 1600, passages=passages)
    assert plan.sources is not None and len(plan.sources) == 4
    assert plan.omitted_messages == 2


async def test_long_history_is_trimmed_when_the_service_names_its_limit(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore, tmp_path: Path,
) -> None:
    cid = history.create_conversation().id
    for i in range(10):
        history.add_message(cid, "user", f"Question {i}: " + "tell me more " * 30)
        history.add_message(cid, "assistant", f"Answer {i}: " + "here is more " * 30)
    ask(service, "And finally?", cid)
    srv.max_input_tokens = 900

    events = await run(service, client, cid, PLAIN)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None, end
    assert end.message.content == "Echo: And finally?"
    requests = srv.chat_requests()
    assert len(requests) >= 2  # rejected as too long, then sent again shorter
    server_count = lambda messages: sum(math.ceil(len(m["content"]) / 2) + 4 for m in messages)  # noqa: E731
    assert server_count(requests[0]["messages"]) > 900 >= server_count(requests[-1]["messages"])
    last = requests[-1]["messages"]
    assert last[0]["role"] == "system" and last[-1] == {"role": "user", "content": "And finally?"}
    assert last[1:-1] == requests[0]["messages"][len(requests[0]["messages"]) - len(last) + 1:-1]
    info = prepared(events)
    assert info.input_limit == 900 and info.omitted_messages > 0
    stored = history.messages(cid)[-1]
    assert stored.input_limit == 900 and stored.omitted_messages == info.omitted_messages
    saved = json.loads((tmp_path / "limits.json").read_text())
    assert saved["models"]["qwen-plus"]["input_limit"] == 900  # remembered for next time

    # The next question fits at the first attempt: the limit and the token ratio were learned.
    before = len(srv.chat_requests())
    ask(service, "One more thing?", cid)
    end = (await run(service, client, cid, PLAIN))[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    assert len(srv.chat_requests()) == before + 1
    assert ModelLimits(tmp_path / "limits.json").learned_limit("qwen-plus") == 900


async def test_a_question_too_long_on_its_own_fails_clearly(
    service: ChatService, client: QwenClient, srv: DashScopeServer,
) -> None:
    srv.max_input_tokens = 100
    cid = ask(service, "word " * 200)
    end = (await run(service, client, cid, PLAIN))[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind.value == "context_too_long"
    assert len(srv.chat_requests()) <= 4


# ---- regenerate and edit ---------------------------------------------------------------------


async def test_regenerate_sends_the_same_history_without_the_old_answer(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore,
) -> None:
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="Meh."), ChatReply(content="2.1 million."))
    cid = ask(service, "Capital of France?")
    await run(service, client, cid, PLAIN)
    ask(service, "Population?", cid)
    await run(service, client, cid, PLAIN)

    removed = service.regenerate(cid)
    assert removed is not None and removed.content == "Meh."
    await run(service, client, cid, PLAIN)
    assert srv.chat_requests()[-1]["messages"] == srv.chat_requests()[-2]["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Population?"},
    ]
    assert [m.content for m in history.messages(cid)] == [
        "Capital of France?", "Paris.", "Population?", "2.1 million."]


async def test_edit_an_earlier_question_continues_from_there(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore,
) -> None:
    cid = ask(service, "Capital of France?")
    await run(service, client, cid, PLAIN)
    ask(service, "Population?", cid)
    await run(service, client, cid, PLAIN)
    assert history.conversation(cid).title == "Capital of France?"  # type: ignore[union-attr]

    first = history.messages(cid)[0]
    service.edit_message(cid, first.id, "Capital of Italy?")
    assert [m.content for m in history.messages(cid)] == ["Capital of Italy?"]
    assert history.conversation(cid).title == "Capital of Italy?"  # type: ignore[union-attr]
    await run(service, client, cid, PLAIN)
    assert srv.chat_requests()[-1]["messages"] == [
        {"role": "system", "content": "You are terse."}, {"role": "user", "content": "Capital of Italy?"}]
    assert [m.content for m in history.messages(cid)] == ["Capital of Italy?", "Echo: Capital of Italy?"]
    with pytest.raises(ValueError):
        service.edit_message(cid, history.messages(cid)[-1].id, "not a question")


# ---- tokens and cost -------------------------------------------------------------------------


def usage(prompt: int, completion: int, reasoning: int = 0) -> dict[str, object]:
    body: dict[str, object] = {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}
    if reasoning:
        body["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return body


async def test_cost_totals_add_up_per_reply_conversation_and_month(
    history: HistoryStore, client: QwenClient, srv: DashScopeServer, tmp_path: Path,
) -> None:
    prices_path = tmp_path / "prices.json"
    prices_path.write_text(json.dumps({"models": {
        "qwen-plus": {"input": 1.0, "output": 2.0, "thinking_output": 10.0},
        "qwen-max": {"input": 4.0, "output": 8.0},
    }}))
    service = ChatService(history, policy=QUICK, limits=ModelLimits(tmp_path / "limits.json"),
                          prices=PriceTable(prices_path))
    srv.script_chat(ChatReply(content="one", usage=usage(1_000, 500)),
                    ChatReply(content="two", reasoning="hmm", usage=usage(2_000, 1_000, 400)),
                    ChatReply(content="three", usage=usage(10_000, 0)),
                    ChatReply(content="four", usage=usage(3_000, 3_000)))
    cid = ask(service, "a")
    await run(service, client, cid, PLAIN)
    ask(service, "b", cid)
    await run(service, client, cid, ChatOptions(model="qwen-plus", thinking=True))
    ask(service, "c", cid)
    await run(service, client, cid, ChatOptions(model="qwen-max"))
    other = ask(service, "d")
    await run(service, client, other, ChatOptions(model="qwen-turbo"))  # no price in this table

    replies = [m for m in history.messages(cid) if m.role == "assistant"]
    costs = [service.reply_cost(m) for m in replies]
    assert costs == pytest.approx([(1_000 * 1 + 500 * 2) / 1e6, (2_000 * 1 + 1_000 * 10) / 1e6,
                                   10_000 * 4 / 1e6])
    conversation = service.conversation_totals(cid)
    assert conversation.cost == pytest.approx(sum(costs))  # type: ignore[arg-type]
    assert (conversation.prompt_tokens, conversation.completion_tokens) == (13_000, 1_500)
    assert conversation.replies == 3 and conversation.unpriced == 0

    # A reply from last month does not count for this month.
    old = history.messages(other)[-1]
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute("UPDATE messages SET created=? WHERE id=?", (time.time() - 40 * 86400, old.id))
    month = service.month_totals(now=time.time())
    assert month.cost == pytest.approx(sum(costs))  # type: ignore[arg-type]
    assert month.replies == 3 and month.unpriced == 0
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute("UPDATE messages SET created=? WHERE id=?", (time.time(), old.id))
    month = service.month_totals()
    assert month.replies == 4 and month.unpriced == 1 and month.tokens == 13_000 + 1_500 + 6_000

    assert format_cny(0.0123) == "¥0.012" and format_cny(0.00042) == "¥0.0004" and format_cny(12.5) == "¥12.50"

    # Money spent stays spent: replies removed by Regenerate or a deleted conversation still count.
    history.delete_message(replies[-1].id)
    history.delete_conversation(other)
    after = service.month_totals()
    assert (after.replies, after.tokens, after.cost) == (month.replies, month.tokens, month.cost)
    assert service.conversation_totals(cid).replies == 2  # the conversation shows what it holds


def test_price_table_is_written_with_defaults_and_edits_apply(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    table = PriceTable(path)
    raw = json.loads(path.read_text())
    assert raw["currency"] == "CNY" and "qwen-plus" in raw["models"]
    assert table.price("qwen-plus-latest") == table.price("qwen-plus")  # prefix match
    assert table.price("unknown-model") is None
    raw["models"]["qwen-plus"]["input"] = 100.0
    path.write_text(json.dumps(raw))
    import os

    os.utime(path, (time.time() + 5, time.time() + 5))  # a later modification time, whatever the clock
    assert table.price("qwen-plus").input == 100.0  # type: ignore[union-attr]


# ---- history ---------------------------------------------------------------------------------


def test_history_database_of_version_1_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '',
                created REAL NOT NULL, updated REAL NOT NULL);
            CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,
                content TEXT NOT NULL DEFAULT '', reasoning TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'ok', model TEXT NOT NULL DEFAULT '', usage TEXT,
                error_kind TEXT NOT NULL DEFAULT '', error_detail TEXT NOT NULL DEFAULT '',
                request_id TEXT NOT NULL DEFAULT '', thinking_seconds REAL, created REAL NOT NULL);
            INSERT INTO conversations VALUES (1, 'old one', 1, 1);
            INSERT INTO messages(conversation_id, role, content, created) VALUES (1, 'user', 'hi', 1);
            PRAGMA user_version=1;
        """)
    store = HistoryStore(path)
    try:
        (message,) = store.messages(1)
        assert message.content == "hi" and message.sources is None and message.omitted_messages == 0
        assert message.edited is None
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    finally:
        store.close()
    HistoryStore(path).close()  # opening again changes nothing


def test_conversations_are_searched_by_title_and_content(history: HistoryStore) -> None:
    a = history.create_conversation("Budget 2025")
    history.add_message(a.id, "user", "季度预算怎么分配？")
    b = history.create_conversation("Holiday plans")
    history.add_message(b.id, "assistant", "The 100% refund applies to E-4012 cases")
    assert [c.id for c in history.search_conversations("budget")] == [a.id]
    assert [c.id for c in history.search_conversations("预算")] == [a.id]
    assert [c.id for c in history.search_conversations("e-4012")] == [b.id]
    assert [c.id for c in history.search_conversations("100%")] == [b.id]
    assert history.search_conversations("50%") == []
    assert len(history.search_conversations("  ")) == 2


def test_token_estimate_counts_chinese_denser_than_english() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a" * 400) == 100
    assert estimate_tokens("报" * 150) == 100
