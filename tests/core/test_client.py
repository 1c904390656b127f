"""QwenClient against the loopback DashScope server: real HTTP, the real openai SDK, no mocks."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from desktop.core.client import (
    ChatEvent,
    ConnectionConfig,
    ContentDelta,
    Finished,
    QwenClient,
    ReasoningDelta,
    StreamStarted,
    Usage,
)
from desktop.core.errors import ErrorKind, QwenError
from tests.support.dashscope_server import (
    TEST_KEY,
    ChatReply,
    DashScopeServer,
    EmbeddingReply,
    embedding_vector,
)

HELLO = [{"role": "user", "content": "hello there"}]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")




@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening, so nobody else takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class _RefusingProxy(socketserver.ThreadingTCPServer):
    """A tiny HTTP proxy on loopback that answers every request (CONNECT included) with one status."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, status: str) -> None:
        self.status = status
        self.request_lines: list[str] = []
        super().__init__(("127.0.0.1", 0), _RefusingProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RefusingProxyHandler(socketserver.StreamRequestHandler):
    server: _RefusingProxy

    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self.rfile.readline(65536)
            if not line:
                return
            head += line
        self.server.request_lines.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
        extra = "Proxy-Authenticate: Basic realm=\"test\"\r\n" if self.server.status.startswith("407") else ""
        self.wfile.write(
            f"HTTP/1.1 {self.server.status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )


@contextlib.contextmanager
def running_proxy(status: str) -> Iterator[_RefusingProxy]:
    proxy = _RefusingProxy(status)
    thread = threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)


@pytest.fixture(params=["502 Bad Gateway", "407 Proxy Authentication Required"])
def refusing_proxy(request: pytest.FixtureRequest) -> Iterator[_RefusingProxy]:
    with running_proxy(request.param) as proxy:
        yield proxy


async def collect(client: QwenClient, model: str = "qwen-plus", **kwargs: Any) -> list[ChatEvent]:
    return [event async for event in client.stream_chat(HELLO, model=model, **kwargs)]


async def stream_until_error(
    client: QwenClient, model: str = "qwen-plus", **kwargs: Any
) -> tuple[list[ChatEvent], QwenError]:
    events: list[ChatEvent] = []
    with pytest.raises(QwenError) as caught:
        async for event in client.stream_chat(HELLO, model=model, **kwargs):
            events.append(event)
    return events, caught.value


def text_of(events: list[ChatEvent], kind: type[ReasoningDelta] | type[ContentDelta]) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


# ---- streaming -------------------------------------------------------------------------------


async def test_events_arrive_in_order_with_reasoning_and_usage(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(reasoning="Let me think about this.", content="The answer is 42."))
    events = await collect(client, thinking=True)

    kinds = [type(e).__name__ for e in events]
    n_reasoning, n_content = kinds.count("ReasoningDelta"), kinds.count("ContentDelta")
    assert n_reasoning > 1 and n_content > 1
    assert kinds == (
        ["StreamStarted"] + ["ReasoningDelta"] * n_reasoning + ["ContentDelta"] * n_content
        + ["Finished", "Usage"]
    )
    assert events[0] == StreamStarted(srv.streams[-1].request_id)
    assert text_of(events, ReasoningDelta) == "Let me think about this."
    assert text_of(events, ContentDelta) == "The answer is 42."
    assert events[-2] == Finished("stop")
    usage = events[-1]
    assert isinstance(usage, Usage)
    assert usage.reasoning_tokens == n_reasoning
    assert usage.completion_tokens == n_reasoning + n_content
    assert usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_usage_chunk_with_empty_choices_is_handled(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply(content="short", usage={"prompt_tokens": 7, "completion_tokens": 3,
                                                      "total_tokens": 10}))
    events = await collect(client)
    assert srv.chat_requests()[-1]["stream_options"] == {"include_usage": True}
    assert events[-1] == Usage(prompt_tokens=7, completion_tokens=3, reasoning_tokens=0)
    assert text_of(events, ContentDelta) == "short"
    assert srv.wait_for_stream_end(2).outcome == "completed"


async def test_finish_reason_length(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply(content="cut here", finish_reason="length"))
    events = await collect(client)
    assert Finished("length") in events


async def test_sse_split_across_tcp_writes(client: QwenClient, srv: DashScopeServer) -> None:
    text = "Split across TCP writes, mid JSON — 中文也可以，emoji 🚀 too."
    srv.script_chat(ChatReply(content=text, reasoning="思考一下", split_writes=True))
    events = await collect(client, thinking=True)
    assert text_of(events, ContentDelta) == text
    assert text_of(events, ReasoningDelta) == "思考一下"
    assert isinstance(events[-1], Usage)


@pytest.mark.parametrize(
    ("model", "thinking", "expected"),
    [
        ("qwen-plus", True, True),
        ("qwen-plus", False, False),
        ("qwen3-32b", False, False),
        ("qwen-max", True, None),
        ("qwen-max", False, None),
        ("qwq-plus", True, None),
        ("qwq-plus", False, None),
    ],
)
async def test_enable_thinking_sent_only_to_hybrid_models(
    client: QwenClient, srv: DashScopeServer, model: str, thinking: bool, expected: bool | None
) -> None:
    events = await collect(client, model=model, thinking=thinking)
    assert isinstance(events[-1], Usage)  # the server accepted the request
    body = srv.chat_requests()[-1]
    if expected is None:
        assert "enable_thinking" not in body
    else:
        assert body["enable_thinking"] is expected
    assert body["stream"] is True


async def test_temperature_is_kept_inside_the_accepted_range(
    client: QwenClient, srv: DashScopeServer
) -> None:
    await collect(client, temperature=2.0)
    assert 0 <= srv.chat_requests()[-1]["temperature"] < 2


# ---- HTTP errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (ChatReply.error(400, "Arrearage"), ErrorKind.ARREARAGE),
        (ChatReply.error(400, "data_inspection_failed"), ErrorKind.MODERATION),
        (ChatReply.error(403, "AccessDenied"), ErrorKind.ACCESS_DENIED),
        (ChatReply.error(403, "AccessDenied.Unpurchased"), ErrorKind.ACCESS_DENIED),
        (ChatReply.error(403, "AllocationQuota.FreeTierOnly",
                         "The free tier of the model has been exhausted."),
         ErrorKind.FREE_QUOTA),
        (ChatReply.error(404, "model_not_found"), ErrorKind.MODEL_NOT_FOUND),
        (ChatReply.error(429, "limit_requests"), ErrorKind.RATE_LIMITED),
        (ChatReply.error(429, "limit_burst_rate"), ErrorKind.RATE_LIMITED),
        (ChatReply.error(429, "insufficient_quota"), ErrorKind.QUOTA_THROTTLED),
        (ChatReply.error(500, "internal_error"), ErrorKind.SERVICE_DOWN),
        (ChatReply.error(503, "ModelUnavailable"), ErrorKind.SERVICE_DOWN),
        (ChatReply.error(503, "ModelServingError"), ErrorKind.SERVICE_DOWN),
    ],
    ids=lambda v: v.error_code if isinstance(v, ChatReply) else str(v),
)
async def test_http_errors_map_to_kinds_with_request_id(
    client: QwenClient, srv: DashScopeServer, reply: ChatReply, kind: ErrorKind
) -> None:
    srv.script_chat(reply)
    events, error = await stream_until_error(client)
    assert events == []
    assert error.kind is kind
    assert error.status == reply.status
    assert error.code == reply.error_code
    assert error.detail  # the server's own message is kept for the details
    assert error.request_id == srv.streams[-1].request_id
    assert f"request id: {error.request_id}" in error.details()
    assert error.retryable is (kind in {ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED,
                                        ErrorKind.SERVICE_DOWN})


