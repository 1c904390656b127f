"""What an index run is configured with and reports: its settings, phases, progress and outcome.

Values only (frozen), plus :class:`ProgressThrottle`, which passes progress on without flooding a
window. The run itself is :class:`desktop.core.notes.index.Indexer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.notes.index_reading import READ_TIMEOUT
from desktop.core.notes.models import DEFAULT_EMBEDDING_MODEL, stored_dimensions
from desktop.core.notes.store_records import IndexModel
from desktop.core.retry import RetryPolicy


class Phase(StrEnum):
    SCANNING = "scanning"
    READING = "reading"
    EMBEDDING = "embedding"
    DONE = "done"


PHASE_LABELS = {
    Phase.SCANNING: QT_TRANSLATE_NOOP("Notes", "Looking for notes"),
    Phase.READING: QT_TRANSLATE_NOOP("Notes", "Reading notes"),
    Phase.EMBEDDING: QT_TRANSLATE_NOOP("Notes", "Indexing by meaning"),
    Phase.DONE: QT_TRANSLATE_NOOP("Notes", "Up to date"),
}


@dataclass(frozen=True, slots=True)
class IndexConfig:
    model: str = DEFAULT_EMBEDDING_MODEL
    dimensions: int = 1024
    max_file_size: int = 20 * 1024 * 1024
    concurrency: int = 4  # embedding requests in flight
    read_workers: int = 2
    read_batch: int = 64  # files per store transaction
    read_timeout: float = READ_TIMEOUT  # seconds for one file's open and read (a stuck share)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ocr: bool = False  # read images and scanned PDF pages from their recognised text

    @staticmethod
    def from_settings(settings: Any, **overrides: Any) -> IndexConfig:
        """From :class:`desktop.core.settings.Settings` (embedding_model, _dimensions, max_file_size_mb)."""
        config = IndexConfig(
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            max_file_size=int(settings.max_file_size_mb * 1024 * 1024),
        )
        return replace(config, **overrides)

    @property
    def index_model(self) -> IndexModel:
        return IndexModel(self.model, stored_dimensions(self.model, self.dimensions))


@dataclass(frozen=True, slots=True)
class IndexProgress:
    phase: Phase
    files_found: int = 0
    files_to_read: int = 0
    files_read: int = 0
    files_skipped: int = 0
    chunks_total: int = 0  # chunks this embedding pass must send
    chunks_embedded: int = 0
    tokens: int = 0
    requests: int = 0
    requests_in_flight: int = 0
    elapsed: float = 0.0
    eta_seconds: float | None = None
    retry_in: float | None = None  # seconds until a retry after "busy" (429/5xx), else None
    retry_reason: ErrorKind | None = None


ProgressCallback = Callable[[IndexProgress], None]


@dataclass(frozen=True, slots=True)
class IndexEstimate:
    files: int  # files with stored chunks
    chunks: int  # chunks waiting for a vector
    tokens: int  # estimated tokens to embed them
    cost_cny: float  # embedding them now (live requests)
    model: str
    batch_cost_cny: float = 0.0  # embedding them offline (batch mode)


@dataclass(frozen=True, slots=True)
class IndexReport:
    files_found: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    chunks_embedded: int = 0
    chunks_failed: int = 0  # inputs the service refused one by one (kept for keyword search)
    vectors_reused: int = 0
    tokens: int = 0
    requests: int = 0
    max_in_flight: int = 0
    elapsed: float = 0.0


class IndexModelChanged(QwenError):
    """The index holds vectors of another model or size: re-index everything, after asking."""

    def __init__(self, stored: IndexModel, wanted: IndexModel) -> None:
        self.stored = stored
        self.wanted = wanted
        super().__init__(
            ErrorKind.INDEX_MODEL_CHANGED,
            f"the index was built with {stored.model} ({stored.dimensions} dimensions), "
            f"settings ask for {wanted.model} ({wanted.dimensions})",
        )

    def __str__(self) -> str:
        return self.detail  # the faces put the two models into a sentence of their own


class ProgressThrottle:
    """Pass progress on at most every 0.1 s (and always when forced), so a window is not flooded."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self.latest: IndexProgress | None = None

    def emit(self, progress: IndexProgress, *, force: bool = False) -> None:
        self.latest = progress
        if self._callback is None:
            return
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            self._callback(progress)
