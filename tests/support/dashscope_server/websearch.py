"""The native text-generation endpoint with web search (`POST /api/v1/services/aigc/text-generation/
generation`, reference "beyond chat" §1): SSE in the native shape with `X-DashScope-SSE: enable`,
one JSON answer without it.

A streamed answer is a series of blocks::

    id:1
    event:result
    :HTTP_STATUS/200
    data:{"output": {...}, "usage": {...}, "request_id": "..."}

With `search_options.prepend_search_result` the first block carries only
`output.search_info.search_results`; otherwise the sources ride on the first text block. Then one
block per reasoning / content piece (`finish_reason` "null", cumulative `usage`), and a last block
with the finish reason ("stop", or "length" when `max_tokens` cut the answer) and the usage with
`plugins.search.count`. Errors have the native body `{"request_id", "code", "message"}`; a model in
`srv.no_search_models` asked to search gets 400 InvalidParameter. Tests script answers with
`srv.script_search(SearchReply(...))` and read the request bodies with `srv.search_requests()`.
The per-minute limit of `ratelimit` applies to this endpoint too (with a native 429 body).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import _ServerBase
from .connection import _Context, _head, _SseWriter, split_event
from .protocol import _native_error, _thinking_enabled, _thinking_problem, approx_tokens, last_user_text
from .protocol import message_text, split_tokens
from .records import ClientGone, StreamRecord

SEARCH_ENDPOINT = "/services/aigc/text-generation/generation"  # below /api/v1
SEARCH_STRATEGIES = ("turbo", "max", "agent", "agent_max")
DEFAULT_NO_SEARCH_MODELS = frozenset({"qwen-long", "qwen-mt-plus"})

DEFAULT_SOURCES: tuple[dict[str, Any], ...] = (
    {"index": 1, "title": "Qwen Desktop test page", "url": "https://example.com/qwen/one",
     "site_name": "Example", "icon": "https://example.com/favicon.ico"},
    {"index": 2, "title": "A plain-http page", "url": "http://example.org/two",
     "site_name": "Example Org", "icon": ""},
)

# status -> (code, message) of a scripted native error without its own code / message.
NATIVE_ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("InvalidParameter", "<400> InternalError.Algo.InvalidParameter: Invalid parameter."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("ModelNotFound", "Model can not be found."),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: ("InternalError", "An internal error has occured, please try again later or contact service support."),
    503: ("ModelServingError", "Too many requests. Your requests are being throttled due to system capacity "
                               "limits."),
}
_MID_STREAM_ERROR = ("DataInspectionFailed", "Output data may contain inappropriate content.")

_STREAM_HEADERS = {
    "content-type": "text/event-stream;charset=UTF-8",
    "transfer-encoding": "chunked",
    "cache-control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class SearchReply:
    """One scripted answer of the native generation endpoint.

    `content=None` keeps the default ("Echo: <last user text> [ref_1]"); `reasoning=None` keeps the
    default (generated text when the request thinks), `reasoning=""` sends none. `sources=None` keeps
    the two default sources (`DEFAULT_SOURCES`, one https, one http), `[]` sends none; each source is
    a dict `{index, title, url, site_name, icon}` sent as it is. `searches=None` counts 1 search when
    there are sources, else 0. Content and reasoning go out in ~4-character pieces (`tokens` gives
    the exact content pieces). `chunk_delay=None` uses the server's `default_chunk_delay`.
    `drop_after=N` closes the connection after N blocks (the sources block counts); `error_after=N`
    sends an `event:error` block (`error_code` / `error_message`, default DataInspectionFailed, with
    `:HTTP_STATUS/<error_status>`) after N blocks. A `status` other than 200 answers with a native
    error body before any stream (`error_as_sse`: as an SSE error block, as the service does for a
    streamed call). `raw`: the whole SSE body as given; `redirect`: a redirect with an HTML page.
    `usage` replaces the last block's usage (absurd counts).
    """

    content: str | None = None
    reasoning: str | None = None
    sources: tuple[dict[str, Any], ...] | list[dict[str, Any]] | None = None
    searches: int | None = None
    tokens: list[str] | None = None
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    chunk_delay: float | None = None
    first_byte_delay: float = 0.0
    split_writes: bool = False
    drop_after: int | None = None
    error_after: int | None = None
    error_status: int = 400
    status: int = 200
    error_code: str | None = None
    error_message: str | None = None
    error_as_sse: bool = False
    raw_stream: tuple[bytes, ...] | None = None
    content_type: str = "text/event-stream;charset=UTF-8"  # of a 200 stream (a web page: text/html)
    redirect_to: str | None = None

    @classmethod
    def error(cls, status: int, code: str | None = None, message: str | None = None, *,
              as_sse: bool = False) -> SearchReply:
        """An HTTP error before the stream, with a native body (defaults follow the status)."""
        return cls(status=status, error_code=code, error_message=message, error_as_sse=as_sse)

    @classmethod
    def raw(cls, *pieces: bytes | str, content_type: str = "text/event-stream;charset=UTF-8") -> SearchReply:
        """A 200 answer that is exactly these pieces (each one HTTP chunk; str as UTF-8)."""
        return cls(raw_stream=tuple(p.encode() if isinstance(p, str) else p for p in pieces),
                   content_type=content_type)

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> SearchReply:
        return cls(status=status, redirect_to=location)


def native_block(number: int, data: dict[str, Any] | str, event: str = "result", status: int = 200) -> bytes:
    """One SSE block as the native API writes it (no space after the colons)."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"id:{number}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{text}\n\n".encode()


