"""Fitting a request into the model's context: note excerpts first, then as much history as fits.

The system prompt and the question always go. Note excerpts (best first) take what is left,
up to :data:`NOTES_MAX_TOKENS`, but the conversation's history can take back up to half of it.
History goes newest first: the oldest turns are left out when it does not fit. Every count is
an estimate (:mod:`desktop.core.tokens`) in the caller's units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop.core.ask import Passage, Source, notes_message
from desktop.core.tokens import MESSAGE_OVERHEAD, estimate_tokens

NOTES_MAX_TOKENS = 12_000

Counter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class RequestPlan:
    messages: list[dict[str, str]]
    estimated_tokens: int  # of ``messages``, raw estimate
    omitted_messages: int = 0  # earliest history messages left out
    sources: tuple[Source, ...] | None = None  # None: not a notes question
    omitted_sources: int = 0  # relevant excerpts that did not fit


def _cost(message: dict[str, str], count: Counter) -> int:
    return count(message["content"]) + MESSAGE_OVERHEAD


def plan_request(
    system: Sequence[dict[str, str]],
    turns: Sequence[dict[str, str]],
    budget: int,
    *,
    passages: Sequence[Passage] | None = None,
    count: Counter = estimate_tokens,
) -> RequestPlan:
    """The messages to send within ``budget`` tokens; ``turns`` ends with the user's question."""
    if not turns or turns[-1]["role"] != "user":
        raise ValueError("the conversation must end with a user message")
    question = dict(turns[-1])
    earlier = list(turns[:-1])
    available = budget - sum(_cost(m, count) for m in system) - _cost(question, count)

    sources: tuple[Source, ...] | None = None
    omitted_sources = 0
    if passages is not None:
        used: list[Passage] = []
        history_tokens = sum(_cost(m, count) for m in earlier)
        frame = count(notes_message(question["content"], [])) - count(question["content"])
        notes_budget = min(NOTES_MAX_TOKENS, max(available - history_tokens, available // 2)) - frame
        spent = 0
        for passage in passages:
            cost = count(passage.text) + count(passage.heading) + 12  # the excerpt's label line
            if spent + cost <= notes_budget:
                used.append(passage)
                spent += cost
            else:
                omitted_sources += 1
        if not used and passages and notes_budget > 100:
            # Not even the best excerpt fits whole: send as much of its start as fits.
            best = passages[0]
            chars = max(1, int(len(best.text) * (notes_budget - 20) / max(1, count(best.text))))
            used.append(Passage(best.path, best.heading, best.line_start, best.line_end, best.snippet,
                                best.text[:chars], best.score, best.relevant))
            spent = count(used[0].text) + count(best.heading) + 12
            omitted_sources -= 1
        question["content"] = notes_message(question["content"], used)
        available -= frame + spent
        sources = tuple(p.source(i) for i, p in enumerate(used, start=1))

    kept = earlier
    total = sum(_cost(m, count) for m in kept)
    start = 0
    while start < len(kept) and total > available:
        total -= _cost(kept[start], count)
        start += 1
    while start < len(kept) and kept[start]["role"] != "user":  # begin with a question
        total -= _cost(kept[start], count)
        start += 1
    kept = kept[start:]
    messages = [*map(dict, system), *kept, question]
    estimated = sum(_cost(m, count) for m in messages)
    return RequestPlan(messages, estimated, start, sources, omitted_sources)
