"""The app's own retry policy: jittered exponential backoff, visible and cancellable.

The openai SDK's built-in retries are switched off (``max_retries=0``) so that every wait is shown
to the user ("busy, retrying in 4 s…") and can be cancelled like any other await.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from desktop.core.errors import ErrorKind, QwenError

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

    def delay(self, attempt: int, error: QwenError, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        r = rng or random
        if error.kind is ErrorKind.QUOTA_THROTTLED:
            base = min(self.quota_delay * attempt, 60.0)
        else:
            base = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return max(0.0, base * self.scale * (1 + r.uniform(-self.jitter, self.jitter)))


NO_RETRY = RetryPolicy(attempts=0)


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_wait: WaitCallback | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await ``fn()`` and retry it on retryable :class:`QwenError` according to ``policy``."""
    attempt = 0
    while True:
        try:
            return await fn()
        except QwenError as error:
            if not error.retryable or attempt >= policy.attempts:
                raise
            attempt += 1
            wait = policy.delay(attempt, error)
            if on_wait is not None:
                on_wait(wait, attempt, error)
            await sleep(wait)
