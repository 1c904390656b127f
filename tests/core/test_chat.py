"""ChatService with a real HistoryStore (SQLite in tmp) and QwenClient against the loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat import (
    ChatOptions,
    ChatService,
    ReplyStarted,
    RetryWaiting,
    TurnEnded,
    TurnEvent,
    title_from,
)
from desktop.core.client import ConnectionConfig, ContentDelta, QwenClient, ReasoningDelta, Usage
from desktop.core.errors import ErrorKind
from desktop.core.history import HistoryStore, Status
from desktop.core.retry import RetryPolicy
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer

OPTIONS = ChatOptions(model="qwen-plus", system_prompt="You are terse.")
QUICK = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, quota_delay=0.003, jitter=0.0, scale=1.0)


class FastSleep:
    """A stand-in for asyncio.sleep that records the waits and only yields to the loop."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)




@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def history(db_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(db_path)
    yield store
    store.close()


@pytest.fixture
def sleep() -> FastSleep:
    return FastSleep()


@pytest.fixture
def service(history: HistoryStore, sleep: FastSleep) -> ChatService:
    return ChatService(history, policy=QUICK, sleep=sleep)


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def rows_on_disk(db_path: Path) -> list[dict[str, Any]]:
    """Messages as another process would read them from the file (not through the store)."""
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM messages ORDER BY id")]


async def run(service: ChatService, client: QwenClient, conversation_id: int,
              options: ChatOptions = OPTIONS) -> list[TurnEvent]:
    return [event async for event in service.run_turn(client, conversation_id, options)]


def ask(service: ChatService, text: str) -> int:
    conversation = service.history.create_conversation()
    service.add_user_message(conversation.id, text)
    return conversation.id


def content_of(events: list[TurnEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


# ---- a normal turn ---------------------------------------------------------------------------


async def test_user_message_is_stored_before_the_request(
    service: ChatService, client: QwenClient, srv: DashScopeServer, db_path: Path
) -> None:
    cid = ask(service, "What is 6 × 7?")
    on_disk_at_start: list[dict[str, Any]] = []
    requests_at_start = -1
    async for event in service.run_turn(client, cid, OPTIONS):
        if isinstance(event, ReplyStarted):
            on_disk_at_start = rows_on_disk(db_path)
            requests_at_start = len(srv.chat_requests())
    assert requests_at_start == 0
    assert [(r["role"], r["content"], r["status"]) for r in on_disk_at_start] == [
        ("user", "What is 6 × 7?", "ok"), ("assistant", "", "streaming")]


async def test_user_message_survives_a_failed_request(
    service: ChatService, history: HistoryStore
) -> None:
    with refused_port() as port:
        config = ConnectionConfig(base_url=f"http://127.0.0.1:{port}/compatible-mode/v1", api_key=TEST_KEY,
                                  proxy_mode="none")
        async with QwenClient(config) as client:
            cid = ask(service, "keep me")
            events = await run(service, client, cid)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind is ErrorKind.NETWORK
    messages = history.messages(cid)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "keep me", Status.OK), ("assistant", "", Status.ERROR)]


async def test_a_turn_streams_and_is_saved(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore, db_path: Path
) -> None:
    srv.script_chat(ChatReply(reasoning="Six sevens.", content="It is **42**."))
    cid = ask(service, "What is 6 × 7?")
    events: list[TurnEvent] = []
    async for event in service.run_turn(client, cid, ChatOptions(model="qwen-plus", thinking=True)):
        if isinstance(event, ReplyStarted):
            assert event.message.status is Status.STREAMING and event.message.role == "assistant"
        events.append(event)

    assert isinstance(events[0], ReplyStarted)
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Six sevens."
    assert content_of(events) == "It is **42**."
    assert any(isinstance(e, Usage) for e in events)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    reply = history.messages(cid)[-1]
    assert reply.id == end.message.id
    assert (reply.role, reply.content, reply.reasoning, reply.status) == (
        "assistant", "It is **42**.", "Six sevens.", Status.OK)
    assert reply.model == "qwen-plus"
    assert reply.request_id == srv.streams[-1].request_id
    assert reply.usage is not None and reply.usage.reasoning_tokens > 0
    assert reply.thinking_seconds is not None and reply.thinking_seconds >= 0
    assert srv.chat_requests()[-1]["enable_thinking"] is True
    history.close()
    reopened = HistoryStore(db_path)
    try:
        assert reopened.messages(cid)[-1].content == "It is **42**."
    finally:
        reopened.close()


async def test_multi_turn_history_and_system_prompt_are_sent(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="Paris."), ChatReply(content="About 2.1 million."))
    cid = ask(service, "Capital of France?")
    await run(service, client, cid)
    service.add_user_message(cid, "And its population?")
    await run(service, client, cid)

    assert srv.chat_requests()[0]["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert srv.chat_requests()[1]["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And its population?"},
    ]
    assert srv.chat_requests()[1]["model"] == "qwen-plus"
    assert [m.content for m in history.messages(cid)][-1] == "About 2.1 million."


