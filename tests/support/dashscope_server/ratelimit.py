"""A per-minute request limit, as DashScope applies per account and model (reference §3).

Off by default. With ``srv.rate_limit_per_minute = N`` the chat, embeddings and native generation
(web search) endpoints each accept at most N requests in any window of ``srv.rate_window_seconds``
(60 s, like the real service; a
test shrinks it to a second or two so it runs in seconds): a sliding window of the requests it
accepted. A request over the limit gets the 429 ``limit_requests`` answer DashScope sends, without
a ``Retry-After`` header unless ``srv.rate_limit_retry_after`` is set (the real service has never
been seen to send one). Refused requests do not count against the window.
"""

from __future__ import annotations

import collections
import json
import time

from .base import _ServerBase
from .connection import _Context, _head
from .protocol import error_body

# The native generation endpoint (web search) too, with a native error body (see websearch).
LIMITED_ENDPOINTS = ("/chat/completions", "/embeddings", "/services/aigc/text-generation/generation")


class _RateLimits(_ServerBase):
    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.rate_limit_per_minute: int | None = None  # requests per window and endpoint; None: off
        self.rate_window_seconds: float = 60.0  # the window's length (scaled down in tests)
        self.rate_limit_retry_after: bool = False  # say in Retry-After when a request would fit
        self._accepted_at: dict[str, collections.deque[float]] = {}
        self._rate_refusals: dict[str, int] = {}

    def rate_limited(self, endpoint: str | None = None) -> int:
        """How many requests the limit refused (for one endpoint, or for all)."""
        with self._lock:
            if endpoint is not None:
                return self._rate_refusals.get(endpoint, 0)
            return sum(self._rate_refusals.values())

    def _admit(self, endpoint: str) -> float | None:
        """None if the request may go on, else seconds until a request would fit."""
        limit, window = self.rate_limit_per_minute, self.rate_window_seconds
        if limit is None or endpoint not in LIMITED_ENDPOINTS:
            return None
        now = time.monotonic()
        with self._lock:
            accepted = self._accepted_at.setdefault(endpoint, collections.deque())
            while accepted and accepted[0] <= now - window:
                accepted.popleft()
            if len(accepted) < max(0, limit):
                accepted.append(now)
                return None
            self._rate_refusals[endpoint] = self._rate_refusals.get(endpoint, 0) + 1
            return max(0.0, accepted[0] + window - now) if accepted else window

    async def _within_rate_limit(self, ctx: _Context) -> bool:
        """Answer 429 and return False when the request is over the limit."""
        wait = self._admit(ctx.endpoint)
        if wait is None:
            return True
        payload = error_body("limit_requests", request_id=ctx.request_id)
        body = json.dumps(payload).encode()
        headers = {"content-length": str(len(body)), "x-request-id": ctx.request_id,
                   "content-type": "application/json"}
        if self.rate_limit_retry_after:
            headers["retry-after"] = f"{wait:.3f}"  # whole seconds on the wire; tests run faster
        ctx.conn.write(_head(429, headers) + body)
        await ctx.conn.drain()
        return False
