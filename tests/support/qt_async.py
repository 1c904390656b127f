"""Driving coroutines on a qasync loop from window tests, without sleeps for synchronisation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


def run(loop: asyncio.AbstractEventLoop, scenario: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
    return loop.run_until_complete(asyncio.wait_for(scenario, timeout))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop (and Qt) run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