async def test_no_system_prompt_sends_none(
    service: ChatService, client: QwenClient, srv: DashScopeServer
) -> None:
    cid = ask(service, "hi")
    await run(service, client, cid, ChatOptions(model="qwen-max", system_prompt="  "))
    assert srv.chat_requests()[-1]["messages"] == [{"role": "user", "content": "hi"}]


async def test_turn_needs_a_user_message_last(service: ChatService, client: QwenClient) -> None:
    conversation = service.history.create_conversation()
    with pytest.raises(ValueError):
        await run(service, client, conversation.id)


# ---- retries ---------------------------------------------------------------------------------


async def test_retry_then_success_on_429_and_503(
    service: ChatService, client: QwenClient, srv: DashScopeServer, sleep: FastSleep, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply.error(429, "limit_requests"), ChatReply.error(503, "ModelUnavailable"),
                    ChatReply(content="finally"))
    cid = ask(service, "hello")
    events = await run(service, client, cid)

    waits = [e for e in events if isinstance(e, RetryWaiting)]
    assert [(w.attempt, w.error.kind) for w in waits] == [
        (1, ErrorKind.RATE_LIMITED), (2, ErrorKind.SERVICE_DOWN)]
    assert sleep.waits == [w.seconds for w in waits]
    assert all(w.error.request_id for w in waits)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    assert content_of(events) == "finally"
    assert len(srv.chat_requests()) == 3
    assert [(m.role, m.content, m.status) for m in history.messages(cid)] == [
        ("user", "hello", Status.OK), ("assistant", "finally", Status.OK)]


async def test_quota_throttling_waits_longer(
    service: ChatService, client: QwenClient, srv: DashScopeServer, sleep: FastSleep
) -> None:
    srv.script_chat(ChatReply.error(429, "insufficient_quota"), ChatReply.error(429, "limit_requests"))
    events = await run(service, client, ask(service, "hello"))
    waits = [e for e in events if isinstance(e, RetryWaiting)]
    assert [w.error.kind for w in waits] == [ErrorKind.QUOTA_THROTTLED, ErrorKind.RATE_LIMITED]
    assert waits[0].seconds == pytest.approx(QUICK.quota_delay)
    assert waits[1].seconds == pytest.approx(QUICK.base_delay * 2)
    assert isinstance(events[-1], TurnEnded) and events[-1].error is None


