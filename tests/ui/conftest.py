"""Shared fixtures for window tests: a qasync loop on pytest-qt's QApplication, the loopback server."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """Destroy widgets left in reference cycles here, not on whichever worker thread collects next."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _empty_clipboard_after_each_test(qapp: QApplication) -> Iterator[None]:
    """Leave nothing on the clipboard: rich text (Copy for Word) still held when the offscreen
    platform shuts down crashes the interpreter at exit, after every test has passed."""
    yield
    QApplication.clipboard().clear()


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        event_loop.close()
        asyncio.set_event_loop(None)


