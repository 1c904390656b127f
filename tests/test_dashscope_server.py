"""The loopback DashScope server speaks the protocol the real openai SDK expects."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import logging
import math
import re
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.support.dashscope_server import (
    DEFAULT_SOURCES,
    SEARCH_ENDPOINT,
    TEST_KEY,
    ChatReply,
    DashScopeServer,
    EmbeddingReply,
    SearchReply,
    embedding_vector,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
USER_HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture
async def client(srv: DashScopeServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The raw OpenAI SDK (not our client): these tests check the server against it."""
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key=TEST_KEY, max_retries=0) as c:
        yield c


async def collect(stream: Any) -> tuple[str, str, list[Any]]:
    """(content, reasoning, chunks) of a chat stream."""
    content, reasoning, chunks = [], [], []
    async with stream:
        async for chunk in stream:
            chunks.append(chunk)
            if chunk.choices:
                delta = chunk.choices[0].delta
                content.append(delta.content or "")
                reasoning.append(getattr(delta, "reasoning_content", None) or "")
    return "".join(content), "".join(reasoning), chunks


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def raw_request(port: int, request: bytes, timeout: float = 5.0, half_close: bool = False) -> bytes:
    """Send raw bytes, return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        while data := sock.recv(65536):
            received += data
    return bytes(received)


def decode_chunks(raw: bytes) -> list[bytes]:
    """HTTP chunk payloads of a chunked response (headers included in `raw`)."""
    body = raw.split(b"\r\n\r\n", 1)[1]
    chunks = []
    while True:
        size_line, body = body.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return chunks
        chunks.append(body[:size])
        body = body[size + 2 :]


# ---- chat streaming --------------------------------------------------------------------------


async def test_stream_echoes_and_ends_with_usage_chunk(
    client: openai.AsyncOpenAI, srv: DashScopeServer
) -> None:
    stream = await client.chat.completions.create(
        model="qwen-plus", messages=USER_HELLO, stream=True, stream_options={"include_usage": True}
    )
    content, reasoning, chunks = await collect(stream)

    assert content == "Echo: hello there"
    assert reasoning == ""
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == len(chunks) - 3
    assert (
        chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    )
    assert all(c.id.startswith("chatcmpl-") and c.object == "chat.completion.chunk" for c in chunks)
    assert srv.chat_requests()[0]["messages"] == USER_HELLO
    record = srv.wait_for_stream_end(2)
    assert record.outcome == "completed" and not record.client_disconnected


async def test_stream_without_include_usage_has_no_usage(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="qwen-flash", messages=USER_HELLO, stream=True)
    _, _, chunks = await collect(stream)
    assert all(c.usage is None and c.choices for c in chunks)


async def test_thinking_stream_sends_reasoning_first(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="qwen-plus",
        messages=USER_HELLO,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"enable_thinking": True},
    )
    content, reasoning, chunks = await collect(stream)

    assert reasoning and content == "Echo: hello there"
    first = chunks[0].choices[0].delta
    assert first.content is None and getattr(first, "reasoning_content", None) == ""
    kinds = [("r" if getattr(c.choices[0].delta, "reasoning_content", None) else "c") for c in chunks[1:-2]]
    assert kinds == sorted(kinds, reverse=True)  # all reasoning deltas before content deltas
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens == kinds.count("r")


async def test_scripted_replies_are_fifo_then_default(
    client: openai.AsyncOpenAI, srv: DashScopeServer
) -> None:
    srv.script_chat(
        ChatReply(content="one"), ChatReply(tokens=["t", "wo"], reasoning="hmm", finish_reason="length")
    )
    results = []
    for _ in range(3):
        stream = await client.chat.completions.create(model="qwen-turbo", messages=USER_HELLO, stream=True)
        results.append(await collect(stream))

    assert [r[0] for r in results] == ["one", "two", "Echo: hello there"]
    assert results[1][1] == "hmm"
    assert results[1][2][-1].choices[0].finish_reason == "length"


async def test_split_writes_still_parse(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    text = "Split across TCP segments, mid JSON — 中文 too."
    srv.script_chat(ChatReply(content=text, split_writes=True))
    stream = await client.chat.completions.create(
        model="qwen-plus", messages=USER_HELLO, stream=True, stream_options={"include_usage": True}
    )
    content, _, chunks = await collect(stream)
    assert content == text
    assert chunks[-1].choices == []


def test_split_writes_cut_the_data_prefix(srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply(content="abcdefgh", split_writes=True))
    body = json.dumps({"model": "qwen-plus", "stream": True, "messages": USER_HELLO}).encode()
    raw = raw_request(
        srv.port,
        (
            f"POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Authorization: Bearer {TEST_KEY}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body,
    )

    chunks = decode_chunks(raw)
    assert b"dat" in chunks and not any(c.startswith(b"data: {") and c.endswith(b"\n\n") for c in chunks)
    assert b"".join(chunks).endswith(b"data: [DONE]\n\n")


async def test_batched_writes_and_keep_alive(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply(content="x" * 400, batch_events_per_write=50))
    first, _, _ = await collect(
        await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
    )
    second = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO)

    assert first == "x" * 400
    assert second.choices[0].message.content == "Echo: hello there"
    assert srv.connections_opened == 1


# ---- errors ----------------------------------------------------------------------------------


async def test_wrong_key_is_authentication_error_with_request_id(srv: DashScopeServer) -> None:
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
    err = caught.value
    assert err.code == "invalid_api_key"
    assert err.request_id
    assert err.response.headers["x-request-id"] == err.request_id
    assert srv.streams == []


@pytest.mark.parametrize(
    ("reply", "error_class", "code"),
    [
        (ChatReply.error(429), openai.RateLimitError, "limit_requests"),
        (ChatReply.error(429, "insufficient_quota"), openai.RateLimitError, "insufficient_quota"),
        (ChatReply.error(400, "data_inspection_failed"), openai.BadRequestError, "data_inspection_failed"),
        (
            ChatReply.error(403, "AccessDenied.Unpurchased"),
            openai.PermissionDeniedError,
            "AccessDenied.Unpurchased",
        ),
        (ChatReply.error(500), openai.InternalServerError, "internal_error"),
        (ChatReply.error(503), openai.InternalServerError, "ModelUnavailable"),
    ],
)
async def test_scripted_http_errors(
    client: openai.AsyncOpenAI,
    srv: DashScopeServer,
    reply: ChatReply,
    error_class: type[openai.APIStatusError],
    code: str,
) -> None:
    srv.script_chat(reply)
    with pytest.raises(error_class) as caught:
        await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
    assert caught.value.status_code == reply.status
    assert caught.value.code == code
    assert caught.value.request_id == srv.streams[-1].request_id


async def test_error_mid_stream_is_plain_api_error(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply(content="abcdefghijkl", error_after=2))
    received = []
    with pytest.raises(openai.APIError) as caught:
        stream = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
        async with stream:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert not isinstance(caught.value, openai.APIStatusError)
    assert "inappropriate" in caught.value.message
    assert "".join(received) == "abcdefgh"
    assert srv.wait_for_stream_end(2).outcome == "error_event"


async def test_server_disconnect_mid_stream_is_connection_error(
    client: openai.AsyncOpenAI, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(content="abcdefghijkl", disconnect_after=1))
    received = []
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
        async with stream:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "abcd"
    assert srv.wait_for_stream_end(2).outcome == "server_disconnect"


async def test_client_closing_early_is_noticed_promptly(
    client: openai.AsyncOpenAI, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(content="x" * 400, chunk_delay=0.05))
    stream = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
    async with stream:
        async for chunk in stream:
            if chunk.choices[0].delta.content:
                break
    closed_at = time.monotonic()

    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected and record.outcome == "client_disconnect"
    assert record.ended_at is not None and record.ended_at - closed_at < 0.5
    assert record.text_chunks_sent < 10


async def test_cancel_during_first_byte_delay_is_noticed(
    client: openai.AsyncOpenAI, srv: DashScopeServer
) -> None:
    srv.script_chat(ChatReply(first_byte_delay=5))
    task = asyncio.create_task(
        client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, stream=True)
    )
    await asyncio.to_thread(srv.wait_for_stream_start, 2, 0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected and record.chunks_sent == 0


# ---- non-stream and the thinking rules ---------------------------------------------------------


async def test_non_stream_completion_has_usage(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="qwen-max", messages=USER_HELLO)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Echo: hello there"
    assert completion.usage.total_tokens > 0


@pytest.mark.parametrize(
    ("model", "stream", "extra", "status", "fragment"),
    [
        ("qwen-plus", False, {"enable_thinking": True}, 400, "must be set to false for non-streaming"),
        ("qwen3-32b", False, {}, 400, "must be set to false for non-streaming"),
        ("qwq-plus", True, {"enable_thinking": False}, 400, "restricted to True"),
        ("qwq-plus", False, {}, 400, "only support stream mode"),
        ("qwen-max", True, {"enable_thinking": False}, 400, "NotSupportEnableThinking"),
        ("Qwen-Plus", True, {}, 404, "model_not_found"),
        ("qwen-plus", True, {"temperature": 2.0}, 400, "Temperature should be in [0.0, 2.0)"),
    ],
)
async def test_request_rules(
    client: openai.AsyncOpenAI,
    srv: DashScopeServer,
    model: str,
    stream: bool,
    extra: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    srv.script_chat(ChatReply(content="kept for the next valid request"))
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(
            model=model, messages=USER_HELLO, stream=stream, extra_body=extra
        )
    assert caught.value.status_code == status
    assert fragment in f"{caught.value.code} {caught.value.message}"
    completion = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO)
    assert completion.choices[0].message.content == "kept for the next valid request"


async def test_context_limit_and_max_tokens(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    srv.max_input_tokens = 50
    with pytest.raises(openai.BadRequestError, match=r"Range of input length should be \[1, 50\]"):
        await client.chat.completions.create(
            model="qwen-plus", messages=[{"role": "user", "content": "x" * 200}]
        )
    completion = await client.chat.completions.create(model="qwen-plus", messages=USER_HELLO, max_tokens=2)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "Echo: he"


# ---- /models, regions, paths -------------------------------------------------------------------


async def test_models_lists_chat_embedding_and_other_models(client: openai.AsyncOpenAI) -> None:
    ids = [m.id async for m in client.models.list()]
    assert {"qwen-plus", "qwq-plus", "text-embedding-v4", "cosyvoice-v2"} <= set(ids)
    assert (await client.models.retrieve("qwen-max")).object == "model"


async def test_models_needs_a_key(srv: DashScopeServer) -> None:
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-nope", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError):
            await c.models.list()


async def test_region_keys(srv: DashScopeServer) -> None:
    intl_key = "sk-intl-1111"
    srv.region_keys["singapore"] = {intl_key}
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key=intl_key, max_retries=0) as beijing:
        with pytest.raises(openai.AuthenticationError):
            await beijing.models.list()
    url = srv.region_base_url("singapore")
    assert url.endswith("/singapore/compatible-mode/v1")
    async with openai.AsyncOpenAI(base_url=url, api_key=intl_key, max_retries=0) as singapore:
        await singapore.models.list()
    async with openai.AsyncOpenAI(base_url=url, api_key=TEST_KEY, max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            await wrong.models.list()
    assert [r.region for r in srv.requests] == ["beijing", "singapore", "singapore"]


def test_native_path_is_404_without_body_and_unknown_path_is_json(srv: DashScopeServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request(
            "POST", "/api/v1/chat/completions", body=b"{}", headers={"Authorization": f"Bearer {TEST_KEY}"}
        )
        native = conn.getresponse()
        assert native.status == 404 and native.read() == b"" and native.getheader("x-request-id")
        conn.request("GET", "/compatible-mode/v1/nothing-here")
        unknown = conn.getresponse()
        assert unknown.status == 404 and "request_id" in json.loads(unknown.read())
    finally:
        conn.close()


def test_oversized_body_is_413(srv: DashScopeServer) -> None:
    raw = raw_request(
        srv.port,
        (
            "POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {17 * 1024 * 1024}\r\n\r\n"
        ).encode()
        + b"{" * 1000,
        half_close=True,
    )
    assert raw.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in raw


# ---- embeddings ----------------------------------------------------------------------------------


async def test_embedding_cap_for_v4_is_10(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    ok = await client.embeddings.create(model="text-embedding-v4", input=[f"t{i}" for i in range(10)])
    assert [d.index for d in ok.data] == list(range(10))
    assert len(ok.data[0].embedding) == 1024
    with pytest.raises(openai.BadRequestError) as caught:
        await client.embeddings.create(model="text-embedding-v4", input=[f"t{i}" for i in range(11)])
    assert caught.value.code == "InvalidParameter"
    assert re.search(r"should not be larger than (\d+)", caught.value.message).group(1) == "10"
    assert [len(batch) for batch in srv.embedding_requests()] == [10, 11]


async def test_embedding_cap_for_v2_is_25(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    ok = await client.embeddings.create(model="text-embedding-v2", input=["x"] * 25, encoding_format="float")
    assert len(ok.data) == 25 and len(ok.data[0].embedding) == 1536
    with pytest.raises(openai.BadRequestError, match="should not be larger than 25"):
        await client.embeddings.create(model="text-embedding-v2", input=["x"] * 26)
    srv.embedding_cap = 3
    with pytest.raises(openai.BadRequestError, match="should not be larger than 3"):
        await client.embeddings.create(model="text-embedding-v2", input=["x"] * 4)


@pytest.mark.parametrize(
    ("model", "inputs", "dimensions", "fragment"),
    [
        ("text-embedding-v4", [""], None, "Range of input length should be [1, 8192]"),
        ("text-embedding-v4", ["x" * 20000], None, "Range of input length should be [1, 8192]"),
        ("text-embedding-v4", ["x"], 300, "dimension"),
        ("text-embedding-v3", ["x"], 2048, "dimension"),
        ("text-embedding-v1", ["x"], 1024, "dimension"),
    ],
)
async def test_embedding_input_rules(
    client: openai.AsyncOpenAI, model: str, inputs: list[str], dimensions: int | None, fragment: str
) -> None:
    kwargs: dict[str, Any] = {"dimensions": dimensions} if dimensions else {}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.embeddings.create(model=model, input=inputs, **kwargs)
    assert fragment in caught.value.message


async def test_embeddings_are_deterministic_and_meaningful(client: openai.AsyncOpenAI) -> None:
    texts = [
        "the cat sat on the mat",
        "a cat sat on a mat",
        "quarterly revenue report 2024",
        "错误代码 E-4012",
    ]
    first = await client.embeddings.create(model="text-embedding-v4", input=texts, dimensions=256)
    again = await client.embeddings.create(
        model="text-embedding-v4", input=texts, dimensions=256, encoding_format="float"
    )
    vectors = [d.embedding for d in first.data]

    assert all(len(v) == 256 for v in vectors)
    for base64_vector, float_vector in zip(vectors, (d.embedding for d in again.data), strict=True):
        assert base64_vector == pytest.approx(float_vector, abs=1e-6)
    assert math.isclose(cosine(vectors[0], vectors[0]), 1.0, abs_tol=1e-6)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    query = embedding_vector("E-4012", "text-embedding-v4", 256)
    ranked = sorted(range(4), key=lambda i: -cosine(query, vectors[i]))
    assert ranked[0] == 3
    assert first.usage.total_tokens == sum(math.ceil(len(t) / 2) for t in texts)


async def test_embedding_script_and_shuffle(client: openai.AsyncOpenAI, srv: DashScopeServer) -> None:
    srv.script_embeddings(EmbeddingReply.error(429, "limit_requests"), EmbeddingReply.error(503))
    with pytest.raises(openai.RateLimitError):
        await client.embeddings.create(model="text-embedding-v4", input="a")
    with pytest.raises(openai.InternalServerError):
        await client.embeddings.create(model="text-embedding-v4", input="a")
    srv.shuffle_embeddings = True
    result = await client.embeddings.create(model="text-embedding-v4", input=["a", "b", "c"])
    assert [d.index for d in result.data] == [2, 1, 0]
    assert srv.embedding_requests() == [["a"], ["a"], ["a", "b", "c"]]


# ---- lifecycle and command line ----------------------------------------------------------------


def test_close_during_stream_is_clean(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        server = DashScopeServer().start()
        server.script_chat(ChatReply(content="x" * 100, chunk_delay=1))
        body = json.dumps({"model": "qwen-plus", "stream": True, "messages": USER_HELLO}).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(
                (
                    f"POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {TEST_KEY}\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                + body
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            server.close()
            assert time.monotonic() - started < 2
            assert server.streams[0].outcome == "shutdown"
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert "destroyed but it is pending" not in caplog.text
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_command_line_prints_base_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.dashscope_server", "--key", "sk-cli-1", "--latency-ms", "1"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"BASE_URL=(http://127\.0\.0\.1:\d+/compatible-mode/v1)", line)
        assert match, line
        request = urllib.request.Request(
            match.group(1) + "/models", headers={"Authorization": "Bearer sk-cli-1"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["object"] == "list"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=5)
    assert process.returncode == 0, stderr


# ---- the native generation endpoint (web search) ------------------------------------------------

SEARCH_BODY = {
    "model": "qwen-plus",
    "input": {"messages": USER_HELLO},
    "parameters": {"result_format": "message", "incremental_output": True, "enable_search": True,
                   "search_options": {"enable_source": True, "enable_citation": True,
                                      "citation_format": "[ref_<number>]", "search_strategy": "turbo",
                                      "prepend_search_result": True}},
}


def native_post(srv: DashScopeServer, body: Any, *, sse: bool = True, key: str = TEST_KEY) -> tuple[int, str, str]:
    """(status, content type, body text) of one request to the native generation endpoint."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if sse:
        headers["X-DashScope-SSE"] = "enable"
    try:
        conn.request("POST", "/api/v1" + SEARCH_ENDPOINT, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read().decode()
    finally:
        conn.close()


def native_blocks(text: str) -> list[list[str]]:
    return [block.split("\n") for block in text.split("\n\n") if block]


def test_native_search_stream_has_the_native_shape(srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="It rains [ref_2].", searches=3))
    status, content_type, text = native_post(srv, SEARCH_BODY)
    assert status == 200 and content_type.startswith("text/event-stream")
    blocks = native_blocks(text)
    for number, lines in enumerate(blocks, start=1):
        assert lines[:3] == [f"id:{number}", "event:result", ":HTTP_STATUS/200"]
        assert len(lines) == 4 and lines[3].startswith("data:{")  # no space after the colon
    data = [json.loads(lines[3][len("data:"):]) for lines in blocks]
    assert data[0]["output"] == {"search_info": {"search_results": list(DEFAULT_SOURCES)}}
    assert len({d["request_id"] for d in data}) == 1
    middle = [d["output"]["choices"][0] for d in data[1:-1]]
    assert all(c["finish_reason"] == "null" for c in middle)
    assert "".join(c["message"]["content"] for c in middle) == "It rains [ref_2]."
    assert [d["usage"]["output_tokens"] for d in data[1:-1]] == list(range(1, len(middle) + 1))
    last = data[-1]
    assert last["output"]["choices"][0]["finish_reason"] == "stop"
    usage = last["usage"]
    assert usage["plugins"]["search"]["count"] == 3 and usage["output_tokens"] == len(middle)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert srv.search_requests() == [SEARCH_BODY]


