"""Streams that break the protocol, redirects and unusable addresses end as QwenErrors of a fitting
kind, logged without a traceback; a reply that breaks after some text keeps it (CUT_OFF)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from desktop.core.client import ConnectionConfig, ContentDelta, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer

HELLO = [{"role": "user", "content": "hello"}]
DONE = "data: [DONE]\n\n"


def event(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def chunk(choices: Any, **extra: Any) -> str:
    return event({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "qwen-plus",
                  "choices": choices, **extra})


def content(text: str) -> str:
    return chunk([{"index": 0, "delta": {"content": text}, "finish_reason": None}])


# (the stream's pieces, what the error detail names)
BROKEN: dict[str, tuple[tuple[str | bytes, ...], str]] = {
    "invalid JSON": (("data: {not json\n\n", DONE), "not valid JSON"),
    "invalid UTF-8": ((b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}\n\n', DONE), "UTF-8"),
    "an event that is a list": (("data: [1, 2]\n\n", DONE), "is a list"),
    "choices not a list": ((chunk({"0": {"delta": {"content": "x"}}}), DONE), "'choices' is a JSON object"),
    "choices a string": ((chunk("abc"), DONE), "'choices' is a string"),
    "a choice that is a number": ((chunk([7]), DONE), "a choice is a number"),
    "delta missing": ((chunk([{"index": 0, "finish_reason": None}]), DONE), "no 'delta'"),
    "delta a string": ((chunk([{"index": 0, "delta": "hi"}]), DONE), "'delta' is a string"),
    "content a number": ((chunk([{"index": 0, "delta": {"content": 5}}]), DONE), "'content' is a number"),
    "reasoning a list": ((chunk([{"index": 0, "delta": {"reasoning_content": ["x"]}}]), DONE),
                         "'reasoning_content' is a list"),
    "usage not an object": ((chunk([], usage="lots"), DONE), "usage is a string"),
    "token count not a number": ((chunk([], usage={"prompt_tokens": "many"}), DONE), "not a token count"),
    "a web page": (("<html><body>Please sign in to the Wi-Fi</body></html>",), "no chat events"),
    "nothing at all": ((), "no chat events"),
}


async def stream_error(client: QwenClient) -> tuple[str, QwenError]:
    text = []
    with pytest.raises(QwenError) as caught:
        async for item in client.stream_chat(HELLO, model="qwen-plus"):
            if isinstance(item, ContentDelta):
                text.append(item.text)
    return "".join(text), caught.value


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("name", list(BROKEN))
async def test_a_broken_stream_is_a_bad_response(
        name: str, client: QwenClient, srv: DashScopeServer, caplog: pytest.LogCaptureFixture) -> None:
    pieces, named = BROKEN[name]
    srv.script_chat(ChatReply.raw(*pieces))
    text, error = await stream_error(client)
    assert text == ""
    assert error.kind is ErrorKind.BAD_RESPONSE, error
    assert named in error.detail
    assert error.request_id == srv.streams[-1].request_id
    assert no_tracebacks(caplog) == []


@pytest.mark.parametrize("broken", [b"data: {oops\n\n", b'data: {"choices": "x"}\n\n',
                                    b'data: {"choices": [{"delta": {"content": "\xc3("}}]}\n\n'])
async def test_a_stream_broken_after_some_text_is_cut_off_and_keeps_it(
        broken: bytes, client: QwenClient, srv: DashScopeServer, caplog: pytest.LogCaptureFixture) -> None:
    srv.script_chat(ChatReply.raw(content("Hello "), content("world"), broken, DONE))
    text, error = await stream_error(client)
    assert text == "Hello world"
    assert error.kind is ErrorKind.CUT_OFF
    assert error.detail and "Traceback" not in error.detail
    assert no_tracebacks(caplog) == []


async def test_a_well_formed_raw_stream_still_reads(client: QwenClient, srv: DashScopeServer) -> None:
    finish = chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    no_delta_finish = chunk([{"index": 0, "finish_reason": "stop"}])  # lenient: nothing to read
    srv.script_chat(ChatReply.raw(content("你好"), content(" 😀"), finish, no_delta_finish, DONE))
    received = [e.text async for e in client.stream_chat(HELLO, model="qwen-plus")
                if isinstance(e, ContentDelta)]
    assert "".join(received) == "你好 😀"


async def test_a_redirect_names_its_target_and_is_not_followed(
        client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_chat(ChatReply.redirect("https://elsewhere.example/v1/chat/completions"))
    _, error = await stream_error(client)
    assert error.kind is ErrorKind.REDIRECTED
    assert error.status == 307
    assert error.detail == "HTTP 307 to https://elsewhere.example/v1/chat/completions"
    assert "<html>" not in error.details()
    assert "See the details below" not in error.message
    assert len(srv.chat_requests()) == 1  # nothing went to the other address


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]:99999/v1", "ftp://127.0.0.1/v1",
                                 "dashscope.aliyuncs.com/compatible-mode/v1", "https:///v1"])
def test_an_unusable_base_url_is_invalid_url(url: str) -> None:
    with pytest.raises(QwenError) as caught:
        QwenClient(ConnectionConfig(base_url=url, api_key=TEST_KEY, proxy_mode="none"))
    assert caught.value.kind is ErrorKind.INVALID_URL
    assert url in caught.value.detail
