"""One chat turn, orchestrated once for the window and the command line.

:class:`ChatService` stores the user's message before anything is sent (so it is never lost),
builds the request from the conversation's history and the system prompt — fitted into the
model's context, with note excerpts when the question is about the user's notes — streams the
reply with the app's retry policy (retrying only before the first token arrives, at the pace the
service accepts: a rate limit is waited out, shown as RetryWaiting), saves the
growing reply every few seconds, and records how the turn ended: finished, stopped, cut off, or
failed. When the service says the request is too long ("Range of input length should be
[1, N]"), the limit is remembered and the request is sent again, shorter. It also retries a
failed reply of any turn in its place, regenerates the last reply, edits an earlier question
(and puts back what the edit replaced, on Undo), and adds up tokens and cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from desktop.core.ask import Passage, Retrieval, Retriever, Source
from desktop.core.client import (
    ContentDelta,
    Finished,
    QwenClient,
    ReasoningDelta,
    StreamStarted,
    Usage,
    translate_error,
)
from desktop.core.context import RequestPlan, plan_request
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore, Message, Status
from desktop.core.limits import ModelLimits
from desktop.core.models import offers_web_search
from desktop.core.native_chat import stream_with_search
from desktop.core.pacing import EndpointKind, pacer_for
from desktop.core.pricing import PriceTable, Totals, month_end, month_start, totals
from desktop.core.retry import Retrier, RetryPolicy
from desktop.core.websearch import WebSourcesFound

log = logging.getLogger(__name__)

TITLE_LENGTH = 40


@dataclass(frozen=True, slots=True)
class ChatOptions:
    model: str
    system_prompt: str = ""
    temperature: float | None = None
    thinking: bool = False
    use_notes: bool = False  # answer from the notes, citing them
    web_search: bool = False  # let the service search the web, and keep the pages it cites


@dataclass(frozen=True, slots=True)
class Edit:
    """What Edit and resend replaced, kept so that Undo can put it back exactly."""

    conversation_id: int
    message_id: int  # the edited question
    previous_text: str
    previous_title: str | None  # the automatic title the edit changed, else None
    replaced: tuple[Message, ...]  # the messages that came after the question, as they were
    previous_edited: float | None = None  # when the question had been edited before, if it had


# ---- events of a turn (the client's deltas pass through unchanged) --------------------------


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    message: Message  # the assistant row, status STREAMING


@dataclass(frozen=True, slots=True)
class SearchingNotes:
    """The question is being looked up in the notes."""


@dataclass(frozen=True, slots=True)
class NotesFound:
    retrieval: Retrieval  # what the search found (only the relevant passages are sent)


@dataclass(frozen=True, slots=True)
class ContextPrepared:
    """The request is about to go: what it cites and what was left out to fit the context
    (only sent when there is something to say)."""

    sources: tuple[Source, ...] | None  # None: not a notes question
    omitted_messages: int
    omitted_sources: int
    input_limit: int | None  # set when the service said the previous attempt was too long


@dataclass(frozen=True, slots=True)
class RetryWaiting:
    seconds: float
    attempt: int
    error: QwenError


@dataclass(frozen=True, slots=True)
class TurnEnded:
    message: Message  # final state of the assistant row
    error: QwenError | None = None


TurnEvent = (ReplyStarted | SearchingNotes | NotesFound | ContextPrepared | RetryWaiting | ReasoningDelta
             | ContentDelta | Usage | WebSourcesFound | TurnEnded)

MAX_SHORTER_ATTEMPTS = 3


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
        limits: ModelLimits | None = None,
        prices: PriceTable | None = None,
        retrievers: Callable[[], Awaitable[Retriever]] | None = None,
    ) -> None:
        self.history = history
        # Builds the notes retriever for questions about the notes (the notes service's).
        self._retrievers = retrievers
        self.policy = policy or RetryPolicy()
        self.save_interval = save_interval
        self._sleep = sleep
        self.limits = limits or ModelLimits()
        self.prices = prices or PriceTable()
        self.search_refused: set[str] = set()  # models the service said cannot search (this session)

    def offers_web_search(self, model: str) -> bool:
        """Whether to offer web search for ``model``: a model that searches, not refused since."""
        return offers_web_search(model) and model not in self.search_refused

    # -- preparing a turn ------------------------------------------------------------------

    def add_user_message(self, conversation_id: int, text: str) -> Message:
        """Store the user's text first: whatever happens to the request, it is kept."""
        conversation = self.history.conversation(conversation_id)
        if conversation is not None and not conversation.title:
            self.history.rename(conversation_id, title_from(text))
        return self.history.add_message(conversation_id, "user", text)

    def regenerate(self, conversation_id: int) -> Message | None:
        """Remove the replies after the last question, so that it can be answered again.

        Returns the last removed reply (its ``sources`` tell whether it came from the notes).
        """
        messages = self.history.messages(conversation_id)
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
        if last_user is None:
            raise ValueError("nothing to regenerate: the conversation has no question")
        removed = messages[last_user + 1:]
        if removed:
            self.history.delete_messages_after(conversation_id, messages[last_user].id)
        return removed[-1] if removed else None

    def edit_message(self, conversation_id: int, message_id: int, text: str) -> Edit:
        """Change an earlier question; everything after it goes (the conversation continues
        from there once the turn is run). Returns what was replaced, for :meth:`undo_edit`."""
        message = self.history.message(message_id)
        if message is None or message.conversation_id != conversation_id or message.role != "user":
            raise ValueError("only a question of this conversation can be edited")
        conversation = self.history.conversation(conversation_id)
        messages = self.history.messages(conversation_id)
        first = next((m for m in messages if m.role == "user"), None)
        previous_title = None
        if (conversation is not None and first is not None and first.id == message_id
                and conversation.title == title_from(message.content)):
            previous_title = conversation.title
            self.history.rename(conversation_id, title_from(text))  # still the automatic title
        self.history.set_content(message_id, text, edited=time.time())
        self.history.delete_messages_after(conversation_id, message_id)
        return Edit(conversation_id, message_id, message.content, previous_title,
                    tuple(replace(m) for m in messages if m.id > message_id), message.edited)

    def undo_edit(self, edit: Edit) -> None:
        """Put the conversation back as it was before ``edit``: the question's old text and the
        messages after it. The answer to the edited question goes (its tokens stay counted)."""
        question = self.history.message(edit.message_id)
        if question is None or question.conversation_id != edit.conversation_id:
            return  # the conversation was deleted meanwhile: nothing to put back into
        self.history.restore_after(edit.conversation_id, edit.message_id, edit.replaced)
        self.history.set_content(edit.message_id, edit.previous_text, edited=edit.previous_edited)
        conversation = self.history.conversation(edit.conversation_id)
        if (edit.previous_title is not None and conversation is not None
                and conversation.title == title_from(question.content)):  # not renamed since
            self.history.rename(edit.conversation_id, edit.previous_title)

    def build_request(self, conversation_id: int, options: ChatOptions) -> list[dict[str, str]]:
        """The messages to send before fitting: the system prompt, then every turn with text."""
        system, turns = self._conversation(conversation_id, options)
        return [*system, *turns]

    def _conversation(self, conversation_id: int, options: ChatOptions, before: int | None = None,
                      ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The system prompt and the turns with text (only those before message ``before``)."""
        system = ([{"role": "system", "content": options.system_prompt.strip()}]
                  if options.system_prompt.strip() else [])
        turns: list[dict[str, str]] = []
        for m in self.history.messages(conversation_id):
            if before is not None and m.id >= before:
                break
            if m.role == "assistant":
                if m.status is Status.NO_NOTES:
                    if turns and turns[-1]["role"] == "user":
                        turns.pop()  # a question Qwen never saw
                    continue
                if m.status is Status.ERROR or not m.content.strip():
                    continue
            turns.append({"role": m.role, "content": m.content})
        return system, turns

    def plan(self, model: str, system: Sequence[dict[str, str]], turns: Sequence[dict[str, str]],
             passages: Sequence[Passage] | None = None) -> RequestPlan:
        """Fit a request into what ``model`` accepts (as far as we know it)."""
        budget = int(self.limits.input_budget(model) / self.limits.ratio(model))
        return plan_request(system, turns, budget, passages=passages)

    # -- costs -----------------------------------------------------------------------------

    def conversation_totals(self, conversation_id: int) -> Totals:
        replies: list[tuple[str, Usage | None]] = [
            (m.model, m.usage) for m in self.history.messages(conversation_id) if m.role == "assistant"]
        replies.extend(self.history.service_usage(conversation_id))
        return totals(self.prices, replies)

    def month_totals(self, now: float | None = None) -> Totals:
        return totals(self.prices, self.history.usage_between(month_start(now), month_end(now)))

    def reply_cost(self, message: Message) -> float | None:
        return self.prices.cost(message.model, message.usage)

    # -- running a turn --------------------------------------------------------------------

    async def run_turn(
        self, client: QwenClient, conversation_id: int, options: ChatOptions,
        *, retriever: Retriever | None = None, again: int | None = None,
    ) -> AsyncIterator[TurnEvent]:
        """Stream the assistant's reply to the conversation's last user message — or, with
        ``again`` (the id of an earlier reply, e.g. a failed one), answer that reply's question
        again in its place: the request carries only what came before it, the new reply takes
        the old one's row, and the turns after it stay as they are.

        With ``options.use_notes`` the question is first looked up through ``retriever`` (by
        default the one the service was built with); when
        nothing relevant is found the reply ends with status NO_NOTES and Qwen is not asked.
        Cancelling the task that iterates this generator stops the reply: the partial text is
        saved with status STOPPED and the HTTP response is closed.
        """
        if again is not None:
            old = self.history.message(again)
            if old is None or old.conversation_id != conversation_id or old.role != "assistant":
                raise ValueError("only a reply of this conversation can be answered again")
        system, turns = self._conversation(conversation_id, options, before=again)
        if not turns or turns[-1]["role"] != "user":
            raise ValueError("the conversation must end with a user message")
        if options.use_notes and retriever is None and self._retrievers is None:
            raise ValueError("a question about the notes needs a retriever")
        reply = (self.history.renew_reply(again, options.model) if again is not None else
                 self.history.add_message(conversation_id, "assistant", "", status=Status.STREAMING,
                                          model=options.model))
        reply.web_sources = [] if options.web_search else None
        yield ReplyStarted(reply)
        content: list[str] = []
        reasoning: list[str] = []
        last_save = time.monotonic()
        thinking_started: float | None = None
        # Every chat to this service shares one pacer: a rate limit is waited out by all together.
        pacer = pacer_for(client.config.base_url, EndpointKind.CHAT, self.policy.window)
        retrier = Retrier(self.policy, pacer)
        shorter = 0

        def snapshot(status: Status) -> Message:
            reply.content = "".join(content)
            reply.reasoning = "".join(reasoning)
            reply.status = status
            return reply

        try:
            passages: tuple[Passage, ...] | None = None
            if options.use_notes:
                yield SearchingNotes()
                if retriever is None:
                    assert self._retrievers is not None
                    retriever = await self._retrievers()
                retrieval = await retriever.retrieve(turns[-1]["content"])
                if retrieval.rerank is not None and retrieval.rerank.total_tokens:
                    self.history.add_service_usage(conversation_id, retrieval.rerank.model,
                                                   retrieval.rerank.total_tokens)
                yield NotesFound(retrieval)
                passages = retrieval.relevant
                if not passages:
                    reply.sources = []
                    final = snapshot(Status.NO_NOTES)
                    self.history.update_message(final)
                    yield TurnEnded(final)
                    return
            plan = self.plan(options.model, system, turns, passages)
            while True:
                reply.sources = list(plan.sources) if plan.sources is not None else None
                reply.omitted_messages = plan.omitted_messages
                reply.omitted_sources = plan.omitted_sources
                if (plan.sources is not None or plan.omitted_messages or plan.omitted_sources
                        or reply.input_limit):
                    yield ContextPrepared(plan.sources, plan.omitted_messages, plan.omitted_sources,
                                          reply.input_limit)
                permit = retrier.permit()
                if (notice := retrier.queue_notice(permit)) is not None:  # others hit the limit
                    yield RetryWaiting(notice[0], max(1, retrier.attempt), notice[1])
                permit = await retrier.ready(permit)
                try:
                    stream = (
                        stream_with_search(client, plan.messages, model=options.model,
                                           temperature=options.temperature, thinking=options.thinking)
                        if options.web_search else
                        client.stream_chat(plan.messages, model=options.model,
                                           temperature=options.temperature, thinking=options.thinking))
                    async for event in stream:
                        if isinstance(event, StreamStarted):
                            reply.request_id = event.request_id or ""
                            retrier.succeeded(permit)
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
                            self.limits.observe(options.model, plan.estimated_tokens, event.prompt_tokens)
                        elif isinstance(event, WebSourcesFound):
                            reply.web_sources = list(event.sources)
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
                    if (error.kind is ErrorKind.CONTEXT_TOO_LONG and error.limit and nothing_yet
                            and shorter < MAX_SHORTER_ATTEMPTS):
                        # The service named its real limit: remember it and send less.
                        shorter += 1
                        self.limits.learn_limit(options.model, error.limit, plan.estimated_tokens)
                        reply.input_limit = error.limit
                        shorter_plan = self.plan(options.model, system, turns, passages)
                        if shorter_plan.estimated_tokens < plan.estimated_tokens:
                            plan = shorter_plan
                            continue
                        raise  # nothing left to leave out
                    wait = retrier.failed(error, permit) if nothing_yet else None
                    if wait is not None:
                        yield RetryWaiting(wait, retrier.attempt, error)
                        await self._sleep(wait)
                        continue
                    raise
        except asyncio.CancelledError:
            self.history.update_message(snapshot(Status.STOPPED))
            raise
        except Exception as exc:  # noqa: BLE001 - whatever fails, the turn ends visibly and is kept
            failure = exc if isinstance(exc, QwenError) else translate_error(exc)
            if not isinstance(exc, QwenError):
                log.error("chat turn failed unexpectedly", exc_info=exc)
            if failure.kind is ErrorKind.SEARCH_UNSUPPORTED:
                self.search_refused.add(options.model)
            kept_text = bool(content or reasoning)
            status = Status.CUT_OFF if kept_text else Status.ERROR
            final = snapshot(status)
            final.error_kind = failure.kind.value
            final.error_detail = failure.details()
            final.request_id = failure.request_id or reply.request_id
            self.history.update_message(final)
            yield TurnEnded(final, failure)
            return
        final_status = Status.LENGTH if reply.status is Status.LENGTH else Status.OK
        final = snapshot(final_status)
        if not final.content and not final.reasoning:
            empty = QwenError(ErrorKind.CUT_OFF, "empty reply", request_id=reply.request_id or None)
            final.status = Status.ERROR
            final.error_kind = empty.kind.value
            self.history.update_message(final)
            yield TurnEnded(final, empty)
            return
        self.history.update_message(final)
        yield TurnEnded(final)
