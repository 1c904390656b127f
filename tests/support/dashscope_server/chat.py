"""`POST /chat/completions`: validation, the reply plan, non-stream answers and SSE streams."""

from __future__ import annotations

import asyncio
import http
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .base import _ServerBase
from .connection import _Context, _head, _SseWriter
from .protocol import (
    ERROR_DEFAULTS,
    _thinking_enabled,
    _thinking_problem,
    approx_tokens,
    last_user_text,
    message_text,
    split_tokens,
)
from .records import ChatReply, ClientGone, StreamRecord

_STREAM_HEADERS = {
    "content-type": "text/event-stream;charset=UTF-8",
    "transfer-encoding": "chunked",
    "cache-control": "no-cache",
}


class _ChatRoutes(_ServerBase):
    # ---- /chat/completions ----------------------------------------------------------------

    async def _handle_chat(self, ctx: _Context) -> None:
        body = ctx.request.body
        problem = self._chat_problem(body)
        if problem is not None:
            status, code, message = problem
            await self._send_error(ctx.conn, status, code, message=message, request_id=ctx.request_id)
            return
        with self._lock:
            reply = self._chat_script.popleft() if self._chat_script else ChatReply()
        if body.get("stream"):
            await self._stream_chat(ctx, body, reply)
        else:
            await self._answer_chat(ctx, body, reply)

    def _chat_problem(self, body: Any) -> tuple[int, str, str] | None:
        """The (status, code, message) DashScope would reject this request with, if any."""
        if not isinstance(body, dict):
            return 400, "invalid_parameter_error", "Request body is not valid JSON."
        model = body.get("model")
        if not isinstance(model, str) or model not in self.known_models:
            return (
                404,
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: messages must not be empty",
            )
        temperature = body.get("temperature")
        if isinstance(temperature, (int, float)) and not 0 <= temperature < 2:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: Temperature should be in [0.0, 2.0)",
            )
        top_p = body.get("top_p")
        if isinstance(top_p, (int, float)) and not 0 < top_p <= 1:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: Range of top_p should be (0.0, 1.0]",
            )
        problem = _thinking_problem(model, body)
        if problem is not None:
            return problem
        if self.max_input_tokens is not None and _prompt_tokens(messages) > self.max_input_tokens:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: "
                f"Range of input length should be [1, {self.max_input_tokens}]",
            )
        return None

    def _plan(self, body: dict[str, Any], reply: ChatReply) -> _ChatPlan:
        """Decide the reasoning/content pieces, finish reason and usage of a reply."""
        model = body["model"]
        thinking = _thinking_enabled(model, body)
        user_text = last_user_text(body["messages"])
        content_pieces = (
            list(reply.tokens)
            if reply.tokens is not None
            else split_tokens(reply.content if reply.content is not None else f"Echo: {user_text}")
        )
        if reply.reasoning_tokens is not None:
            reasoning_pieces = list(reply.reasoning_tokens)
        elif reply.reasoning is not None:
            reasoning_pieces = split_tokens(reply.reasoning)
        elif thinking:
            reasoning_pieces = split_tokens(f"The user wrote {user_text!r}. I will echo it back.")
        else:
            reasoning_pieces = []
        budget = body.get("thinking_budget")
        if isinstance(budget, int) and budget >= 0:
            reasoning_pieces = reasoning_pieces[:budget]
        finish_reason = reply.finish_reason
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens >= 0 and len(content_pieces) > max_tokens:
            content_pieces = content_pieces[:max_tokens]
            finish_reason = "length"
        usage = (
            reply.usage
            if reply.usage is not None
            else _usage(
                _prompt_tokens(body["messages"]),
                len(content_pieces),
                len(reasoning_pieces),
                with_reasoning=thinking or bool(reasoning_pieces),
            )
        )
        return _ChatPlan(
            chat_id=f"chatcmpl-{uuid.uuid4()}",
            model=model,
            created=int(time.time()),
            thinking_shape=thinking or bool(reasoning_pieces),
            reasoning=reasoning_pieces,
            content=content_pieces,
            finish_reason=finish_reason,
            usage=usage,
        )

    async def _reply_error_if_scripted(self, ctx: _Context, reply: ChatReply) -> bool:
        if reply.status == 200:
            return False
        if reply.redirect_to is not None:
            await self._send_redirect(ctx, reply.status, reply.redirect_to)
            return True
        await self._send_error(
            ctx.conn,
            reply.status,
            reply.error_code,
            message=reply.error_message,
            error_type=reply.error_type,
            request_id=ctx.request_id,
        )
        return True

    async def _answer_chat(self, ctx: _Context, body: dict[str, Any], reply: ChatReply) -> None:
        await asyncio.sleep(reply.first_byte_delay)
        if await self._reply_error_if_scripted(ctx, reply):
            return
        if reply.disconnect_after is not None:
            ctx.conn.writer.transport.abort()
            raise ClientGone()
        plan = self._plan(body, reply)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        if plan.reasoning:
            message["reasoning_content"] = "".join(plan.reasoning)
        payload = {
            "choices": [
                {"message": message, "finish_reason": plan.finish_reason, "index": 0, "logprobs": None}
            ],
            "object": "chat.completion",
            "usage": plan.usage,
            "created": plan.created,
            "system_fingerprint": None,
            "model": plan.model,
            "id": plan.chat_id,
        }
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    async def _stream_chat(self, ctx: _Context, body: dict[str, Any], reply: ChatReply) -> None:
        record = StreamRecord(request_id=ctx.request_id, model=body["model"], started_at=time.monotonic())
        self._add_stream(record)
        watcher = asyncio.create_task(ctx.conn.watch())
        outcome = "shutdown"
        try:
            await ctx.conn.pause(reply.first_byte_delay)
            if await self._reply_error_if_scripted(ctx, reply):
                outcome = "http_error"
                return
            outcome = await self._write_stream(ctx, body, reply, record)
        except ClientGone:
            outcome = "client_disconnect"
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            self._end_stream(record, outcome)

    async def _send_redirect(self, ctx: _Context, status: int, location: str) -> None:
        phrase = f"{status} {http.HTTPStatus(status).phrase}"
        page = f"<html><head><title>{phrase}</title></head><body><h1>{phrase}</h1></body></html>"
        body = page.encode()
        ctx.conn.write(
            _head(
                status,
                {
                    "location": location,
                    "content-type": "text/html",
                    "content-length": str(len(body)),
                    "x-request-id": ctx.request_id,
                },
            )
            + body
        )
        await ctx.conn.drain()

    async def _write_raw_stream(self, ctx: _Context, reply: ChatReply, record: StreamRecord) -> str:
        assert reply.raw_stream is not None
        delay = reply.chunk_delay if reply.chunk_delay is not None else self.default_chunk_delay
        writer = _SseWriter(ctx.conn, delay, split=False, batch=1)
        ctx.conn.write(_head(200, _STREAM_HEADERS | {"x-request-id": ctx.request_id}))
        await ctx.conn.drain()
        for number, piece in enumerate(reply.raw_stream):
            if number and delay > 0:
                await ctx.conn.pause(delay)
            await writer.raw(piece)
            record.chunks_sent += 1
            self._notify()
        await writer.finish()
        return "completed"

    async def _write_stream(
        self, ctx: _Context, body: dict[str, Any], reply: ChatReply, record: StreamRecord
    ) -> str:
        if reply.raw_stream is not None:
            return await self._write_raw_stream(ctx, reply, record)
        plan = self._plan(body, reply)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        delay = reply.chunk_delay if reply.chunk_delay is not None else self.default_chunk_delay
        writer = _SseWriter(ctx.conn, delay, reply.split_writes, max(1, reply.batch_events_per_write))
        ctx.conn.write(_head(200, _STREAM_HEADERS | {"x-request-id": ctx.request_id}))
        await ctx.conn.drain()

        async def send_chunk(
            delta: dict[str, Any] | None,
            finish_reason: str | None = None,
            usage: dict[str, Any] | None = None,
        ) -> None:
            await writer.event(plan.chunk(delta, finish_reason, usage))
            record.chunks_sent += 1
            self._notify()

        await send_chunk(
            {"role": "assistant", "content": None, "reasoning_content": ""}
            if plan.thinking_shape
            else {"role": "assistant", "content": ""}
        )
        for kind, piece in plan.text_deltas():
            if reply.error_after is not None and record.text_chunks_sent >= reply.error_after:
                await writer.event(_stream_error(reply, ctx.request_id))
                await writer.finish()
                return "error_event"
            if reply.disconnect_after is not None and record.text_chunks_sent >= reply.disconnect_after:
                await writer.flush()
                ctx.conn.writer.transport.abort()
                return "server_disconnect"
            if kind == "reasoning":
                await send_chunk({"content": None, "reasoning_content": piece})
            elif plan.thinking_shape:
                await send_chunk({"content": piece, "reasoning_content": None})
            else:
                await send_chunk({"content": piece})
            record.text_chunks_sent += 1
        if reply.error_after is not None:
            await writer.event(_stream_error(reply, ctx.request_id))
            await writer.finish()
            return "error_event"
        if reply.disconnect_after is not None:
            await writer.flush()
            ctx.conn.writer.transport.abort()
            return "server_disconnect"
        await send_chunk({"content": ""}, plan.finish_reason)
        if include_usage:
            await send_chunk(None, usage=plan.usage)
        await writer.event("[DONE]")
        await writer.finish()
        return "completed"

    def _add_stream(self, record: StreamRecord) -> None:
        with self._lock:
            self._streams.append(record)
            self._lock.notify_all()

    def _end_stream(self, record: StreamRecord, outcome: str) -> None:
        with self._lock:
            record.outcome = outcome
            record.client_disconnected = outcome == "client_disconnect"
            record.ended_at = time.monotonic()
            self._lock.notify_all()

    def _notify(self) -> None:
        with self._lock:
            self._lock.notify_all()


