"""Owning the coroutines the window runs on the qasync loop.

Named tasks: starting "chat" again cancels the previous "chat". Strong references keep tasks
alive; a done-callback logs failures (a windowed app has no console to print them to) and hands
them to ``on_failure``, so the window can say that something went wrong instead of staying silent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskRunner:
    def __init__(self) -> None:
        self._named: dict[str, asyncio.Task[Any]] = {}
        self._all: set[asyncio.Task[Any]] = set()
        self.on_failure: Callable[[str, BaseException], None] | None = None

    def start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        self.cancel(name)
        task = asyncio.ensure_future(coro)
        self._named[name] = task
        self._all.add(task)
        task.add_done_callback(functools.partial(self._done, name))
        return task

    def running(self, name: str) -> bool:
        task = self._named.get(name)
        return task is not None and not task.done()

    def get(self, name: str) -> asyncio.Task[Any] | None:
        return self._named.get(name)

    def cancel(self, name: str) -> None:
        task = self._named.get(name)
        if task is not None and not task.done():
            task.cancel()

    def _done(self, name: str, task: asyncio.Task[Any]) -> None:
        self._all.discard(task)
        if self._named.get(name) is task:
            del self._named[name]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %r failed", name, exc_info=exc)
            if self.on_failure is not None:
                self.on_failure(name, exc)

    async def wait_idle(self) -> None:
        """Return once no task runs (tasks a finishing task starts are waited for too)."""
        while True:
            tasks = [t for t in self._all if not t.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def shutdown(self) -> None:
        tasks = [t for t in self._all if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