def test_native_search_without_sse_answers_one_json(srv: DashScopeServer) -> None:
    status, content_type, text = native_post(srv, SEARCH_BODY, sse=False)
    assert status == 200 and content_type == "application/json"
    answer = json.loads(text)
    assert answer["output"]["choices"] == [{"finish_reason": "stop", "message": {
        "role": "assistant", "content": "Echo: hello there [ref_1]"}}]
    assert answer["output"]["search_info"]["search_results"] == list(DEFAULT_SOURCES)
    assert answer["usage"]["plugins"]["search"]["count"] == 1 and answer["request_id"]


def test_native_search_with_thinking_streams_reasoning_first(srv: DashScopeServer) -> None:
    body = {**SEARCH_BODY, "parameters": {**SEARCH_BODY["parameters"], "enable_thinking": True}}
    _, _, text = native_post(srv, body)
    data = [json.loads(lines[3][len("data:"):]) for lines in native_blocks(text)]
    messages = [d["output"]["choices"][0]["message"] for d in data[1:-1]]
    reasoning = [m["reasoning_content"] for m in messages if m["reasoning_content"]]
    assert reasoning and messages[0]["reasoning_content"] and not messages[0]["content"]
    assert data[-1]["usage"]["output_tokens_details"]["reasoning_tokens"] == len(reasoning)
    _, _, refused = native_post(srv, body, sse=False)  # thinking needs a stream
    assert "non-streaming" in json.loads(refused)["message"]