async def test_retries_give_up_after_the_policy(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(*[ChatReply.error(503)] * (QUICK.attempts + 2))
    cid = ask(service, "hello")
    events = await run(service, client, cid)
    assert [e.attempt for e in events if isinstance(e, RetryWaiting)] == [1, 2, 3]
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind is ErrorKind.SERVICE_DOWN
    assert len(srv.chat_requests()) == QUICK.attempts + 1
    assert history.messages(cid)[-1].status is Status.ERROR


async def test_stream_error_before_any_text_is_retried(
    service: ChatService, client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(content="never", error_after=0, error_code="limit_requests",
                              error_message="Requests rate limit exceeded"), ChatReply(content="ok"))
    events = await run(service, client, ask(service, "hello"))
    assert [e.error.kind for e in events if isinstance(e, RetryWaiting)] == [ErrorKind.RATE_LIMITED]
    assert content_of(events) == "ok"


@pytest.mark.parametrize("reasoning", ["", "thinking first"])
async def test_no_retry_after_partial_text(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore, reasoning: str
) -> None:
    srv.script_chat(ChatReply(reasoning=reasoning, content="abcdefgh", error_after=1,
                              error_code="limit_requests", error_message="Requests rate limit exceeded"),
                    ChatReply(content="must not be requested"))
    cid = ask(service, "hello")
    events = await run(service, client, cid)
    assert not any(isinstance(e, RetryWaiting) for e in events)
    assert len(srv.chat_requests()) == 1
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind is ErrorKind.CUT_OFF
    reply = history.messages(cid)[-1]
    assert reply.status is Status.CUT_OFF
    assert (reply.reasoning, reply.content) == (("thin", "") if reasoning else ("", "abcd"))


# ---- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (ChatReply.error(401), ErrorKind.AUTH),
        (ChatReply.error(400, "Arrearage"), ErrorKind.ARREARAGE),
        (ChatReply.error(400, "data_inspection_failed"), ErrorKind.MODERATION),
        (ChatReply.error(403, "AccessDenied"), ErrorKind.ACCESS_DENIED),
        (ChatReply.error(404, "model_not_found"), ErrorKind.MODEL_NOT_FOUND),
    ],
    ids=lambda v: v.error_code or str(v.status) if isinstance(v, ChatReply) else str(v),
)
async def test_not_retryable_errors_end_the_turn(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore,
    sleep: FastSleep, reply: ChatReply, kind: ErrorKind,
) -> None:
    srv.script_chat(reply)
    cid = ask(service, "hello")
    events = await run(service, client, cid)
    assert [type(e) for e in events] == [ReplyStarted, TurnEnded]
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None and end.error.kind is kind
    assert sleep.waits == [] and len(srv.chat_requests()) == 1
    stored = history.messages(cid)
    assert [(m.role, m.status) for m in stored] == [("user", Status.OK), ("assistant", Status.ERROR)]
    assert stored[-1].error_kind == kind.value
    assert stored[-1].request_id == srv.streams[-1].request_id
    assert srv.streams[-1].request_id in stored[-1].error_detail


async def test_cut_off_keeps_partial_text(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="The first part, then nothing", disconnect_after=3))
    cid = ask(service, "hello")
    events = await run(service, client, cid)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind is ErrorKind.CUT_OFF
    reply = history.messages(cid)[-1]
    assert reply.status is Status.CUT_OFF
    assert reply.content == content_of(events) == "The first pa"
    assert reply.error_kind == "cut_off"
    # A cut-off reply with text is part of the next request's history.
    service.add_user_message(cid, "go on")
    await run(service, client, cid)
    assert srv.chat_requests()[-1]["messages"][-2] == {"role": "assistant", "content": "The first pa"}


async def test_cancelling_saves_partial_text_as_stopped(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="y" * 4000, chunk_delay=0.02))
    cid = ask(service, "write a lot")
    received: list[str] = []
    got_text = asyncio.Event()

    async def consume() -> None:
        async for event in service.run_turn(client, cid, OPTIONS):
            if isinstance(event, ContentDelta):
                received.append(event.text)
                if len(received) == 2:
                    got_text.set()

    task = asyncio.create_task(consume())
    await got_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    reply = history.messages(cid)[-1]
    assert reply.status is Status.STOPPED
    assert reply.content == "".join(received) and len(reply.content) >= 8
    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected


async def test_crash_mid_stream_keeps_text_saved_so_far(
    history: HistoryStore, client: QwenClient, srv: DashScopeServer, db_path: Path
) -> None:
    service = ChatService(history, policy=QUICK, save_interval=0)
    srv.script_chat(ChatReply(content="z" * 4000, chunk_delay=0.02))
    cid = ask(service, "write a lot")
    turn = service.run_turn(client, cid, OPTIONS)
    received: list[str] = []
    while len(received) < 5:
        event = await anext(turn)
        if isinstance(event, ContentDelta):
            received.append(event.text)
    reply_id = history.messages(cid)[-1].id
    assert rows_on_disk(db_path)[-1]["status"] == "streaming"

    # The app "crashes" here: the reply is left streaming in the file, and the next start opens it.
    restarted = HistoryStore(db_path)
    try:
        recovered = restarted.message(reply_id)
        assert recovered is not None
        assert recovered.status is Status.CUT_OFF
        text = "".join(received)
        assert recovered.content and text.startswith(recovered.content)
        assert len(recovered.content) >= len(text) - len(received[-1])
        assert [m.role for m in restarted.messages(cid)] == ["user", "assistant"]
    finally:
        restarted.close()
        await turn.aclose()