async def test_wrong_key_is_auth_error(srv: DashScopeServer) -> None:
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key="sk-wrong-0000")) as client:
        events, error = await stream_until_error(client)
    assert events == []
    assert error.kind is ErrorKind.AUTH
    assert error.status == 401 and error.code == "invalid_api_key"
    assert error.request_id and UUID_RE.match(error.request_id)
    assert not error.retryable


async def test_unknown_model_is_model_not_found(client: QwenClient) -> None:
    _, error = await stream_until_error(client, model="Qwen-Plus")  # ids are case-sensitive
    assert error.kind is ErrorKind.MODEL_NOT_FOUND
    assert error.status == 404 and error.request_id


async def test_context_too_long_keeps_the_limit(client: QwenClient, srv: DashScopeServer) -> None:
    srv.max_input_tokens = 50
    with pytest.raises(QwenError) as caught:
        async for _ in client.stream_chat([{"role": "user", "content": "x" * 400}], model="qwen-plus"):
            pass
    error = caught.value
    assert error.kind is ErrorKind.CONTEXT_TOO_LONG
    assert error.limit == 50
    assert error.status == 400 and error.request_id


# ---- transport errors ------------------------------------------------------------------------


async def test_connection_refused_is_network(closed_port: int) -> None:
    config = ConnectionConfig(base_url=f"http://127.0.0.1:{closed_port}/compatible-mode/v1",
                              api_key=TEST_KEY, proxy_mode="none")
    async with QwenClient(config) as client:
        events, error = await stream_until_error(client)
    assert events == []
    assert error.kind is ErrorKind.NETWORK
    assert error.detail  # e.g. "[Errno 111] Connection refused"