@pytest.mark.parametrize(("body", "status", "code", "message"), [
    ({**SEARCH_BODY, "model": "qwen-long"}, 400, "InvalidParameter",
     "The model qwen-long does not support enable_search"),
    ({k: v for k, v in SEARCH_BODY.items() if k != "input"}, 400, "InvalidParameter", "input.messages"),
    ({**SEARCH_BODY, "input": {"messages": []}}, 400, "InvalidParameter", "input.messages"),
    ({**SEARCH_BODY, "model": "qwen-nonesuch"}, 400, "InvalidParameter", "Model not exist."),
])
def test_native_search_refusals_have_native_bodies(
        srv: DashScopeServer, body: Any, status: int, code: str, message: str) -> None:
    got_status, content_type, text = native_post(srv, body)
    answer = json.loads(text)
    assert got_status == status and content_type == "application/json"
    assert set(answer) == {"code", "message", "request_id"}
    assert answer["code"] == code and message in answer["message"]


def test_native_search_needs_the_key_and_keeps_to_the_rate_limit(srv: DashScopeServer) -> None:
    status, _, text = native_post(srv, SEARCH_BODY, key="sk-wrong-0000000000")
    assert status == 401 and json.loads(text)["code"] == "InvalidApiKey"
    srv.rate_limit_per_minute = 1
    assert native_post(srv, SEARCH_BODY)[0] == 200
    status, _, text = native_post(srv, SEARCH_BODY)
    assert status == 429 and json.loads(text)["code"] == "Throttling.RateQuota"
    assert srv.rate_limited(SEARCH_ENDPOINT) == 1 and srv.rate_limited("/chat/completions") == 0


def test_native_search_scripted_failures(srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="abcdefgh", error_after=2),
                      SearchReply.error(400, "InvalidParameter", "not here", as_sse=True))
    _, _, text = native_post(srv, SEARCH_BODY)
    blocks = native_blocks(text)
    assert blocks[-1][:3] == ["id:3", "event:error", ":HTTP_STATUS/400"]
    assert json.loads(blocks[-1][3][len("data:"):])["code"] == "DataInspectionFailed"
    status, content_type, text = native_post(srv, SEARCH_BODY)
    assert status == 400 and content_type.startswith("text/event-stream")
    assert native_blocks(text)[0][:3] == ["id:1", "event:error", ":HTTP_STATUS/400"]
    srv.reset()
    assert srv.search_requests() == []
