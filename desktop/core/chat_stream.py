"""What one streamed chat chunk says, as our own frozen events, and every check of its shape.

A chunk of the wrong shape (``choices`` not a list, a token count that is text) is a BAD_RESPONSE
:class:`~desktop.core.errors.QwenError`; token counts that are numbers but cannot be true make the
usage unknown instead (the reply stands).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.core.errors import ErrorKind, QwenError

if TYPE_CHECKING:
    import openai  # imported where used: it is slow to import (desktop/core/client.py)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamStarted:
    request_id: str | None


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str  # "stop", "length", "tool_calls", ...


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    searches: int = 0  # web searches the service made for the reply (billed per search)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


ChatEvent = StreamStarted | ReasoningDelta | ContentDelta | Finished | Usage


def malformed(detail: str) -> QwenError:
    return QwenError(ErrorKind.BAD_RESPONSE, detail)


def chunk_events(chunk: object) -> list[ChatEvent]:
    """The events one streamed chunk carries; a wrong shape raises a BAD_RESPONSE QwenError."""
    import openai

    if not isinstance(chunk, openai.BaseModel):
        raise malformed(f"a stream event is {json_type(chunk)}, not a JSON object")
    events: list[ChatEvent] = []
    usage = getattr(chunk, "usage", None)
    if usage is not None and (counted := _usage(_model(usage, "usage"))) is not None:
        events.append(counted)
    choices = getattr(chunk, "choices", None)
    if choices is None:
        return events
    if not isinstance(choices, list):
        raise malformed(f"'choices' is {json_type(choices)}, not a list")
    if not choices:
        return events
    choice = _model(choices[0], "a choice")
    finish_reason = _text(getattr(choice, "finish_reason", None), "finish_reason")
    delta = getattr(choice, "delta", None)
    if delta is None and not finish_reason:
        raise malformed("a choice has no 'delta'")
    if delta is not None:
        delta = _model(delta, "'delta'")
        if reasoning := _text(getattr(delta, "reasoning_content", None), "reasoning_content"):
            events.append(ReasoningDelta(reasoning))
        if content := _text(getattr(delta, "content", None), "content"):
            events.append(ContentDelta(content))
    if finish_reason:
        events.append(Finished(finish_reason))
    return events


def _model(value: object, what: str) -> openai.BaseModel:
    import openai

    if not isinstance(value, openai.BaseModel):
        raise malformed(f"{what} is {json_type(value)}, not a JSON object")
    return value


def _text(value: object, field_name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise malformed(f"'{field_name}' is {json_type(value)}, not a string")


# No request has anywhere near this many tokens: a count beyond it (or below zero) is nonsense.
MAX_TOKEN_COUNT = 10**9


class AbsurdCount(Exception):
    """A token count that is a number but cannot be true: the usage is unknown, not an error."""


def token_count(value: object, field_name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise malformed(f"'{field_name}' is not a token count")
    if not (0 <= value <= MAX_TOKEN_COUNT) or value != int(value):
        raise AbsurdCount(f"{field_name}={value!r}")
    return int(value)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "a JSON object"}
    return names.get(type(value), type(value).__name__)


def unreadable(exc: ValueError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"the stream is not valid UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r})"
    return f"the stream is not valid JSON ({exc})"


def _usage(raw: Any) -> Usage | None:
    """The token counts, or None when the service reported counts that cannot be true (negative,
    10**30…): the reply stands, its usage and cost are shown as unknown."""
    details = getattr(raw, "completion_tokens_details", None)
    prompt_details = getattr(raw, "prompt_tokens_details", None)
    try:
        return _usage_counts(raw, details, prompt_details)
    except AbsurdCount as exc:
        log.warning("ignoring an impossible token count from the service: %s", exc)
        return None


def _usage_counts(raw: Any, details: Any, prompt_details: Any) -> Usage:
    return Usage(
        prompt_tokens=token_count(getattr(raw, "prompt_tokens", 0), "prompt_tokens"),
        completion_tokens=token_count(getattr(raw, "completion_tokens", 0), "completion_tokens"),
        reasoning_tokens=token_count(getattr(details, "reasoning_tokens", 0), "reasoning_tokens")
        if details else 0,
        cached_tokens=token_count(getattr(prompt_details, "cached_tokens", 0), "cached_tokens")
        if prompt_details else 0,
    )
