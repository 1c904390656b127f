"""A streamed chat reply with web search, from DashScope's native text-generation endpoint.

The OpenAI-compatible protocol never returns the pages a search read, so a turn with web search
goes to the native API (``{root}/api/v1/services/aigc/text-generation/generation``) as an SSE
stream: blocks of ``id:``/``event:``/``:HTTP_STATUS/NNN``/``data:{json}`` lines ended by a blank
line. The events and errors are the ones :meth:`QwenClient.stream_chat` gives, plus
:class:`~desktop.core.websearch.WebSourcesFound` whenever the service names new or changed sources.

Order of what :func:`stream_with_search` yields: ``StreamStarted`` once the 200 head is in; then,
per SSE block, ``WebSourcesFound`` (all sources so far), ``ReasoningDelta``, ``ContentDelta``; at
the end ONE ``Usage`` (the last usage the service reported, left out when its counts cannot be
true), right before ``Finished``. A stream that ends without a finish reason still yields that
``Usage``, then no ``Finished``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx2  # imported where used: the window starts before the HTTP stack is needed

from desktop.core.chat_stream import (
    AbsurdCount,
    ChatEvent,
    ContentDelta,
    Finished,
    ReasoningDelta,
    StreamStarted,
    Usage,
    json_type,
    token_count,
    unreadable,
)
from desktop.core.client import QwenClient
from desktop.core.errors import ErrorKind, QwenError, classify, redact
from desktop.core.models import thinking_flag
from desktop.core.websearch import CITATION_FORMAT, WebSource, WebSourcesFound, merge_sources

log = logging.getLogger(__name__)

GENERATION_PATH = "/services/aigc/text-generation/generation"
SEARCH_STRATEGIES = ("turbo", "max", "agent", "agent_max")

_COMPAT_SUFFIX = re.compile(r"/compatible-mode(/v1)?$", re.IGNORECASE)
_ENDPOINT_SUFFIX = re.compile(r"(/chat/completions|/embeddings|/models)$", re.IGNORECASE)
_MAX_LINE_BYTES = 16 * 1024 * 1024  # no SSE line of a reply comes near this: the answer is not SSE
_ERROR_BODY_CHARS = 500  # of a non-JSON error body (a proxy's page) kept for the details


def native_root(base_url: str) -> str:
    """The native API root for a compatible-mode base URL.

    ``https://h/compatible-mode/v1`` becomes ``https://h/api/v1`` (a region or workspace prefix in
    the path stays, as on the loopback server); a URL that already ends in ``/api/v1`` is kept; any
    other path loses a trailing ``/v1`` and gains ``/api/v1`` (a gateway's guess, unconfirmed).
    """
    parts = urlsplit(base_url.strip())
    path = _ENDPOINT_SUFFIX.sub("", parts.path.rstrip("/")).rstrip("/")
    if _COMPAT_SUFFIX.search(path):
        path = _COMPAT_SUFFIX.sub("", path)
    elif path.lower().endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    elif path.lower().endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path + "/api/v1", "", ""))


def search_body(
    messages: Sequence[dict[str, str]],
    *,
    model: str,
    temperature: float | None = None,
    thinking: bool = False,
    max_tokens: int | None = None,
    strategy: str = "turbo",
) -> dict[str, Any]:
    """The JSON body of a streamed native request with web search and sources."""
    parameters: dict[str, Any] = {
        "result_format": "message",
        "incremental_output": True,
        "enable_search": True,
        "search_options": {
            "enable_source": True,
            "enable_citation": True,
            "citation_format": CITATION_FORMAT,
            "forced_search": False,
            "search_strategy": strategy,
            "prepend_search_result": True,
        },
    }
    flag = thinking_flag(model, thinking)
    if flag is not None:
        parameters["enable_thinking"] = flag
    if temperature is not None:
        parameters["temperature"] = min(max(temperature, 0.0), 1.99)  # the service wants [0, 2)
    if max_tokens is not None:
        parameters["max_tokens"] = max_tokens
    return {"model": model, "input": {"messages": [dict(m) for m in messages]}, "parameters": parameters}


async def stream_with_search(
    client: QwenClient,
    messages: Sequence[dict[str, str]],
    *,
    model: str,
    temperature: float | None = None,
    thinking: bool = False,
    max_tokens: int | None = None,
    strategy: str = "turbo",
) -> AsyncIterator[ChatEvent | WebSourcesFound]:
    """Stream one reply with web search. Cancel the consuming task to stop: the response is closed.

    Raises :class:`QwenError` with the kinds :meth:`QwenClient.stream_chat` uses; a model that
    cannot search is ``SEARCH_UNSUPPORTED``; a failure after text arrived is ``CUT_OFF`` (the
    caller keeps the text and the sources received so far).
    """
    import httpx2

    url = native_root(client.config.base_url) + GENERATION_PATH
    headers = {
        "Authorization": f"Bearer {client.config.api_key}",
        "X-DashScope-SSE": "enable",
        "Accept": "text/event-stream",
    }
    body = search_body(messages, model=model, temperature=temperature, thinking=thinking,
                       max_tokens=max_tokens, strategy=strategy)
    reader = _StreamReader()
    started = False
    try:
        async with client.http.stream("POST", url, json=body, headers=headers,
                                      follow_redirects=False) as response:
            request_id = response.headers.get("x-request-id") or None
            reader.request_id = request_id
            if response.status_code != 200:
                raise await _status_error(response)
            content_type = response.headers.get("content-type", "").lower()
            if "text/event-stream" not in content_type:
                shown = content_type.split(";")[0].strip() or "no content type"
                raise QwenError(ErrorKind.BAD_RESPONSE, f"the answer is not an event stream ({shown})",
                                request_id=request_id)
            yield StreamStarted(request_id)
            started = True
            async for block in _sse_blocks(response):
                for event in reader.block_events(block):
                    yield event
            for event in reader.end_events():
                yield event
    except QwenError as broken:
        raise reader.after(broken) if started else broken from None
    except httpx2.HTTPError as exc:
        failure = _transport_error(exc, client.proxy, reader.request_id)
        if not started:
            raise failure from None
        raise QwenError(ErrorKind.CUT_OFF, failure.detail or str(failure.kind),
                        request_id=reader.request_id) from None
    except OSError as exc:
        raise QwenError(ErrorKind.CUT_OFF if started else ErrorKind.NETWORK, redact(str(exc)),
                        request_id=reader.request_id) from None
    except Exception as exc:  # e.g. a header value httpx cannot encode: never a raw exception
        detail = f"{type(exc).__name__}: {redact(str(exc))}"
        log.warning("unexpected error in a web search stream: %s", detail)
        raise QwenError(ErrorKind.CUT_OFF if started else ErrorKind.UNKNOWN, detail,
                        request_id=reader.request_id) from None


# ---- errors before the stream ----------------------------------------------------------------

_SEARCH_WORD = re.compile(r"(?<![a-z])(web)?search", re.IGNORECASE)
_REFUSAL_WORDS = re.compile(r"not support|unsupported|invalid", re.IGNORECASE)


def is_search_refusal(status: int | None, code: str | None, message: str) -> bool:
    """Whether a 400 says the model (or region) cannot search. The exact wording is unconfirmed:
    "search" together with "not support", "unsupported" or "invalid", in the code or the message."""
    text = f"{code or ''} {message}"
    return status in (400, None) and bool(_SEARCH_WORD.search(text)) and bool(_REFUSAL_WORDS.search(text))


def native_error(status: int | None, code: str | None, message: str, request_id: str | None,
                 *, fallback: ErrorKind = ErrorKind.UNKNOWN) -> QwenError:
    """The QwenError for a native error (HTTP status, ``code``, ``message``)."""
    kind, limit = classify(status, code, message)
    if kind in (ErrorKind.BAD_REQUEST, ErrorKind.UNKNOWN) and is_search_refusal(status, code, message):
        kind = ErrorKind.SEARCH_UNSUPPORTED
    if kind is ErrorKind.UNKNOWN:
        kind = fallback
    if status == 404 and not message:
        message = "404 Not Found"
    return QwenError(kind, message, status=status, code=code, request_id=request_id, limit=limit)


def error_fields(body: object) -> tuple[str | None, str, str | None]:
    """(code, message, request_id) of a native error body (or of a compatible-mode one)."""
    if not isinstance(body, dict):
        return None, "", None
    request_id = body.get("request_id")
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    assert isinstance(inner, dict)
    code = inner.get("code") or inner.get("type")
    message = inner.get("message")
    return ((str(code) if code else None), (str(message) if message else ""),
            (str(request_id) if request_id else None))


def _error_body(raw: bytes) -> object:
    """The error object of an error answer: plain JSON, or (for a streamed call) the ``data`` of
    an SSE error block; the text itself when it is neither."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                return json.loads(line[len("data:"):])
            except ValueError:
                break
    return text.strip()[:_ERROR_BODY_CHARS]


async def _status_error(response: httpx2.Response) -> QwenError:
    status = response.status_code
    header_id = response.headers.get("x-request-id") or None
    if 300 <= status < 400:  # never followed: the key would go along to the other address
        location = response.headers.get("location") or "no address given"
        return QwenError(ErrorKind.REDIRECTED, f"HTTP {status} to {location}", status=status,
                         request_id=header_id)
    body = _error_body(await response.aread())
    code, message, body_id = error_fields(body)
    if not message and isinstance(body, str):
        message = body
    return native_error(status, code, message, body_id or header_id)


def _transport_error(exc: httpx2.HTTPError, proxy: str | None, request_id: str | None) -> QwenError:
    import httpx2

    detail = _innermost(exc)
    if isinstance(exc, httpx2.TimeoutException):
        return QwenError(ErrorKind.TIMEOUT, "timed out", request_id=request_id)
    if isinstance(exc, httpx2.ProxyError) or (proxy and isinstance(exc, httpx2.ConnectError)):
        return QwenError(ErrorKind.PROXY, detail, request_id=request_id)
    if isinstance(exc, (httpx2.TransportError, httpx2.StreamError)):
        return QwenError(ErrorKind.NETWORK, detail, request_id=request_id)
    return QwenError(ErrorKind.UNKNOWN, f"{type(exc).__name__}: {detail}", request_id=request_id)


def _innermost(exc: BaseException) -> str:
    """The innermost cause's text, e.g. "[Errno 111] Connection refused", without secrets."""
    seen: set[int] = set()
    cur = exc
    while (inner := cur.__cause__ or cur.__context__) is not None and id(inner) not in seen:
        seen.add(id(cur))
        cur = inner
    return redact(str(cur) or type(cur).__name__)


# ---- the event stream ------------------------------------------------------------------------


class _Block:
    """One SSE block: its event name, the status of its ``:HTTP_STATUS/NNN`` comment, its data."""

    __slots__ = ("event", "status", "data")

    def __init__(self) -> None:
        self.event = ""
        self.status: int | None = None
        self.data: list[str] = []


_STATUS_COMMENT = re.compile(r"^:\s*HTTP_STATUS/(\d{3})\s*$")


async def _sse_blocks(response: httpx2.Response) -> AsyncIterator[_Block]:
    """The response's SSE blocks with data, as they arrive (``field:value`` or ``field: value``)."""
    pending = bytearray()
    block = _Block()
    async for piece in response.aiter_bytes():
        pending += piece
        while (end := pending.find(b"\n")) >= 0:
            raw = bytes(pending[:end]).rstrip(b"\r")
            del pending[: end + 1]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise QwenError(ErrorKind.BAD_RESPONSE, unreadable(exc)) from None
            if line:
                _add_line(block, line)
            elif block.data:
                yield block
                block = _Block()
            else:
                block = _Block()
        if len(pending) > _MAX_LINE_BYTES:
            raise QwenError(ErrorKind.BAD_RESPONSE, "the stream holds a line far too long for an event")
    tail = bytes(pending).rstrip(b"\r")
    if tail:
        try:
            _add_line(block, tail.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise QwenError(ErrorKind.BAD_RESPONSE, unreadable(exc)) from None
    if block.data:  # the last block, without its blank line
        yield block


def _add_line(block: _Block, line: str) -> None:
    if line.startswith(":"):
        if match := _STATUS_COMMENT.match(line):
            block.status = int(match.group(1))
        return
    name, _, value = line.partition(":")
    if value.startswith(" "):
        value = value[1:]
    if name == "data":
        block.data.append(value)
    elif name == "event":
        block.event = value.strip()


class _StreamReader:
    """What the blocks of one reply say, as events; keeps what the end and errors need."""

    def __init__(self) -> None:
        self.request_id: str | None = None
        self.sources: tuple[WebSource, ...] = ()
        self.usage: Usage | None = None
        self.usage_seen = False
        self.received = False  # reasoning or content text arrived
        self.finished = False
        self.blocks = 0

    def block_events(self, block: _Block) -> list[ChatEvent | WebSourcesFound]:
        if self.finished:  # nothing after the finish reason counts
            return []
        self.blocks += 1
        data = self._data(block)
        if block.event == "error" or ("output" not in data and data.get("code")):
            code, message, body_id = error_fields(data)
            self.request_id = self.request_id or body_id
            raise native_error(block.status, code, message or "the service reported an error",
                               self.request_id, fallback=ErrorKind.CUT_OFF)
        if self.request_id is None and isinstance(data.get("request_id"), str):
            self.request_id = data["request_id"]
        return self._result_events(data)

    def end_events(self) -> list[ChatEvent | WebSourcesFound]:
        if self.blocks == 0:  # not even the sources event: not the service's stream
            raise QwenError(ErrorKind.BAD_RESPONSE, "the answer held no events")
        if self.finished:
            return []
        return [self.usage] if self.usage is not None else []

    def after(self, error: QwenError) -> QwenError:
        """An error once the stream began: CUT_OFF when text came before it (the details stay)."""
        request_id = error.request_id or self.request_id
        if self.received or error.kind is ErrorKind.CUT_OFF:
            return QwenError(ErrorKind.CUT_OFF, error.detail or str(error.kind), status=error.status,
                             code=error.code, request_id=request_id, limit=error.limit)
        return QwenError(error.kind, error.detail, status=error.status, code=error.code,
                         request_id=request_id, limit=error.limit)

    def _data(self, block: _Block) -> dict[str, Any]:
        text = "\n".join(block.data)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise QwenError(ErrorKind.BAD_RESPONSE, unreadable(exc)) from None
        if not isinstance(data, dict):
            raise QwenError(ErrorKind.BAD_RESPONSE, f"a stream event is {json_type(data)}, not a JSON object")
        return data

    def _result_events(self, data: dict[str, Any]) -> list[ChatEvent | WebSourcesFound]:
        events: list[ChatEvent | WebSourcesFound] = []
        output = _object(data.get("output"), "'output'")
        if found := _sources(_object(output.get("search_info"), "'search_info'").get("search_results")):
            merged = merge_sources(self.sources, found)
            if merged != self.sources:
                self.sources = merged
                events.append(WebSourcesFound(merged))
        finish_reason = None
        choices = output.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise QwenError(ErrorKind.BAD_RESPONSE, f"'choices' is {json_type(choices)}, not a list")
        if choices:
            choice = _object(choices[0], "a choice")
            message = _object(choice.get("message"), "'message'")
            if reasoning := _text(message.get("reasoning_content"), "reasoning_content"):
                events.append(ReasoningDelta(reasoning))
            if content := _text(message.get("content"), "content"):
                events.append(ContentDelta(content))
            finish_reason = _text(choice.get("finish_reason"), "finish_reason")
        self.received = self.received or any(isinstance(e, (ReasoningDelta, ContentDelta)) for e in events)
        if (usage := data.get("usage")) is not None:
            self.usage = _usage(_object(usage, "usage"))
        if finish_reason and finish_reason.lower() != "null":
            self.finished = True
            if self.usage is not None:
                events.append(self.usage)
            events.append(Finished(finish_reason))
        return events


def _object(value: object, what: str) -> dict[str, Any]:
    """``value`` as a JSON object; null is an empty one; anything else is a BAD_RESPONSE."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise QwenError(ErrorKind.BAD_RESPONSE, f"{what} is {json_type(value)}, not a JSON object")
    return value


def _text(value: object, field_name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise QwenError(ErrorKind.BAD_RESPONSE, f"'{field_name}' is {json_type(value)}, not a string")


def _sources(raw: object) -> list[WebSource]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QwenError(ErrorKind.BAD_RESPONSE, f"'search_results' is {json_type(raw)}, not a list")
    sources = []
    for item in raw:
        entry = _object(item, "a search result")
        index = entry.get("index")
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise QwenError(ErrorKind.BAD_RESPONSE, "a search result has no index number")
        sources.append(WebSource(index, _text(entry.get("title"), "title") or "",
                                 _text(entry.get("url"), "url") or "",
                                 _text(entry.get("site_name"), "site_name") or ""))
    return sources


def _usage(raw: dict[str, Any]) -> Usage | None:
    """The counts of a native ``usage`` object, or None when they cannot be true (negative,
    10**30…): the reply stands, its usage and cost are shown as unknown."""
    output_details = _object(raw.get("output_tokens_details"), "'output_tokens_details'")
    prompt_details = _object(raw.get("prompt_tokens_details"), "'prompt_tokens_details'")
    search = _object(_object(raw.get("plugins"), "'plugins'").get("search"), "'plugins.search'")
    try:
        return Usage(
            prompt_tokens=token_count(raw.get("input_tokens"), "input_tokens"),
            completion_tokens=token_count(raw.get("output_tokens"), "output_tokens"),
            reasoning_tokens=token_count(output_details.get("reasoning_tokens"), "reasoning_tokens"),
            cached_tokens=token_count(prompt_details.get("cached_tokens"), "cached_tokens"),
            searches=token_count(search.get("count"), "plugins.search.count"),
        )
    except AbsurdCount as exc:
        log.warning("ignoring an impossible count from the service: %s", exc)
        return None
