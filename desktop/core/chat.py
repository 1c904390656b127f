"""One chat turn, orchestrated once for the window and the command line.

:class:`ChatService` stores the user's message before anything is sent (so it is never lost),
builds the request from the conversation's history and the system prompt, streams the reply with
the app's retry policy (retrying only before the first token arrives), saves the growing reply
every few seconds, and records how the turn ended: finished, stopped, cut off, or failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from desktop.core.client import (
    ContentDelta,
    Finished,
    QwenClient,
    ReasoningDelta,
    StreamStarted,
    Usage,
)
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore, Message, Status
from desktop.core.retry import RetryPolicy

TITLE_LENGTH = 40


@dataclass(frozen=True, slots=True)
class ChatOptions:
    model: str
    system_prompt: str = ""
    temperature: float | None = None
    thinking: bool = False


# ---- events of a turn (the client's deltas pass through unchanged) --------------------------


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    message: Message  # the assistant row, status STREAMING


@dataclass(frozen=True, slots=True)
class RetryWaiting:
    seconds: float
    attempt: int
    error: QwenError


@dataclass(frozen=True, slots=True)
class TurnEnded:
    message: Message  # final state of the assistant row
    error: QwenError | None = None


TurnEvent = ReplyStarted | RetryWaiting | ReasoningDelta | ContentDelta | Usage | TurnEnded


def title_from(text: str) -> str:
    """A short automatic title: the first words of the first message (no extra request, no cost)."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


class ChatService:
    def __init__(
        self,
        history: HistoryStore,
        *,
        policy: RetryPolicy | None = None,
        save_interval: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.history = history
        self.policy = policy or RetryPolicy()
        self.save_interval = save_interval
        self._sleep = sleep

    # -- preparing a turn ------------------------------------------------------------------

    def add_user_message(self, conversation_id: int, text: str) -> Message:
        """Store the user's text first: whatever happens to the request, it is kept."""
        conversation = self.history.conversation(conversation_id)
        if conversation is not None and not conversation.title:
            self.history.rename(conversation_id, title_from(text))
        return self.history.add_message(conversation_id, "user", text)

    def drop_failed_reply(self, conversation_id: int) -> None:
        """Before a retry: remove the failed assistant row that ends the conversation, if any."""
        messages = self.history.messages(conversation_id)
        if messages and messages[-1].role == "assistant" and messages[-1].status is Status.ERROR:
            self.history.delete_message(messages[-1].id)

    def build_request(self, conversation_id: int, options: ChatOptions) -> list[dict[str, str]]:
        """The messages to send: the system prompt, then every turn with text in it."""
        request: list[dict[str, str]] = []
        if options.system_prompt.strip():
            request.append({"role": "system", "content": options.system_prompt.strip()})
        for m in self.history.messages(conversation_id):
            if m.role == "assistant" and (m.status is Status.ERROR or not m.content.strip()):
                continue
            request.append({"role": m.role, "content": m.content})
        return request

    # -- running a turn --------------------------------------------------------------------

    async def run_turn(
        self, client: QwenClient, conversation_id: int, options: ChatOptions
    ) -> AsyncIterator[TurnEvent]:
        """Stream the assistant's reply to the conversation's last user message.

        Cancelling the task that iterates this generator stops the reply: the partial text is
        saved with status STOPPED and the HTTP response is closed.
        """
        request = self.build_request(conversation_id, options)
        if not request or request[-1]["role"] != "user":
            raise ValueError("the conversation must end with a user message")
        reply = self.history.add_message(conversation_id, "assistant", "", status=Status.STREAMING,
                                         model=options.model)
        yield ReplyStarted(reply)
        content: list[str] = []
        reasoning: list[str] = []
        last_save = time.monotonic()
        thinking_started: float | None = None
        attempt = 0

        def snapshot(status: Status) -> Message:
            reply.content = "".join(content)
            reply.reasoning = "".join(reasoning)
            reply.status = status
            return reply

        try:
            while True:
                try:
                    async for event in client.stream_chat(
                        request, model=options.model, temperature=options.temperature,
                        thinking=options.thinking,
                    ):
                        if isinstance(event, StreamStarted):
                            reply.request_id = event.request_id or ""
                            continue
                        if isinstance(event, ReasoningDelta):
                            if thinking_started is None:
                                thinking_started = time.monotonic()
                            reasoning.append(event.text)
                        elif isinstance(event, ContentDelta):
                            if thinking_started is not None and reply.thinking_seconds is None:
                                reply.thinking_seconds = time.monotonic() - thinking_started
                            content.append(event.text)
                        elif isinstance(event, Usage):
                            reply.usage = event
                        elif isinstance(event, Finished):
                            if event.reason == "length":
                                reply.status = Status.LENGTH
                            continue
                        yield event
                        if time.monotonic() - last_save >= self.save_interval:
                            status = reply.status
                            self.history.update_message(snapshot(Status.STREAMING))
                            reply.status = status
                            last_save = time.monotonic()
                    break
                except QwenError as error:
                    nothing_yet = not content and not reasoning
                    if error.retryable and nothing_yet and attempt < self.policy.attempts:
                        attempt += 1
                        wait = self.policy.delay(attempt, error)
                        yield RetryWaiting(wait, attempt, error)
                        await self._sleep(wait)
                        continue
                    raise
        except asyncio.CancelledError:
            self.history.update_message(snapshot(Status.STOPPED))
            raise
        except QwenError as error:
            kept_text = bool(content or reasoning)
            status = Status.CUT_OFF if kept_text else Status.ERROR
            final = snapshot(status)
            final.error_kind = error.kind.value
            final.error_detail = error.details()
            final.request_id = error.request_id or reply.request_id
            self.history.update_message(final)
            yield TurnEnded(final, error)
            return
        final_status = Status.LENGTH if reply.status is Status.LENGTH else Status.OK
        final = snapshot(final_status)
        if not final.content and not final.reasoning:
            error = QwenError(ErrorKind.CUT_OFF, "empty reply", request_id=reply.request_id or None)
            final.status = Status.ERROR
            final.error_kind = error.kind.value
            self.history.update_message(final)
            yield TurnEnded(final, error)
            return
        self.history.update_message(final)
        yield TurnEnded(final)
