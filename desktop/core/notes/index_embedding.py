"""The embedding half of an index run: send pending chunks, store each batch's vectors as it lands.

Batches stay within the model's input cap (which a server may lower on the fly), a bounded number
of requests is in flight, busy answers are retried, and an input the service refuses is isolated
so it cannot stop the rest. Requests go at the pace the service accepts (the endpoint's shared
:class:`~desktop.core.pacing.Pacer`): a rate limit is waited out, with the wait in the progress,
for as long as the policy's background budget, instead of stopping the run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np  # imported where used: slow to import (desktop/core/notes/search.py)

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.index_records import (
    IndexConfig,
    IndexProgress,
    IndexReport,
    Phase,
    ProgressThrottle,
)
from desktop.core.notes.models import Embedder, EmbeddingResult, live_model, request_dimensions
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import PendingChunk
from desktop.core.pacing import EndpointKind, endpoint_of, pacer_for
from desktop.core.retry import call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")


def unit_vectors(vectors: Sequence[Sequence[float] | np.ndarray], dimensions: int) -> np.ndarray:
    """Float32 rows of length 1 (so cosine similarity is a dot product)."""
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        raise QwenError(
            ErrorKind.BAD_REQUEST, f"expected vectors of {dimensions} dimensions, got {matrix.shape}"
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = matrix / norms
    return unit


class StoreThread(Protocol):
    """A store and the one thread its calls run on (the indexer)."""

    @property
    def store(self) -> NoteStore: ...

    def in_db(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]: ...


class EmbeddingCap:
    """Inputs per request: the model's documented cap, lowered when a server names a smaller one.
    Shared by the runs of one indexer, so a lesson learnt once holds for the next run."""

    def __init__(self, value: int) -> None:
        self.value = value

    def lower_to(self, limit: int) -> None:
        self.value = min(self.value, limit)


class EmbedRun:
    """One embedding pass: batches ≤ the cap, a bounded number of requests in flight."""

    def __init__(
        self, db: StoreThread, config: IndexConfig, embedder: Embedder, cap: EmbeddingCap,
        scanned: IndexProgress, progress: ProgressThrottle, chunk_ids: Sequence[int] | None = None,
    ) -> None:
        self.db = db
        self.chunk_ids = chunk_ids
        self.config = config
        self.embedder = embedder
        self.cap = cap
        self.scanned = scanned  # file counts of the last scan, carried into embedding progress
        self.progress = progress
        self.started = time.monotonic()
        self.embedded = 0
        self.failed = 0
        self.tokens = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.total = 0
        self.retry_in: float | None = None
        self.retry_reason: ErrorKind | None = None

    def _state(self) -> IndexProgress:
        elapsed = time.monotonic() - self.started
        done = self.embedded + self.failed
        eta = None
        if done and elapsed > 0:
            eta = (self.total - done) / (done / elapsed)
        return replace(
            self.scanned,
            phase=Phase.EMBEDDING if done < self.total else Phase.DONE,
            chunks_total=self.total,
            chunks_embedded=self.embedded,
            tokens=self.tokens,
            requests=self.requests,
            requests_in_flight=self.in_flight,
            elapsed=elapsed,
            eta_seconds=eta,
            retry_in=self.retry_in,
            retry_reason=self.retry_reason,
        )

    async def run(self) -> IndexReport:
        store = self.db.store
        pending = await self.db.in_db(store.pending_chunks, None, self.chunk_ids)
        self.total = len(pending)
        self.progress.emit(self._state(), force=True)
        queue: asyncio.Queue[list[PendingChunk] | None] = asyncio.Queue()
        cap = self.cap.value
        for i in range(0, len(pending), cap):
            queue.put_nowait(pending[i:i + cap])
        workers = max(1, self.config.concurrency)
        for _ in range(workers):
            queue.put_nowait(None)
        tasks = [asyncio.ensure_future(self._worker(queue)) for _ in range(workers)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if (failure := task.exception()) is not None:
                    raise failure
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.progress.emit(self._state(), force=True)
        return IndexReport(
            chunks_embedded=self.embedded,
            chunks_failed=self.failed,
            tokens=self.tokens,
            requests=self.requests,
            max_in_flight=self.max_in_flight,
            elapsed=time.monotonic() - self.started,
        )

    async def _worker(self, queue: asyncio.Queue[list[PendingChunk] | None]) -> None:
        while (batch := await queue.get()) is not None:
            # The cap may have shrunk (the server named a smaller one) since the batch was made.
            cap = self.cap.value
            for i in range(0, len(batch), cap):
                await self._embed(batch[i:i + cap])

    def _on_wait(self, seconds: float, attempt: int, error: QwenError) -> None:
        self.retry_in = seconds
        self.retry_reason = error.kind
        log.info("embedding: %s, retry %d in %.1f s", error.kind, attempt, seconds)
        self.progress.emit(self._state(), force=True)

    async def _request(self, batch: list[PendingChunk]) -> EmbeddingResult:
        embedder = self.embedder
        # An index built offline with text-embedding-async-v* goes on live with its counterpart.
        model = live_model(self.config.model)
        dims = request_dimensions(model, self.config.dimensions)
        texts = [c.input for c in batch]

        async def once() -> EmbeddingResult:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await embedder.embed(
                    texts, model=model, dimensions=dims, text_type="document"
                )
            finally:
                self.in_flight -= 1

        policy = self.config.retry
        pacer = pacer_for(endpoint_of(embedder), EndpointKind.EMBEDDINGS, policy.window)
        result = await call_with_retries(once, policy, self._on_wait, pacer=pacer, background=True)
        self.retry_in = None
        self.retry_reason = None
        return result

    async def _embed(self, batch: list[PendingChunk]) -> None:
        store = self.db.store
        try:
            result = await self._request(batch)
        except QwenError as error:
            if error.kind is ErrorKind.BATCH_TOO_LARGE and error.limit and error.limit < len(batch):
                log.info("embedding cap is %d, splitting", error.limit)
                self.cap.lower_to(error.limit)
                for i in range(0, len(batch), error.limit):
                    await self._embed(batch[i:i + error.limit])
                return
            if error.kind in (ErrorKind.CONTEXT_TOO_LONG, ErrorKind.BAD_REQUEST,
                              ErrorKind.MODERATION):
                # One input the service refuses must not stop the rest: isolate it.
                if len(batch) > 1:
                    half = len(batch) // 2
                    await self._embed(batch[:half])
                    await self._embed(batch[half:])
                    return
                log.warning("chunk %d refused by the embedding service: %s", batch[0].id, error)
                await self.db.in_db(store.mark_embed_failed, [batch[0].id])
                self.failed += 1
                self.progress.emit(self._state())
                return
            raise
        dims = self.config.index_model.dimensions
        matrix = unit_vectors(result.vectors, dims)
        items = [(c.id, matrix[i].tobytes()) for i, c in enumerate(batch)]
        await self.db.in_db(store.save_vectors, items)
        self.embedded += len(batch)
        self.tokens += int(result.total_tokens or 0)
        self.progress.emit(self._state())