class _SearchRoutes(_ServerBase):
    if TYPE_CHECKING:

        async def _send_redirect(self, ctx: _Context, status: int, location: str) -> None: ...
        def _add_stream(self, record: StreamRecord) -> None: ...
        def _end_stream(self, record: StreamRecord, outcome: str) -> None: ...
        def _notify(self) -> None: ...
        def _admit(self, endpoint: str) -> float | None: ...

        rate_limit_retry_after: bool

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.no_search_models: set[str] = set(DEFAULT_NO_SEARCH_MODELS)  # 400 when asked to search
        self._search_script: collections.deque[SearchReply] = collections.deque()

    # ---- scripting and inspection ----------------------------------------------------------

    def script_search(self, *replies: SearchReply) -> None:
        """Queue replies, consumed one per valid generation request (then the default echo)."""
        with self._lock:
            self._search_script.extend(replies)

    def search_requests(self) -> list[Any]:
        """The bodies of every request to the native generation endpoint, oldest first."""
        with self._lock:
            return [r.body for r in self._requests if r.path.endswith("/api/v1" + SEARCH_ENDPOINT)]

    # ---- the route -------------------------------------------------------------------------

    async def _handle_native_generation(self, ctx: _Context) -> None:
        if not await self._search_within_rate_limit(ctx):
            return
        body = ctx.request.body
        stream = ctx.request.headers.get("x-dashscope-sse", "").lower() == "enable"
        problem = self._generation_problem(body, stream)
        if problem is not None:
            await self._native_refusal(ctx, *problem)
            return
        with self._lock:
            reply = self._search_script.popleft() if self._search_script else SearchReply()
        if stream:
            await self._stream_generation(ctx, body, reply)
            return
        await asyncio.sleep(reply.first_byte_delay)
        if not await self._scripted_refusal(ctx, reply, stream=False):
            await self._answer_generation(ctx, body, reply)

    async def _search_within_rate_limit(self, ctx: _Context) -> bool:
        wait = self._admit(ctx.endpoint)
        if wait is None:
            return True
        code, message = NATIVE_ERROR_DEFAULTS[429]
        extra = {"retry-after": f"{wait:.3f}"} if self.rate_limit_retry_after else {}
        await self._native_refusal(ctx, 429, code, message, headers=extra)
        return False

    def _generation_problem(self, body: Any, stream: bool) -> tuple[int, str, str] | None:
        """The (status, code, message) the native API would refuse this request with, if any."""
        if not isinstance(body, dict):
            return 400, "InvalidParameter", "Required body invalid, please check the request body format."
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return 400, "InvalidParameter", "Model not specified."
        parameters = body.get("parameters") if body.get("parameters") is not None else {}
        if not isinstance(parameters, dict):
            return 400, "InvalidParameter", "parameters must be an object."
        if model in self.no_search_models and parameters.get("enable_search"):
            return 400, "InvalidParameter", f"The model {model} does not support enable_search"
        if model not in self.known_models:
            return 400, "InvalidParameter", "Model not exist."
        inputs = body.get("input")
        messages = inputs.get("messages") if isinstance(inputs, dict) else None
        if not isinstance(messages, list) or not messages:
            return 400, "InvalidParameter", "<400> InternalError.Algo.InvalidParameter: input.messages is required"
        temperature = parameters.get("temperature")
        if isinstance(temperature, (int, float)) and not 0 <= temperature < 2:
            return (400, "InvalidParameter",
                    "<400> InternalError.Algo.InvalidParameter: Temperature should be in [0.0, 2.0)")
        options = parameters.get("search_options") or {}
        strategy = options.get("search_strategy", "turbo") if isinstance(options, dict) else None
        if parameters.get("enable_search") and strategy not in SEARCH_STRATEGIES:
            return 400, "InvalidParameter", f"search_strategy {strategy!r} is invalid"
        return _thinking_problem(model, {**parameters, "stream": stream})

    async def _native_refusal(self, ctx: _Context, status: int, code: str, message: str, *,
                              as_sse: bool = False, headers: dict[str, str] | None = None) -> None:
        payload = _native_error(code, message, ctx.request_id)
        if as_sse:  # how the service answers a streamed call it refuses
            data = native_block(1, payload, "error", status)
            content_type = "text/event-stream;charset=UTF-8"
        else:
            data = json.dumps(payload, ensure_ascii=False).encode()
            content_type = "application/json"
        head = {"content-length": str(len(data)), "content-type": content_type, "x-request-id": ctx.request_id}
        ctx.conn.write(_head(status, head | (headers or {})) + data)
        await ctx.conn.drain()

    async def _scripted_refusal(self, ctx: _Context, reply: SearchReply, *, stream: bool) -> bool:
        if reply.status == 200:
            return False
        if reply.redirect_to is not None:
            await self._send_redirect(ctx, reply.status, reply.redirect_to)
            return True
        code, message = NATIVE_ERROR_DEFAULTS.get(reply.status, ("InternalError", "Internal error."))
        await self._native_refusal(ctx, reply.status, reply.error_code or code,
                                   reply.error_message if reply.error_message is not None else message,
                                   as_sse=stream and reply.error_as_sse)
        return True

    # ---- the answer ------------------------------------------------------------------------

    def _search_plan(self, body: dict[str, Any], reply: SearchReply) -> _SearchPlan:
        parameters = body.get("parameters") or {}
        options = parameters.get("search_options") if isinstance(parameters.get("search_options"), dict) else {}
        model = body["model"]
        messages = body["input"]["messages"]
        searching = bool(parameters.get("enable_search"))
        thinking = _thinking_enabled(model, parameters)
        user_text = last_user_text(messages)
        sources = [dict(s) for s in (reply.sources if reply.sources is not None else DEFAULT_SOURCES)]
        if not searching or not options.get("enable_source", False):
            sources = []
        if reply.content is not None:
            content_text = reply.content
        else:
            content_text = f"Echo: {user_text}" + (" [ref_1]" if searching else "")
        content = list(reply.tokens) if reply.tokens is not None else split_tokens(content_text)
        if reply.reasoning is not None:
            reasoning = split_tokens(reply.reasoning)
        elif thinking:
            reasoning = split_tokens(f"The user wrote {user_text!r}. I will search and echo it.")
        else:
            reasoning = []
        finish_reason = reply.finish_reason
        max_tokens = parameters.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens >= 0 and len(content) > max_tokens:
            content, finish_reason = content[:max_tokens], "length"
        searches = reply.searches if reply.searches is not None else (1 if searching and sources else 0)
        prompt = sum(approx_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict))
        return _SearchPlan(model, sources, reasoning, content, finish_reason, prompt, searches,
                           str(options.get("search_strategy", "turbo")), reply.usage,
                           bool(options.get("prepend_search_result")), searching, thinking)

    async def _answer_generation(self, ctx: _Context, body: dict[str, Any], reply: SearchReply) -> None:
        plan = self._search_plan(body, reply)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        if plan.reasoning:
            message["reasoning_content"] = "".join(plan.reasoning)
        output: dict[str, Any] = {"choices": [{"finish_reason": plan.finish_reason, "message": message}]}
        if plan.searching:
            output["search_info"] = {"search_results": plan.sources}
        payload = {"output": output, "usage": plan.final_usage(), "request_id": ctx.request_id}
        data = json.dumps(payload, ensure_ascii=False).encode()
        await self._send(ctx.conn, 200, data, ctx.request_id)

    async def _stream_generation(self, ctx: _Context, body: dict[str, Any], reply: SearchReply) -> None:
        record = StreamRecord(request_id=ctx.request_id, model=body["model"], started_at=time.monotonic())
        self._add_stream(record)
        watcher = asyncio.create_task(ctx.conn.watch())
        outcome = "shutdown"
        try:
            await ctx.conn.pause(reply.first_byte_delay)
            if await self._scripted_refusal(ctx, reply, stream=True):
                outcome = "http_error"
                return
            outcome = await self._write_generation(ctx, body, reply, record)
        except ClientGone:
            outcome = "client_disconnect"
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            self._end_stream(record, outcome)

    async def _write_generation(self, ctx: _Context, body: dict[str, Any], reply: SearchReply,
                                record: StreamRecord) -> str:
        delay = reply.chunk_delay if reply.chunk_delay is not None else self.default_chunk_delay
        writer = _SseWriter(ctx.conn, delay, split=False, batch=1)
        head = _STREAM_HEADERS | {"content-type": reply.content_type, "x-request-id": ctx.request_id}
        ctx.conn.write(_head(200, head))
        await ctx.conn.drain()
        if reply.raw_stream is not None:
            for number, piece in enumerate(reply.raw_stream):
                if number and delay > 0:
                    await ctx.conn.pause(delay)
                await writer.raw(piece)
                record.chunks_sent += 1
                self._notify()
            await writer.finish()
            return "completed"
        plan = self._search_plan(body, reply)
        for number, (data, is_text) in enumerate(plan.blocks(ctx.request_id), start=1):
            if reply.error_after is not None and number > reply.error_after:
                code, message = _MID_STREAM_ERROR
                error = _native_error(reply.error_code or code,
                                      reply.error_message if reply.error_message is not None else message,
                                      ctx.request_id)
                await writer.raw(native_block(number, error, "error", reply.error_status))
                await writer.finish()
                return "error_event"
            if reply.drop_after is not None and number > reply.drop_after:
                ctx.conn.writer.transport.abort()
                return "server_disconnect"
            if number > 1 and delay > 0:
                await ctx.conn.pause(delay)
            block = native_block(number, data)
            for part, piece in enumerate(split_event(block) if reply.split_writes else [block]):
                if part:
                    await ctx.conn.pause(0.002)
                await writer.raw(piece)
            record.chunks_sent += 1
            record.text_chunks_sent += is_text
            self._notify()
        await writer.finish()
        return "completed"