@dataclass(slots=True)
class _ChatPlan:
    chat_id: str
    model: str
    created: int
    thinking_shape: bool
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    usage: dict[str, Any]

    def text_deltas(self) -> Iterable[tuple[str, str]]:
        yield from (("reasoning", piece) for piece in self.reasoning)
        yield from (("content", piece) for piece in self.content)

    def chunk(
        self, delta: dict[str, Any] | None, finish_reason: str | None, usage: dict[str, Any] | None
    ) -> dict[str, Any]:
        choices = (
            []
            if delta is None
            else [{"delta": delta, "finish_reason": finish_reason, "index": 0, "logprobs": None}]
        )
        return {
            "choices": choices,
            "object": "chat.completion.chunk",
            "usage": usage,
            "created": self.created,
            "system_fingerprint": None,
            "model": self.model,
            "id": self.chat_id,
        }


def _prompt_tokens(messages: list[Any]) -> int:
    return sum(approx_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict))


def _usage(prompt: int, completion: int, reasoning: int, *, with_reasoning: bool) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion + reasoning,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if with_reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _stream_error(reply: ChatReply, request_id: str) -> dict[str, Any]:
    code = reply.error_code or "data_inspection_failed"
    default_type, default_message = ERROR_DEFAULTS.get(code, ("invalid_request_error", code))
    if code == "data_inspection_failed" and reply.error_message is None:
        default_message = "Output data may contain inappropriate content."
    return {
        "error": {
            "message": reply.error_message if reply.error_message is not None else default_message,
            "type": reply.error_type or default_type,
            "param": None,
            "code": code,
        },
        "request_id": request_id,
    }
