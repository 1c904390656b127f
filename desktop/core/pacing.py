"""Pacing requests to what the service accepts, shared by every caller in the process.

DashScope limits requests (and tokens) per account and model per minute. A caller that retries on
its own learns nothing from its neighbours: fifty chats or four index workers each hammer the
service, each burns its retries inside the same minute, and most fail. So every request to one
endpoint — (base URL, chat or embeddings) — takes a :class:`Permit` from that endpoint's
:class:`Pacer` first.

A pacer lets requests through unpaced until the service answers 429. Then it

- pauses every caller of the endpoint (Retry-After when the service names one; else a backoff
  that doubles with each congestion event and is capped by when the oldest accepted request of
  the window leaves it, the moment a sliding window frees a slot), and
- learns a rate: the requests the service accepted over the last window, a little under it, and
  spaces every later request by it (a token bucket of one token). Each window that passes without
  a refusal raises the rate by a tenth, so it follows a limit that was raised or a burst that was
  only a burst.

Only the first refusal of a congestion event changes anything (requests already in flight when it
arrived were sent under the old rate): thirty refusals of one burst are one event, not thirty.
The pacer holds nothing a cancelled caller must give back; waiting for a permit is a plain sleep.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from desktop.core.errors import ErrorKind, QwenError

# The kinds that mean "too much, too fast": they clear by themselves once the window moves on.
RATE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED})

DEFAULT_WINDOW = 60.0  # DashScope's limits are per minute (and per second)
SAFETY = 0.9  # the learnt rate stays this fraction under what the service was seen to accept
RAISE_BY = 0.1  # the rate grows by this fraction per window without a refusal
MAX_RETRY_AFTER_WINDOWS = 5.0  # a Retry-After beyond this many windows is not believed


class EndpointKind(StrEnum):
    CHAT = "chat"
    EMBEDDINGS = "embeddings"


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to send one request: at ``at`` (monotonic seconds), in congestion epoch ``epoch``."""

    at: float
    epoch: int