@dataclass(slots=True)
class _SearchPlan:
    model: str
    sources: list[dict[str, Any]]
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    prompt_tokens: int
    searches: int
    strategy: str
    usage_override: dict[str, Any] | None
    prepend: bool
    searching: bool
    thinking: bool

    def final_usage(self) -> dict[str, Any]:
        if self.usage_override is not None:
            return self.usage_override
        usage = self._usage(len(self.reasoning), len(self.content))
        if self.searching:
            usage["plugins"] = {"search": {"count": self.searches, "strategy": self.strategy}}
        return usage

    def _usage(self, reasoning: int, content: int) -> dict[str, Any]:
        output = reasoning + content
        usage: dict[str, Any] = {"input_tokens": self.prompt_tokens, "output_tokens": output,
                                 "total_tokens": self.prompt_tokens + output}
        if self.thinking or self.reasoning:
            usage["output_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    def blocks(self, request_id: str) -> list[tuple[dict[str, Any], bool]]:
        """Every result block's data, and whether it carries text."""
        pieces = [("reasoning", p) for p in self.reasoning] + [("content", p) for p in self.content]
        blocks: list[tuple[dict[str, Any], bool]] = []
        sources_pending = bool(self.sources)
        if self.prepend and sources_pending:
            blocks.append(({"output": {"search_info": {"search_results": self.sources}}}, False))
            sources_pending = False
        reasoning_done = content_done = 0
        for kind, piece in pieces:
            reasoning_done += kind == "reasoning"
            content_done += kind == "content"
            message = {"role": "assistant", "content": piece if kind == "content" else ""}
            if self.reasoning:
                message["reasoning_content"] = piece if kind == "reasoning" else ""
            output: dict[str, Any] = {"choices": [{"finish_reason": "null", "message": message}]}
            if sources_pending:
                output["search_info"] = {"search_results": self.sources}
                sources_pending = False
            blocks.append((self._data(output, reasoning_done, content_done), True))
        final = {"role": "assistant", "content": ""} | ({"reasoning_content": ""} if self.reasoning else {})
        last: dict[str, Any] = {"choices": [{"finish_reason": self.finish_reason, "message": final}]}
        if sources_pending:
            last["search_info"] = {"search_results": self.sources}
        blocks.append(({"output": last, "usage": self.final_usage(), "request_id": request_id}, False))
        for data, _ in blocks:
            data["request_id"] = request_id
        return blocks

    def _data(self, output: dict[str, Any], reasoning: int, content: int) -> dict[str, Any]:
        return {"output": output, "usage": self._usage(reasoning, content)}