async def test_manual_proxy_that_refuses_connections_is_proxy(srv: DashScopeServer, closed_port: int) -> None:
    config = ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="manual",
                              proxy_url=f"http://127.0.0.1:{closed_port}")
    async with QwenClient(config) as client:
        _, error = await stream_until_error(client)
    assert error.kind is ErrorKind.PROXY
    assert srv.requests == []


async def test_manual_socks_proxy_that_refuses_connections_is_proxy(
    srv: DashScopeServer, closed_port: int
) -> None:
    config = ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="manual",
                              proxy_url=f"socks5://127.0.0.1:{closed_port}")
    async with QwenClient(config) as client:
        _, error = await stream_until_error(client)
    assert error.kind is ErrorKind.PROXY


async def test_environment_proxy_that_refuses_connections_is_proxy(
    srv: DashScopeServer, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY)) as client:
        _, error = await stream_until_error(client)
    assert error.kind is ErrorKind.PROXY
    assert srv.requests == []


async def test_proxy_refusing_connect_is_proxy_not_network_or_auth(
    srv: DashScopeServer, refusing_proxy: _RefusingProxy
) -> None:
    # An https base URL makes the client tunnel with CONNECT; the proxy refuses the tunnel.
    config = ConnectionConfig(base_url=f"https://127.0.0.1:{srv.port}/compatible-mode/v1",
                              api_key="sk-not-checked-0000", proxy_mode="manual",
                              proxy_url=refusing_proxy.url)
    async with QwenClient(config) as client:
        _, error = await stream_until_error(client)
    assert error.kind is ErrorKind.PROXY
    assert refusing_proxy.request_lines == [f"CONNECT 127.0.0.1:{srv.port} HTTP/1.1"]
    assert srv.requests == []


async def test_forward_proxy_asking_for_credentials_is_proxy(srv: DashScopeServer) -> None:
    # A plain-http base URL goes through the proxy as a forwarded request: a 407 is the proxy's.
    with running_proxy("407 Proxy Authentication Required") as proxy:
        config = ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="manual",
                                  proxy_url=proxy.url)
        async with QwenClient(config) as client:
            _, error = await stream_until_error(client)
    assert error.kind is ErrorKind.PROXY
    assert proxy.request_lines and proxy.request_lines[0].startswith("POST http://127.0.0.1:")


# ---- failures mid-stream and cancelling ------------------------------------------------------


async def test_error_event_mid_stream_is_cut_off_after_partial_deltas(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(content="abcdefghijkl", error_after=2))
    events, error = await stream_until_error(client)
    assert text_of(events, ContentDelta) == "abcdefgh"
    assert error.kind is ErrorKind.CUT_OFF
    assert error.code == "data_inspection_failed"
    assert error.request_id == srv.streams[-1].request_id
    assert srv.wait_for_stream_end(2).outcome == "error_event"


async def test_disconnect_mid_stream_is_cut_off_after_partial_deltas(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(reasoning="hmm, well", content="abcdefghijkl", disconnect_after=4))
    events, error = await stream_until_error(client, thinking=True)
    assert text_of(events, ReasoningDelta) == "hmm, well"
    assert text_of(events, ContentDelta) == "abcd"  # 3 reasoning deltas + 1 content delta
    assert error.kind is ErrorKind.CUT_OFF
    assert error.request_id == srv.streams[-1].request_id
    assert srv.wait_for_stream_end(2).outcome == "server_disconnect"