class Pacer:
    """The adaptive limit of one endpoint (see the module's description)."""

    def __init__(self, window: float = DEFAULT_WINDOW, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.rate: float | None = None  # requests per second; None: not paced
        self.last_success: float | None = None  # when a request last got through
        self.last_refusal: QwenError | None = None  # the latest rate limit the service answered
        self._clock = clock
        self._lock = threading.Lock()
        self._created = clock()
        self._epoch = 0
        self._strikes = 0  # congestion events since the last success
        self._next_slot = 0.0
        self._pause_until = 0.0
        self._rate_changed = self._created
        self._accepted: collections.deque[float] = collections.deque()  # send times, two windows

    # -- taking a permit ---------------------------------------------------------------------

    def reserve(self) -> Permit:
        """The next free slot, reserved; :meth:`ready` waits for it."""
        with self._lock:
            now = self._clock()
            at = max(now, self._pause_until)
            if self.rate is not None:
                at = max(at, self._next_slot)
                self._next_slot = at + 1.0 / self.rate
            return Permit(at, self._epoch)

    def delay(self, permit: Permit) -> float:
        """Seconds until ``permit`` may be used."""
        return max(0.0, permit.at - self._clock())

    async def ready(self, permit: Permit) -> Permit:
        """Wait for ``permit``'s slot (and for any pause that began since); the permit to send with."""
        while True:
            wait = self.delay(permit)
            if wait > 0:
                await asyncio.sleep(wait)
            with self._lock:
                now = self._clock()
                if self._pause_until <= now + 1e-3:
                    return Permit(now, self._epoch)
            permit = self.reserve()  # a refusal paused the endpoint meanwhile: queue again

    async def acquire(self) -> Permit:
        return await self.ready(self.reserve())

    def pause_left(self) -> float:
        """Seconds until the endpoint's pause ends (0 when it is not paused)."""
        return max(0.0, self._pause_until - self._clock())

    # -- what the service answered -----------------------------------------------------------

    def accepted(self, permit: Permit) -> None:
        """The request sent with ``permit`` got through."""
        with self._lock:
            now = self._clock()
            # When its answer came, not when it was sent: the service counted it in between, so
            # by this time it leaves our window no sooner than it leaves the service's.
            self._accepted.append(now)
            self._forget_old(now)
            self.last_success = now
            self._strikes = 0
            if self.rate is not None and now - self._rate_changed >= self.window:
                self.rate *= 1 + RAISE_BY
                self._rate_changed = now

    def refused(self, permit: Permit, error: QwenError, *, first_wait: float,
                retry_after: float | None = None) -> float:
        """The service answered the request sent with ``permit`` with a rate limit.

        ``first_wait``: the caller's backoff for a first refusal of this kind (doubled per event).
        Returns the seconds until the endpoint's pause ends.
        """
        with self._lock:
            now = self._clock()
            self.last_refusal = error
            if permit.epoch != self._epoch and now < self._pause_until and retry_after is None:
                return self._pause_until - now  # sent before the event that paused us: no news
            self._epoch += 1
            self._strikes += 1
            self._forget_old(now)
            self._learn_rate(now)
            if retry_after is not None:
                pause = min(retry_after, self.window * MAX_RETRY_AFTER_WINDOWS)
            else:
                pause = min(first_wait * 2.0 ** min(self._strikes - 1, 30), self.window)
                if recent := self._in_window(now):  # a sliding window frees a slot when its oldest
                    pause = min(pause, max(0.0, min(recent) + self.window - now))  # request leaves
            self._pause_until = max(self._pause_until, now + pause)
            self._next_slot = self._pause_until
            self._rate_changed = now
            return self._pause_until - now

    def _learn_rate(self, now: float) -> None:
        seen_for = max(min(self.window, now - self._created), 1e-3)
        if peak := self._peak():
            learnt = max(peak / seen_for * SAFETY, 1.0 / self.window)
        elif self.rate is not None:
            learnt = max(self.rate / 2, 1.0 / self.window)
        else:
            return  # nothing got through yet: pause, but there is no rate to learn from
        self.rate = learnt if self.rate is None else min(self.rate, learnt)

    def _peak(self) -> int:
        """The most requests accepted within one window, over the last two windows.

        What the service let through is the best evidence of its limit; the count of the current
        window alone falls short when the refusal comes just as old requests leave the window
        (our clock and the service's do not see them leave at the same instant).
        """
        times = sorted(self._accepted)
        peak, first = 0, 0
        for last, sent in enumerate(times):
            while sent - times[first] >= self.window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def _in_window(self, now: float) -> list[float]:
        return [t for t in self._accepted if t > now - self.window]

    def _forget_old(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - 2 * self.window:
            self._accepted.popleft()


# ---- one pacer per endpoint, for the whole process ------------------------------------------

_pacers: dict[tuple[str, EndpointKind], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(base_url: str, kind: EndpointKind, window: float = DEFAULT_WINDOW) -> Pacer:
    """The process's pacer for requests of ``kind`` to ``base_url`` (made on first use)."""
    key = (base_url.rstrip("/"), kind)
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(window)
        elif window > 0:
            pacer.window = window
        return pacer


def endpoint_of(service: object) -> str:
    """The base URL a client (anything with ``config.base_url``) talks to; else its identity."""
    base_url = getattr(getattr(service, "config", None), "base_url", None)
    return base_url if isinstance(base_url, str) else f"object-{id(service)}"


# ---- Retry-After ------------------------------------------------------------------------------


def retry_after_of(error: BaseException) -> float | None:
    """Seconds the service asked to wait (``Retry-After`` / ``retry-after-ms``), if it did.

    The client raises its :class:`QwenError` while handling the SDK's error, so the SDK error —
    and the HTTP response with its headers — is in the QwenError's context.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        headers = getattr(getattr(current, "response", None), "headers", None)
        if headers is not None and hasattr(headers, "get"):
            millis = _seconds(headers.get("retry-after-ms"))
            if millis is not None:
                return millis / 1000.0
            seconds = _seconds(headers.get("retry-after"))
            if seconds is not None:
                return seconds
            value = headers.get("retry-after")
            if isinstance(value, str) and (when := _http_date(value)) is not None:
                return when
        current = current.__cause__ or current.__context__
    return None


def _seconds(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _http_date(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
