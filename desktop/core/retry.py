"""The app's own retry policy: jittered exponential backoff, visible and cancellable.

The openai SDK's built-in retries are switched off (``max_retries=0``) so that every wait is shown
to the user ("busy, retrying in 4 s…") and can be cancelled like any other await.

A rate limit (429: too many requests or tokens per minute) is not a failure: it clears once the
window moves on. So a paced policy does not count attempts for it; requests wait for the
endpoint's shared :class:`~desktop.core.pacing.Pacer`, and give up only when no request to that
endpoint has got through for a budget measured in the limit's windows: ``rate_budget`` for a
person waiting on a reply, ``background_rate_budget`` for an index run. Errors that will not clear
(a wrong key, an overdue account, a bad request, an unknown model) are never retried.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.pacing import DEFAULT_WINDOW, RATE_KINDS, Pacer, Permit, retry_after_of

T = TypeVar("T")

ENV_RETRY_SCALE = "QWEN_DESKTOP_RETRY_SCALE"


def _env_scale() -> float:
    """A factor for every wait, from ``QWEN_DESKTOP_RETRY_SCALE`` (tests of the command line use it)."""
    try:
        scale = float(os.environ.get(ENV_RETRY_SCALE, "") or 1.0)
    except ValueError:
        return 1.0
    return scale if scale >= 0 else 1.0


# Called before each wait: (seconds to wait, attempt number starting at 1, the error that caused it).
WaitCallback = Callable[[float, int, QwenError], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # retries after the first try
    base_delay: float = 2.0
    max_delay: float = 30.0
    quota_delay: float = 20.0  # tokens-per-minute throttling clears within about a minute
    jitter: float = 0.25  # +/- fraction of each delay
    scale: float = field(default_factory=_env_scale)  # multiplies every delay
    # Rate limits (see the module's description); False: they count as attempts like any busy
    # answer and nothing is paced (the policy before pacing, kept for comparisons).
    paced: bool = True
    rate_window: float = DEFAULT_WINDOW  # the window a rate limit is counted over
    rate_budget: float = 120.0  # a reply waits this long without any request getting through
    background_rate_budget: float = 600.0  # an index run waits this long

    def delay(self, attempt: int, error: QwenError, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        r = rng or random
        return max(0.0, self._base(attempt, error) * self.scale
                   * (1 + r.uniform(-self.jitter, self.jitter)))

    def first_wait(self, error: QwenError) -> float:
        """The wait before a first retry of ``error``, without jitter (the pacer's backoff base)."""
        return self._base(1, error) * self.scale

    def _base(self, attempt: int, error: QwenError) -> float:
        if error.kind is ErrorKind.QUOTA_THROTTLED:
            return min(self.quota_delay * attempt, 60.0)
        return min(self.base_delay * 2.0 ** min(attempt - 1, 30), self.max_delay)

    @property
    def window(self) -> float:
        return self.rate_window * self.scale


NO_RETRY = RetryPolicy(attempts=0)


class Retrier:
    """The retry decisions of one request (which may take many attempts).

    :meth:`permit` before each attempt, :meth:`succeeded` or :meth:`failed` after it; ``failed``
    says how long to wait before the next attempt, or None: give up.
    """

    def __init__(self, policy: RetryPolicy, pacer: Pacer | None = None, *,
                 background: bool = False) -> None:
        self.policy = policy
        self.pacer = pacer if policy.paced else None
        budget = policy.background_rate_budget if background else policy.rate_budget
        # A scale (the tests' quick waits) shortens every wait but not this budget below ten seconds:
        # on a slow machine a first request alone may take longer than a scaled-down budget.
        self.budget = max(budget * policy.scale, min(budget, 10.0))
        self.attempt = 0  # retries so far, of any kind
        self._busy_retries = 0  # retries of errors that are not rate limits
        self._started = time.monotonic()

    def permit(self) -> Permit | None:
        """The slot for the next attempt (None when nothing is paced)."""
        return self.pacer.reserve() if self.pacer is not None else None

    def queue_wait(self, permit: Permit | None) -> float:
        """Seconds until ``permit``'s slot."""
        return self.pacer.delay(permit) if self.pacer is not None and permit is not None else 0.0

    def queue_notice(self, permit: Permit | None) -> tuple[float, QwenError] | None:
        """(seconds, the rate limit that causes it) when waiting for the slot is worth saying."""
        wait = self.queue_wait(permit)
        refusal = self.pacer.last_refusal if self.pacer is not None else None
        if refusal is None or wait < 1.0 * self.policy.scale:
            return None
        return wait, refusal

    async def ready(self, permit: Permit | None) -> Permit | None:
        """Wait for ``permit``'s slot; the permit to send under."""
        if self.pacer is None or permit is None:
            return permit
        return await self.pacer.ready(permit)

    def succeeded(self, permit: Permit | None) -> None:
        if self.pacer is not None and permit is not None:
            self.pacer.accepted(permit)

    def failed(self, error: QwenError, permit: Permit | None) -> float | None:
        """Seconds to wait before trying again after ``error``, or None: give up."""
        pacer = self.pacer
        if pacer is not None and error.kind in RATE_KINDS:
            pause = pacer.pause_left()
            if permit is not None:
                pause = pacer.refused(permit, error, first_wait=self.policy.first_wait(error),
                                      retry_after=retry_after_of(error))
            quiet_since = max(self._started, pacer.last_success or 0.0)
            if time.monotonic() - quiet_since >= self.budget:
                return None  # nothing got through for the whole budget: it is not clearing
            self.attempt += 1
            return max(0.0, pause)
        if not error.retryable or self._busy_retries >= self.policy.attempts:
            return None
        self._busy_retries += 1
        self.attempt += 1
        return self.policy.delay(self.attempt, error)


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_wait: WaitCallback | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    *,
    pacer: Pacer | None = None,
    background: bool = False,
) -> T:
    """Await ``fn()`` and retry it on retryable :class:`QwenError` according to ``policy``.

    With a ``pacer`` every attempt waits for its slot first, and rate limits are waited out
    (``background``: with the longer budget of work nobody is watching).
    """
    retrier = Retrier(policy, pacer, background=background)
    while True:
        permit = retrier.permit()
        if on_wait is not None and (notice := retrier.queue_notice(permit)) is not None:
            on_wait(notice[0], max(1, retrier.attempt), notice[1])
        permit = await retrier.ready(permit)
        try:
            result = await fn()
        except QwenError as error:
            wait = retrier.failed(error, permit)
            if wait is None:
                raise
            if on_wait is not None:
                on_wait(wait, retrier.attempt, error)
            await sleep(wait)
            continue
        retrier.succeeded(permit)
        return result