async def test_cancelling_the_consumer_closes_the_response_promptly(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(content="x" * 2000, chunk_delay=0.02))
    received: list[str] = []
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for event in client.stream_chat(HELLO, model="qwen-plus"):
            if isinstance(event, ContentDelta):
                received.append(event.text)
                first_delta.set()

    task = asyncio.create_task(consume())
    await first_delta.wait()
    task.cancel()
    cancelled_at = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task

    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected and record.outcome == "client_disconnect"
    assert record.ended_at is not None and record.ended_at - cancelled_at < 0.5
    assert record.text_chunks_sent < 400
    assert "".join(received) and set("".join(received)) == {"x"}


async def test_cancelling_before_the_first_byte_closes_the_request(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(first_byte_delay=10))
    task = asyncio.create_task(collect(client))
    await asyncio.to_thread(srv.wait_for_stream_start, 2, 0)
    task.cancel()
    cancelled_at = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected and record.chunks_sent == 0
    assert record.ended_at is not None and record.ended_at - cancelled_at < 0.5


# ---- embeddings and models -------------------------------------------------------------------


async def test_embeddings_over_the_cap_are_batch_too_large_with_limit(
    client: QwenClient, srv: DashScopeServer
) -> None:
    with pytest.raises(QwenError) as caught:
        await client.embed([f"text {i}" for i in range(11)], model="text-embedding-v4")
    assert caught.value.kind is ErrorKind.BATCH_TOO_LARGE
    assert caught.value.limit == 10
    assert caught.value.status == 400 and caught.value.request_id

    srv.embedding_cap = 3
    with pytest.raises(QwenError) as caught:
        await client.embed(["a", "b", "c", "d"], model="text-embedding-v4")
    assert caught.value.kind is ErrorKind.BATCH_TOO_LARGE and caught.value.limit == 3


async def test_embeddings_come_back_in_input_order_when_the_server_shuffles(
    client: QwenClient, srv: DashScopeServer
) -> None:
    srv.shuffle_embeddings = True
    texts = ["first text", "second one", "第三段文字", "fourth"]
    result = await client.embed(texts, model="text-embedding-v4", dimensions=256)
    assert len(result.vectors) == 4 and all(len(v) == 256 for v in result.vectors)
    for text, vector in zip(texts, result.vectors, strict=True):
        assert vector == pytest.approx(embedding_vector(text, "text-embedding-v4", 256), abs=1e-6)
    assert result.total_tokens > 0 and result.request_id
    assert srv.requests[-1].body["dimensions"] == 256


async def test_embedding_errors_are_classified(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_embeddings(EmbeddingReply.error(429, "limit_requests"), EmbeddingReply.error(503))
    with pytest.raises(QwenError) as caught:
        await client.embed(["a"], model="text-embedding-v4")
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    with pytest.raises(QwenError) as caught:
        await client.embed(["a"], model="text-embedding-v4")
    assert caught.value.kind is ErrorKind.SERVICE_DOWN
    with pytest.raises(QwenError) as caught:
        await client.embed([""], model="text-embedding-v4")
    assert caught.value.kind is ErrorKind.CONTEXT_TOO_LONG and caught.value.limit == 8192


async def test_list_models_keeps_chat_models_only(client: QwenClient, srv: DashScopeServer) -> None:
    models = await client.list_models()
    assert models == sorted(models)
    assert {"qwen-plus", "qwen-max", "qwen-flash", "qwen-turbo", "qwen3-max", "qwq-plus"} <= set(models)
    for other in ("text-embedding-v4", "text-embedding-v1", "cosyvoice-v2", "paraformer-realtime-v2",
                  "wanx2.1-t2i-turbo", "qwen-audio-turbo"):
        assert other in srv.model_ids() and other not in models


async def test_list_models_with_wrong_key_is_auth(srv: DashScopeServer) -> None:
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key="sk-nope-0000")) as client:
        with pytest.raises(QwenError) as caught:
            await client.list_models()
    assert caught.value.kind is ErrorKind.AUTH


async def test_native_api_path_is_not_found(srv: DashScopeServer) -> None:
    config = ConnectionConfig(base_url=srv.root_url + "/api/v1", api_key=TEST_KEY)
    async with QwenClient(config) as client:
        with pytest.raises(QwenError) as caught:
            await client.list_models()
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.status == 404