async def test_empty_reply_is_an_error(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="", reasoning=""))
    cid = ask(service, "hello")
    events = await run(service, client, cid)
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert history.messages(cid)[-1].status is Status.ERROR


async def test_length_finish_is_recorded(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="truncated", finish_reason="length"))
    cid = ask(service, "hello")
    end = (await run(service, client, cid))[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    assert history.messages(cid)[-1].status is Status.LENGTH


# ---- retry by the user, titles ---------------------------------------------------------------


async def test_retry_after_error_writes_the_reply_in_the_failed_rows_place(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply.error(400, "data_inspection_failed"), ChatReply(content="second time lucky"))
    cid = ask(service, "hello")
    first = await run(service, client, cid)
    assert isinstance(first[-1], TurnEnded) and first[-1].error is not None

    failed = first[-1].message.id
    second = [event async for event in service.run_turn(client, cid, OPTIONS, again=failed)]
    assert isinstance(second[-1], TurnEnded) and second[-1].error is None
    assert [(m.id, m.role, m.content) for m in history.messages(cid)] == [
        (failed - 1, "user", "hello"), (failed, "assistant", "second time lucky")]
    assert srv.chat_requests()[-1]["messages"][1:] == [{"role": "user", "content": "hello"}]


async def test_only_a_reply_of_the_conversation_is_answered_again(
    service: ChatService, client: QwenClient, history: HistoryStore
) -> None:
    cid = ask(service, "hello")
    await run(service, client, cid)
    question, reply = history.messages(cid)
    other = ask(service, "elsewhere")
    for wrong in (question.id, history.messages(other)[0].id, reply.id + 100):
        with pytest.raises(ValueError):
            _ = [event async for event in service.run_turn(client, cid, OPTIONS, again=wrong)]
    assert [m.role for m in history.messages(cid)] == ["user", "assistant"]


def test_title_from_first_message(service: ChatService, history: HistoryStore) -> None:
    conversation = history.create_conversation()
    long_text = "Please explain   how the\nTCP three-way handshake works, step by step, with a diagram"
    service.add_user_message(conversation.id, long_text)
    service.add_user_message(conversation.id, "A second message does not rename it")
    title = history.conversation(conversation.id).title  # type: ignore[union-attr]
    assert title == title_from(long_text)
    assert title.startswith("Please explain how the TCP three-way")
    assert title.endswith("…") and len(title) <= 40 and "\n" not in title

    short = history.create_conversation()
    service.add_user_message(short.id, "  你好，通义千问  ")
    assert history.conversation(short.id).title == "你好，通义千问"  # type: ignore[union-attr]

    named = history.create_conversation("My own title")
    service.add_user_message(named.id, "hello")
    assert history.conversation(named.id).title == "My own title"  # type: ignore[union-attr]


# ---- the retry policy ------------------------------------------------------------------------


def test_retry_policy_backs_off_with_jitter_and_waits_longer_for_quota() -> None:
    import random

    from desktop.core.errors import QwenError

    policy = RetryPolicy(scale=1.0)
    busy, quota = QwenError(ErrorKind.RATE_LIMITED), QwenError(ErrorKind.QUOTA_THROTTLED)
    rng = random.Random(7)
    for attempt, base in ((1, 2.0), (2, 4.0), (3, 8.0), (6, 30.0)):
        for _ in range(20):
            assert base * 0.75 <= policy.delay(attempt, busy, rng) <= base * 1.25
    assert policy.delay(1, quota, rng) >= 15.0
    assert policy.delay(9, quota, rng) <= 60.0 * 1.25
    no_jitter = RetryPolicy(jitter=0.0, scale=1.0)
    assert no_jitter.delay(1, quota) > no_jitter.delay(1, busy)


def test_retry_scale_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.core.errors import QwenError

    busy = QwenError(ErrorKind.SERVICE_DOWN)
    monkeypatch.setenv("QWEN_DESKTOP_RETRY_SCALE", "0.001")
    assert RetryPolicy(jitter=0.0).delay(1, busy) == pytest.approx(0.002)
    monkeypatch.setenv("QWEN_DESKTOP_RETRY_SCALE", "not a number")
    assert RetryPolicy(jitter=0.0).delay(1, busy) == pytest.approx(2.0)
    monkeypatch.delenv("QWEN_DESKTOP_RETRY_SCALE")
    assert RetryPolicy(jitter=0.0).delay(1, busy) == pytest.approx(2.0)
