"""Rate limits are waited out at the pace the service accepts; errors that will not clear still fail fast.

Chats run through ChatService and the real client against the loopback server, whose per-minute
limit is scaled down to a one-second window; the policy is scaled the same way (1/60), so a
"minute" of the app's waiting is a second here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from desktop.core.chat import ChatOptions, ChatService, RetryWaiting, TurnEnded, TurnEvent
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore, Status
from desktop.core.pacing import EndpointKind, Pacer, Permit, pacer_for, retry_after_of
from desktop.core.retry import RetryPolicy, call_with_retries
from tests.support.dashscope_server import ChatReply, DashScopeServer

OPTIONS = ChatOptions(model="qwen-plus")
MINUTE_IS_A_SECOND = RetryPolicy(scale=1 / 60)  # the app's own policy, one minute scaled to 1 s


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def limited(srv: DashScopeServer) -> DashScopeServer:
    srv.rate_window_seconds = 1.0
    return srv


async def turn(service: ChatService, client: QwenClient, text: str) -> list[TurnEvent]:
    conversation = service.history.create_conversation()
    service.add_user_message(conversation.id, text)
    return [event async for event in service.run_turn(client, conversation.id, OPTIONS)]


def ending(events: list[TurnEvent]) -> TurnEnded:
    end = events[-1]
    assert isinstance(end, TurnEnded)
    return end


# ---- the loopback server's limiter --------------------------------------------------------------


async def test_the_server_limits_requests_per_window(limited: DashScopeServer, client: QwenClient) -> None:
    limited.rate_limit_per_minute = 3
    for _ in range(3):
        await client.embed(["a"], model="text-embedding-v4", dimensions=64)
    with pytest.raises(QwenError) as refused:
        await client.embed(["a"], model="text-embedding-v4", dimensions=64)
    assert refused.value.kind is ErrorKind.RATE_LIMITED and refused.value.code == "limit_requests"
    assert retry_after_of(refused.value) is None  # DashScope sends no Retry-After
    assert limited.rate_limited("/embeddings") == 1 and limited.rate_limited("/chat/completions") == 0
    await asyncio.sleep(1.1)  # the window moved on
    await client.embed(["a"], model="text-embedding-v4", dimensions=64)

    limited.rate_limit_retry_after = True
    await client.embed(["a"], model="text-embedding-v4", dimensions=64)
    await client.embed(["a"], model="text-embedding-v4", dimensions=64)
    with pytest.raises(QwenError) as refused:
        await client.embed(["a"], model="text-embedding-v4", dimensions=64)
    seconds = retry_after_of(refused.value)
    assert seconds is not None and 0 < seconds <= 1.0


# ---- the pacer on its own -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def busy() -> QwenError:
    return QwenError(ErrorKind.RATE_LIMITED, "Requests rate limit exceeded", status=429)


def test_a_burst_of_refusals_is_one_event_and_the_rate_is_learnt() -> None:
    clock = Clock()
    pacer = Pacer(window=60.0, clock=clock)
    clock.now += 60.0  # the pacer has watched a whole window
    sent = [pacer.reserve() for _ in range(50)]
    assert all(permit.at == clock.now for permit in sent)  # nothing is paced before a refusal
    for permit in sent[:20]:
        pacer.accepted(permit)
    clock.now += 0.5
    pauses = [pacer.refused(permit, busy(), first_wait=2.0) for permit in sent[20:]]
    assert pauses[0] == pytest.approx(2.0) and all(p <= 2.0 for p in pauses)  # one event, not 30
    assert pacer.rate == pytest.approx(20 / 60 * 0.9)  # what it accepted in the window, a bit under
    first, second = pacer.reserve(), pacer.reserve()
    assert first.at == pytest.approx(clock.now + 2.0)  # after the pause
    assert second.at - first.at == pytest.approx(1 / pacer.rate)  # then spaced by the rate

    clock.now += 3.0  # a request sent after the event is refused too: the next event waits longer
    assert pacer.refused(Permit(clock.now, pacer.reserve().epoch), busy(), first_wait=2.0) == pytest.approx(4.0)


def test_the_pause_ends_when_the_window_frees_a_slot_and_the_rate_grows_back() -> None:
    clock = Clock()
    pacer = Pacer(window=60.0, clock=clock)
    pacer.accepted(pacer.reserve())  # accepted at t0
    clock.now += 59.0
    assert pacer.refused(pacer.reserve(), busy(), first_wait=30.0) == pytest.approx(1.0)
    assert pacer.refused(pacer.reserve(), busy(), first_wait=2.0, retry_after=7.0) == pytest.approx(7.0)
    rate = pacer.rate
    assert rate is not None
    clock.now += 61.0
    pacer.accepted(pacer.reserve())  # a clean window later the rate rises by a tenth
    assert pacer.rate == pytest.approx(rate * 1.1)


def test_one_pacer_per_endpoint_for_the_whole_process() -> None:
    chat = pacer_for("http://127.0.0.1:1/v1/", EndpointKind.CHAT)
    assert pacer_for("http://127.0.0.1:1/v1", EndpointKind.CHAT) is chat
    assert pacer_for("http://127.0.0.1:1/v1", EndpointKind.EMBEDDINGS) is not chat
    assert pacer_for("http://127.0.0.1:2/v1", EndpointKind.CHAT) is not chat


# ---- chats through a rate limit -----------------------------------------------------------------


async def test_twenty_concurrent_chats_all_get_through_a_limit_of_five_per_window(
    limited: DashScopeServer, client: QwenClient, history: HistoryStore
) -> None:
    limited.rate_limit_per_minute = 5
    service = ChatService(history, policy=MINUTE_IS_A_SECOND)
    runs = [turn(service, client, f"question {i}") for i in range(20)]
    results = await asyncio.wait_for(asyncio.gather(*runs), timeout=90)
    failures = [ending(events).error for events in results if ending(events).error is not None]
    assert failures == []
    assert all(ending(events).message.status is Status.OK for events in results)
    assert limited.rate_limited("/chat/completions") > 0  # the limit was really hit...
    assert any(isinstance(e, RetryWaiting) and e.error.kind is ErrorKind.RATE_LIMITED
               for events in results for e in events)  # ...and the waits were shown


async def test_the_old_policy_loses_chats_to_the_same_limit(
    limited: DashScopeServer, client: QwenClient, history: HistoryStore
) -> None:
    limited.rate_limit_per_minute = 5
    service = ChatService(history, policy=RetryPolicy(scale=1 / 60, paced=False))
    runs = [turn(service, client, f"question {i}") for i in range(20)]
    results = await asyncio.wait_for(asyncio.gather(*runs), timeout=90)
    assert any(ending(events).error is not None for events in results)


async def test_retry_after_is_respected(
    limited: DashScopeServer, client: QwenClient, history: HistoryStore
) -> None:
    limited.rate_limit_per_minute = 1
    limited.rate_limit_retry_after = True
    quick = RetryPolicy(base_delay=0.001, quota_delay=0.001, jitter=0.0, scale=1.0)
    service = ChatService(history, policy=quick)
    first, second = await asyncio.wait_for(
        asyncio.gather(turn(service, client, "one"), turn(service, client, "two")), timeout=60)
    assert ending(first).error is None and ending(second).error is None
    waits = [e.seconds for events in (first, second) for e in events if isinstance(e, RetryWaiting)]
    assert waits and max(waits) > 0.3  # the server's word, not the policy's 1 ms backoff


async def test_a_limit_that_never_clears_fails_after_the_budget(
    limited: DashScopeServer, client: QwenClient, history: HistoryStore
) -> None:
    limited.rate_limit_per_minute = 0  # nothing ever gets through
    service = ChatService(history, policy=MINUTE_IS_A_SECOND)  # budget: 120 s scaled to 2 s
    started = time.monotonic()
    events = await asyncio.wait_for(turn(service, client, "hello"), timeout=60)
    elapsed = time.monotonic() - started
    end = ending(events)
    assert end.error is not None and end.error.kind is ErrorKind.RATE_LIMITED
    assert end.message.status is Status.ERROR
    assert elapsed >= MINUTE_IS_A_SECOND.rate_budget * MINUTE_IS_A_SECOND.scale * 0.9
    assert sum(isinstance(e, RetryWaiting) for e in events) >= 2


@pytest.fixture
async def wrong_key_client(srv: DashScopeServer) -> AsyncIterator[QwenClient]:
    config = ConnectionConfig(base_url=srv.base_url, api_key="sk-wrong-key-0000", proxy_mode="none")
    async with QwenClient(config) as c:
        yield c


async def test_errors_that_will_not_clear_fail_fast_even_while_rate_limited(
    limited: DashScopeServer, client: QwenClient, wrong_key_client: QwenClient, history: HistoryStore
) -> None:
    limited.rate_limit_per_minute = 2
    service = ChatService(history)  # the real policy: minutes of patience for a rate limit
    started = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*[turn(service, wrong_key_client, f"q{i}") for i in range(5)]), timeout=60)
    assert {ending(events).error.kind for events in results if ending(events).error} == {ErrorKind.AUTH}
    assert all(not isinstance(e, RetryWaiting) for events in results for e in events)

    limited.script_chat(ChatReply.error(400, "Arrearage"))
    end = ending(await asyncio.wait_for(turn(service, client, "overdue?"), timeout=60))
    assert end.error is not None and end.error.kind is ErrorKind.ARREARAGE
    assert time.monotonic() - started < 10  # the rate budget is 120 s


async def test_call_with_retries_keeps_going_through_a_rate_limit(
    limited: DashScopeServer, client: QwenClient
) -> None:
    limited.rate_limit_per_minute = 4
    pacer = pacer_for(client.config.base_url, EndpointKind.EMBEDDINGS, 1.0)
    waits: list[tuple[float, ErrorKind]] = []

    async def one() -> None:
        await call_with_retries(
            lambda: client.embed(["x"], model="text-embedding-v4", dimensions=64), MINUTE_IS_A_SECOND,
            lambda seconds, attempt, error: waits.append((seconds, error.kind)), pacer=pacer)

    await asyncio.wait_for(asyncio.gather(*[one() for _ in range(16)]), timeout=60)
    assert limited.rate_limited("/embeddings") > 0
    assert waits and {kind for _, kind in waits} == {ErrorKind.RATE_LIMITED}
