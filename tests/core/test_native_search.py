"""Web search with sources over the native API: the real client against the loopback server (real
HTTP on 127.0.0.1, no mocks): events in order, sources merged, usage with the search count, Stop,
and every failure as a QwenError of a fitting kind."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from desktop.core.client import (
    ConnectionConfig,
    ContentDelta,
    Finished,
    QwenClient,
    ReasoningDelta,
    StreamStarted,
    Usage,
)
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.native_chat import native_root, stream_with_search
from desktop.core.websearch import WebSource, WebSourcesFound
from tests.support.dashscope_server import (
    DEFAULT_SOURCES,
    SEARCH_ENDPOINT,
    TEST_KEY,
    DashScopeServer,
    SearchReply,
    native_block,
)

HELLO = [{"role": "user", "content": "hello there"}]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Event = Any  # ChatEvent | WebSourcesFound


async def collect(client: QwenClient, model: str = "qwen-plus", **kwargs: Any) -> list[Event]:
    return [event async for event in stream_with_search(client, HELLO, model=model, **kwargs)]


async def until_error(client: QwenClient, model: str = "qwen-plus", **kwargs: Any) -> tuple[list[Event], QwenError]:
    events: list[Event] = []
    with pytest.raises(QwenError) as caught:
        async for event in stream_with_search(client, HELLO, model=model, **kwargs):
            events.append(event)
    return events, caught.value


def text_of(events: list[Event], kind: type[ReasoningDelta] | type[ContentDelta]) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def kinds(events: list[Event]) -> list[str]:
    """The event types in order, with runs of deltas of one type folded into one."""
    names: list[str] = []
    for event in events:
        name = type(event).__name__
        if not (names and names[-1] == name and name.endswith("Delta")):
            names.append(name)
    return names


def result(output: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"output": output, "request_id": "r-1"}
    if usage is not None:
        data["usage"] = usage
    return data


def text_block(number: int, text: str, finish: str = "null") -> bytes:
    return native_block(number, result({"choices": [{"finish_reason": finish,
                                                     "message": {"role": "assistant", "content": text}}]}))


DEFAULT_WEB_SOURCES = tuple(WebSource(s["index"], s["title"], s["url"], s["site_name"]) for s in DEFAULT_SOURCES)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# ---- streaming -------------------------------------------------------------------------------


async def test_a_reply_with_sources_streams_in_order(client: QwenClient, srv: DashScopeServer) -> None:
    events = await collect(client)
    assert kinds(events) == ["StreamStarted", "WebSourcesFound", "ContentDelta", "Usage", "Finished"]
    started = events[0]
    assert isinstance(started, StreamStarted) and started.request_id == srv.streams[-1].request_id
    assert events[1] == WebSourcesFound(DEFAULT_WEB_SOURCES)
    assert [s.openable for s in events[1].sources] == [True, True]
    assert text_of(events, ContentDelta) == "Echo: hello there [ref_1]"
    usage = events[-2]
    assert isinstance(usage, Usage)
    assert usage.searches == 1
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens == sum(isinstance(e, ContentDelta) for e in events)
    assert events[-1] == Finished("stop")
    assert srv.wait_for_stream_end(2).outcome == "completed"


async def test_sources_are_merged_as_they_come(client: QwenClient, srv: DashScopeServer) -> None:
    one = {"index": 1, "title": "One", "url": "https://one.example/", "site_name": "One", "icon": ""}
    two = {"index": 2, "title": "Two", "url": "http://two.example/", "site_name": "Two"}
    two_renamed = {**two, "title": "Two, renamed"}
    three = {"index": "3", "title": None, "url": "javascript:alert(1)", "site_name": None}
    srv.script_search(SearchReply.raw(
        native_block(1, result({"search_info": {"search_results": [two, one]}})),
        text_block(2, "A [ref_1]"),
        native_block(3, result({"search_info": {"search_results": [one]}})),  # nothing new: no event
        native_block(4, result({"search_info": {"search_results": [two_renamed, three]},
                                "choices": [{"finish_reason": "null", "message": {"content": " B [ref_3]"}}]})),
        text_block(5, "", "stop"),
    ))
    events = await collect(client)
    found = [e.sources for e in events if isinstance(e, WebSourcesFound)]
    assert found == [
        (WebSource(1, "One", "https://one.example/", "One"), WebSource(2, "Two", "http://two.example/", "Two")),
        (WebSource(1, "One", "https://one.example/", "One"),
         WebSource(2, "Two, renamed", "http://two.example/", "Two"), WebSource(3, "", "javascript:alert(1)", "")),
    ]
    assert not found[-1][2].openable
    assert kinds(events) == ["StreamStarted", "WebSourcesFound", "ContentDelta", "WebSourcesFound",
                             "ContentDelta", "Finished"]  # no usage reported: none yielded
    assert text_of(events, ContentDelta) == "A [ref_1] B [ref_3]"


async def test_the_request_carries_every_parameter(client: QwenClient, srv: DashScopeServer) -> None:
    await collect(client, temperature=7.5, thinking=True, max_tokens=300, strategy="max")
    request = srv.requests[-1]
    assert request.method == "POST" and request.path == "/api/v1" + SEARCH_ENDPOINT
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["x-dashscope-sse"] == "enable"
    assert srv.search_requests() == [{
        "model": "qwen-plus",
        "input": {"messages": HELLO},
        "parameters": {
            "result_format": "message",
            "incremental_output": True,
            "enable_search": True,
            "search_options": {"enable_source": True, "enable_citation": True,
                               "citation_format": "[ref_<number>]", "forced_search": False,
                               "search_strategy": "max", "prepend_search_result": True},
            "enable_thinking": True,
            "temperature": 1.99,
            "max_tokens": 300,
        },
    }]


@pytest.mark.parametrize(("model", "thinking", "flag"), [
    ("qwen-plus", False, False), ("qwen3.5-plus", True, True), ("qwen-max", True, None), ("qwq-plus", True, None),
])
async def test_enable_thinking_is_sent_as_the_model_table_says(
        client: QwenClient, srv: DashScopeServer, model: str, thinking: bool, flag: bool | None) -> None:
    await collect(client, model=model, thinking=thinking, temperature=-1)
    parameters = srv.search_requests()[-1]["parameters"]
    assert parameters.get("enable_thinking") == flag and ("enable_thinking" in parameters) == (flag is not None)
    assert parameters["temperature"] == 0.0
    assert "max_tokens" not in parameters
    assert parameters["search_options"]["search_strategy"] == "turbo"


async def test_thinking_with_search_keeps_the_reasoning_apart(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(reasoning="Let me look that up.", content="It is sunny [ref_2]."))
    events = await collect(client, thinking=True)
    assert kinds(events) == ["StreamStarted", "WebSourcesFound", "ReasoningDelta", "ContentDelta", "Usage",
                             "Finished"]
    assert text_of(events, ReasoningDelta) == "Let me look that up."
    assert text_of(events, ContentDelta) == "It is sunny [ref_2]."
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.reasoning_tokens == sum(isinstance(e, ReasoningDelta) for e in events)
    assert usage.completion_tokens == usage.reasoning_tokens + sum(isinstance(e, ContentDelta) for e in events)
    assert srv.search_requests()[-1]["parameters"]["enable_thinking"] is True


async def test_max_tokens_ends_with_length(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="a long answer that goes on and on"))
    events = await collect(client, max_tokens=2)
    assert text_of(events, ContentDelta) == "a long a"
    assert events[-1] == Finished("length")


async def test_split_writes_spaces_after_colons_and_crlf_still_read(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="你好，世界 😀 [ref_1]", split_writes=True))
    assert text_of(await collect(client), ContentDelta) == "你好，世界 😀 [ref_1]"
    data = json.dumps(result({"choices": [{"finish_reason": "stop", "message": {"content": "ok"}}]},
                             {"input_tokens": 3, "output_tokens": 1, "plugins": {"search": {"count": 2}}}))
    srv.script_search(SearchReply.raw(f"id: 1\r\nevent: result\r\n: HTTP_STATUS/200\r\ndata: {data}"))
    events = await collect(client)
    assert text_of(events, ContentDelta) == "ok"
    assert events[-2:] == [Usage(prompt_tokens=3, completion_tokens=1, searches=2), Finished("stop")]


async def test_impossible_counts_make_the_usage_unknown(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="fine", usage={"input_tokens": -4, "output_tokens": 10**30}))
    events = await collect(client)
    assert text_of(events, ContentDelta) == "fine"
    assert not any(isinstance(e, Usage) for e in events)
    assert events[-1] == Finished("stop")


# ---- Stop ------------------------------------------------------------------------------------


async def test_stop_mid_stream_closes_the_connection(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="x" * 2000, chunk_delay=0.02))
    received: list[Event] = []
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in stream_with_search(client, HELLO, model="qwen-plus"):
            received.append(event)
            if isinstance(event, ContentDelta):
                first_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_text.wait(), 5)
    task.cancel()
    cancelled_at = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await srv.wait_for_stream_end_async(2)
    assert record.client_disconnected and record.outcome == "client_disconnect"
    assert record.ended_at is not None and record.ended_at - cancelled_at < 0.5
    assert record.text_chunks_sent < 400
    assert isinstance(received[1], WebSourcesFound) and not any(isinstance(e, Finished) for e in received)


# ---- failures --------------------------------------------------------------------------------


async def test_a_429_is_rate_limited_with_its_request_id(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.error(429))
    events, error = await until_error(client)
    assert events == []
    assert error.kind is ErrorKind.RATE_LIMITED and error.retryable
    assert error.status == 429 and error.code == "Throttling.RateQuota"
    assert error.request_id == srv.streams[-1].request_id
    assert f"request id: {error.request_id}" in error.details()
    assert text_of(await collect(client), ContentDelta)  # the next try goes through


async def test_the_per_minute_limit_answers_a_native_429(client: QwenClient, srv: DashScopeServer) -> None:
    srv.rate_limit_per_minute = 1
    await collect(client)
    _, error = await until_error(client)
    assert error.kind is ErrorKind.RATE_LIMITED and error.status == 429
    assert error.request_id and UUID_RE.match(error.request_id)
    assert srv.rate_limited(SEARCH_ENDPOINT) == 1


async def test_quota_throttling_is_told_apart(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.error(429, "Throttling.AllocationQuota", "Allocated quota exceeded."))
    _, error = await until_error(client)
    assert error.kind is ErrorKind.QUOTA_THROTTLED


async def test_a_dropped_stream_keeps_the_text_and_the_sources(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="abcdefghijkl", drop_after=3))  # sources + 2 text blocks
    events, error = await until_error(client)
    assert events[1] == WebSourcesFound(DEFAULT_WEB_SOURCES)
    assert text_of(events, ContentDelta) == "abcdefgh"
    assert not any(isinstance(e, (Usage, Finished)) for e in events)
    assert error.kind is ErrorKind.CUT_OFF and error.detail
    assert error.request_id == srv.streams[-1].request_id
    assert srv.wait_for_stream_end(2).outcome == "server_disconnect"


async def test_an_error_event_after_text_is_cut_off_with_its_details(
        client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(content="abcdefghijkl", error_after=2))
    events, error = await until_error(client)
    assert text_of(events, ContentDelta) == "abcd"
    assert error.kind is ErrorKind.CUT_OFF
    assert error.code == "DataInspectionFailed" and error.status == 400
    assert error.detail == "Output data may contain inappropriate content."
    assert error.request_id == srv.streams[-1].request_id
    assert srv.wait_for_stream_end(2).outcome == "error_event"


async def test_an_error_event_before_text_is_classified(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply(error_after=1))  # only the sources came before it
    events, error = await until_error(client)
    assert isinstance(events[-1], WebSourcesFound)
    assert error.kind is ErrorKind.MODERATION and error.code == "DataInspectionFailed"
    srv.script_search(SearchReply(error_after=1, error_status=500, error_code="InternalError",
                                  error_message="Internal server error"))
    _, error = await until_error(client)
    assert error.kind is ErrorKind.SERVICE_DOWN and error.status == 500


async def test_a_model_that_cannot_search_is_search_unsupported(client: QwenClient, srv: DashScopeServer) -> None:
    events, error = await until_error(client, model="qwen-long")
    assert events == []
    assert error.kind is ErrorKind.SEARCH_UNSUPPORTED and not error.retryable
    assert error.status == 400 and error.code == "InvalidParameter"
    assert error.detail == "The model qwen-long does not support enable_search"
    assert error.request_id and UUID_RE.match(error.request_id)


@pytest.mark.parametrize(("reply", "kind"), [
    (SearchReply.error(400, "InvalidParameter", "Web search is unsupported for this model"),
     ErrorKind.SEARCH_UNSUPPORTED),
    (SearchReply.error(400, "InvalidParameter.EnableSearch", "Invalid value for enable_search", as_sse=True),
     ErrorKind.SEARCH_UNSUPPORTED),
    (SearchReply.error(400, "InvalidParameter", "<400> Range of input length should be [1, 129024]"),
     ErrorKind.CONTEXT_TOO_LONG),
    (SearchReply.error(400, "InvalidParameter", "invalid research_mode"), ErrorKind.BAD_REQUEST),
    (SearchReply.error(400, "DataInspectionFailed", "Input data may contain inappropriate content.", as_sse=True),
     ErrorKind.MODERATION),
    (SearchReply.error(403, "AccessDenied.Unpurchased"), ErrorKind.ACCESS_DENIED),
    (SearchReply.error(503), ErrorKind.SERVICE_DOWN),
])
async def test_native_error_bodies_map_to_kinds(
        client: QwenClient, srv: DashScopeServer, reply: SearchReply, kind: ErrorKind) -> None:
    srv.script_search(reply)
    events, error = await until_error(client)
    assert events == []
    assert error.kind is kind
    assert error.status == reply.status and error.code
    assert error.detail and error.request_id == srv.streams[-1].request_id


async def test_a_wrong_key_is_auth_and_never_shown(srv: DashScopeServer) -> None:
    wrong = "sk-wrong-key-1234567890abcdef"
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=wrong, proxy_mode="none")) as client:
        events, error = await until_error(client)
    assert events == []
    assert error.kind is ErrorKind.AUTH
    assert error.status == 401 and error.code == "InvalidApiKey"
    assert error.request_id and UUID_RE.match(error.request_id)
    assert wrong not in str(error) and wrong not in error.details()


async def test_the_region_in_the_base_url_is_kept(srv: DashScopeServer) -> None:
    srv.region_keys["singapore"] = {"sk-intl-0000000000000000"}
    base_url = srv.region_base_url("singapore")
    async with QwenClient(ConnectionConfig(base_url=base_url, api_key=TEST_KEY, proxy_mode="none")) as client:
        _, error = await until_error(client)
    assert error.kind is ErrorKind.AUTH
    async with QwenClient(ConnectionConfig(base_url=base_url, api_key="sk-intl-0000000000000000",
                                           proxy_mode="none")) as client:
        assert text_of(await collect(client), ContentDelta) == "Echo: hello there [ref_1]"
    assert srv.requests[-1].path == "/singapore/api/v1" + SEARCH_ENDPOINT


async def test_a_key_echoed_by_the_service_is_redacted(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.error(400, "InvalidParameter", f"bad header Bearer {TEST_KEY}"))
    _, error = await until_error(client)
    assert TEST_KEY not in str(error) and TEST_KEY not in error.details()


# (the stream's pieces, what the error detail names)
BROKEN: dict[str, tuple[tuple[str | bytes, ...], str]] = {
    "invalid JSON": (("id:1\nevent:result\ndata:{not json\n\n",), "not valid JSON"),
    "invalid UTF-8": ((b'data:{"output": {"choices": [{"message": {"content": "\xff\xfe"}}]}}\n\n',), "UTF-8"),
    "an event that is a list": (("data:[1, 2]\n\n",), "is a list"),
    "output a string": (("data:{\"output\": \"hi\"}\n\n",), "'output' is a string"),
    "choices an object": (('data:{"output": {"choices": {"0": {}}}}\n\n',), "'choices' is a JSON object"),
    "content a number": (('data:{"output": {"choices": [{"message": {"content": 5}}]}}\n\n',),
                         "'content' is a number"),
    "sources not a list": (('data:{"output": {"search_info": {"search_results": "many"}}}\n\n',),
                           "'search_results' is a string"),
    "a source without index": (('data:{"output": {"search_info": {"search_results": [{"title": "x"}]}}}\n\n',),
                               "no index"),
    "a token count that is text": (('data:{"output": {}, "usage": {"input_tokens": "lots"}}\n\n',),
                                   "not a token count"),
    "an event stream of a web page": (("<html><body>Sign in to the Wi-Fi</body></html>",), "no events"),
    "nothing at all": ((), "no events"),
}


@pytest.mark.parametrize("name", list(BROKEN))
async def test_a_broken_stream_is_a_bad_response(name: str, client: QwenClient, srv: DashScopeServer) -> None:
    pieces, named = BROKEN[name]
    srv.script_search(SearchReply.raw(*pieces))
    events, error = await until_error(client)
    assert kinds(events) == ["StreamStarted"]
    assert error.kind is ErrorKind.BAD_RESPONSE, error
    assert named in error.detail
    assert error.request_id == srv.streams[-1].request_id


async def test_a_stream_broken_after_text_is_cut_off_and_keeps_it(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.raw(text_block(1, "Hello "), text_block(2, "world"), "data:{oops\n\n"))
    events, error = await until_error(client)
    assert text_of(events, ContentDelta) == "Hello world"
    assert error.kind is ErrorKind.CUT_OFF and "not valid JSON" in error.detail


async def test_a_200_that_is_no_event_stream_is_a_bad_response(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.raw("<html>Please sign in</html>", content_type="text/html"))
    events, error = await until_error(client)
    assert events == []
    assert error.kind is ErrorKind.BAD_RESPONSE and "not an event stream (text/html)" in error.detail


async def test_a_redirect_is_not_followed(client: QwenClient, srv: DashScopeServer) -> None:
    srv.script_search(SearchReply.redirect("https://elsewhere.example/api/v1/x"))
    _, error = await until_error(client)
    assert error.kind is ErrorKind.REDIRECTED and error.status == 307
    assert error.detail == "HTTP 307 to https://elsewhere.example/api/v1/x"
    assert len(srv.search_requests()) == 1


async def test_connection_refused_is_network(closed_port: int) -> None:
    config = ConnectionConfig(base_url=f"http://127.0.0.1:{closed_port}/compatible-mode/v1",
                              api_key=TEST_KEY, proxy_mode="none")
    async with QwenClient(config) as client:
        events, error = await until_error(client)
    assert events == [] and error.kind is ErrorKind.NETWORK and error.detail


async def test_a_proxy_that_refuses_connections_is_proxy(srv: DashScopeServer, closed_port: int) -> None:
    config = ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="manual",
                              proxy_url=f"http://127.0.0.1:{closed_port}")
    async with QwenClient(config) as client:
        _, error = await until_error(client)
    assert error.kind is ErrorKind.PROXY
    assert srv.requests == []


# ---- the native root ------------------------------------------------------------------------


@pytest.mark.parametrize(("base_url", "root"), [
    ("https://dashscope.aliyuncs.com/compatible-mode/v1", "https://dashscope.aliyuncs.com/api/v1"),
    ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "https://dashscope-intl.aliyuncs.com/api/v1"),
    ("https://dashscope-us.aliyuncs.com/compatible-mode/v1/", "https://dashscope-us.aliyuncs.com/api/v1"),
    ("https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1/chat/completions",
     "https://cn-hongkong.dashscope.aliyuncs.com/api/v1"),
    ("https://ws1.cn-beijing.maas.aliyuncs.com/compatible-mode/v1",
     "https://ws1.cn-beijing.maas.aliyuncs.com/api/v1"),
    ("http://127.0.0.1:8123/compatible-mode/v1", "http://127.0.0.1:8123/api/v1"),
    ("http://127.0.0.1:8123/singapore/compatible-mode/v1", "http://127.0.0.1:8123/singapore/api/v1"),
    ("https://dashscope.aliyuncs.com/api/v1", "https://dashscope.aliyuncs.com/api/v1"),
    ("https://gateway.corp/dashscope/v1", "https://gateway.corp/dashscope/api/v1"),
])
def test_native_root(base_url: str, root: str) -> None:
    assert native_root(base_url) == root


def test_native_root_of_the_loopback_server(srv: DashScopeServer) -> None:
    assert native_root(srv.base_url) == srv.root_url + "/api/v1"


async def test_a_key_the_headers_cannot_carry_is_an_error_without_the_key(srv: DashScopeServer) -> None:
    key = "sk-ключ-0000000000000000"
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=key, proxy_mode="none")) as client:
        events, error = await until_error(client)
    assert events == [] and error.kind is ErrorKind.UNKNOWN
    assert key not in str(error) and "ключ" not in error.details()
    assert srv.search_requests() == []
