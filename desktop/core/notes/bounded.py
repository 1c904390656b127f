"""Blocking file work that may never return — a read on a stuck network share — done so that
nobody has to wait for it.

:func:`call_bounded` runs a call on one of a few reusable **daemon** threads and waits for it at most
``timeout`` seconds, and no longer than until ``stop`` is set (the index run was cancelled). A call
that overruns is abandoned: its thread stays blocked until the system lets go (the call must clean
up after itself, e.g. close its file), but the caller goes on, and being a daemon the thread does
not hold up the end of the process either (the threads of a ``ThreadPoolExecutor`` do: Python joins
them at exit, so a read stuck in one would make Ctrl-C hang). While too many calls are stuck (a whole
share is gone), new ones fail at once instead of piling up threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.1  # how often a waiting caller looks at ``stop``
MAX_STUCK = 16


class CallTimedOut(Exception):
    """The call did not return in time (it goes on, abandoned, on its thread)."""


class CallCancelled(Exception):
    """``stop`` was set while waiting."""


class _Call(Generic[T]):
    __slots__ = ("abandoned", "done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.abandoned = False

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc
        finally:
            self.done.set()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class DaemonCalls:
    """Reusable daemon threads for :meth:`call`; an idle one ends after ``idle_seconds``."""

    def __init__(self, *, idle_seconds: float = 30.0, max_stuck: int = MAX_STUCK) -> None:
        self._queue: queue.SimpleQueue[_Call[Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a call that no caller has reserved
        self._stuck = 0  # abandoned calls still running
        self._idle_seconds = idle_seconds
        self._max_stuck = max_stuck

    def call(self, fn: Callable[[], T], *, timeout: float | None,
             stop: threading.Event | None = None) -> T:
        """``fn()``, or CallTimedOut after ``timeout`` seconds, or CallCancelled once ``stop`` is set."""
        call = _Call(fn)
        with self._lock:
            if self._stuck >= self._max_stuck:
                raise CallTimedOut(f"{self._stuck} earlier reads are still stuck")
            if self._idle:
                self._idle -= 1  # that thread takes this call
            else:
                threading.Thread(target=self._work, name="notes-file-io", daemon=True).start()
        self._queue.put(call)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if stop is not None:
                wait = POLL_SECONDS if wait is None else min(wait, POLL_SECONDS)
            if call.done.wait(wait):
                return call.outcome()
            error: Exception
            if stop is not None and stop.is_set():
                error = CallCancelled()
            elif deadline is not None and time.monotonic() >= deadline:
                error = CallTimedOut(f"no answer in {timeout:g} s")
            else:
                continue
            if self._abandon(call):
                raise error

    def _abandon(self, call: _Call[T]) -> bool:
        """Leave ``call`` to its thread; False when it has finished after all."""
        with self._lock:
            if call.done.is_set():
                return False
            call.abandoned = True
            self._stuck += 1
        return True

    def _work(self) -> None:
        while True:
            try:
                call = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # an unreserved idle thread: this one can go
                        self._idle -= 1
                        return
                continue  # reserved by a caller whose call is on its way
            call.run()
            with self._lock:
                if call.abandoned:
                    self._stuck -= 1
                self._idle += 1


_CALLS = DaemonCalls()


def call_bounded(fn: Callable[[], T], *, timeout: float | None,
                 stop: threading.Event | None = None) -> T:
    """:meth:`DaemonCalls.call` on the process's shared threads."""
    return _CALLS.call(fn, timeout=timeout, stop=stop)
