"""The index run: scan → read and chunk → embed, incremental, checkpointed and cancellable.

One :class:`Indexer` serves the window and the command line. Blocking work goes to executors:
scanning and reading to a small pool, every store call to a single "db" thread (so the SQLite
connection is only ever used from one thread). The run is a coroutine; cancel its task to stop.
Every embedded batch is written as it arrives, so Cancel, a crash or a lost network never costs a
re-embed: the next run picks up the chunks that still have no vector.

Phases: :meth:`Indexer.prepare` scans, reads and stores chunks (no network) and returns an
:class:`IndexEstimate` of what embedding will cost; :meth:`Indexer.embed_pending` sends the
chunks; :meth:`Indexer.run` does both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.notes.chunker import chunk_text
from desktop.core.notes.models import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
    batch_price_per_1k_tokens,
    embedding_cap,
    estimate_tokens,
    live_model,
    price_per_1k_tokens,
    request_dimensions,
    stored_dimensions,
)
from desktop.core.notes.reader import NoteUnreadable, SkipReason, extract_text, file_sha256
from desktop.core.notes.scanner import FoundFile, ScanResult, scan_folder
from desktop.core.notes.store import (
    FileChange,
    FileState,
    IndexedFile,
    IndexModel,
    NoteStore,
    PendingChunk,
    RemovedFile,
    SkippedEntry,
    SkippedFile,
    TouchedFile,
)
from desktop.core.retry import RetryPolicy, call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")



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
    retry: RetryPolicy = field(default_factory=RetryPolicy)

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


class IndexModelChanged(Exception):
    """The index holds vectors of another model or size: re-index everything, after asking."""

    def __init__(self, stored: IndexModel, wanted: IndexModel) -> None:
        self.stored = stored
        self.wanted = wanted
        super().__init__(
            f"the index was built with {stored.model} ({stored.dimensions} dimensions), "
            f"settings ask for {wanted.model} ({wanted.dimensions})"
        )


def unit_vectors(vectors: Sequence[Sequence[float]], dimensions: int) -> np.ndarray:
    """Float32 rows of length 1 (so cosine similarity is a dot product)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        raise QwenError(
            ErrorKind.BAD_REQUEST, f"expected vectors of {dimensions} dimensions, got {matrix.shape}"
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = matrix / norms
    return unit


# ---- reading one file (runs in a worker thread) --------------------------------------------------


def read_file(found: FoundFile, state: FileState | None, max_file_size: int) -> FileChange:
    """Read and chunk one file, or say why not. Never raises for a bad file."""
    path = Path(found.path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_file_size + 1)
    except OSError as exc:
        return SkippedFile(found.path, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__,
                           found.size, found.mtime_ns)
    if len(data) > max_file_size:
        return SkippedFile(found.path, SkipReason.TOO_LARGE, "", found.size, found.mtime_ns)
    digest = file_sha256(data)
    if state is not None and state.sha256 == digest:
        return TouchedFile(found.path, found.size, found.mtime_ns)
    try:
        note = extract_text(path, data)
    except NoteUnreadable as exc:
        return SkippedFile(found.path, exc.reason, exc.detail, found.size, found.mtime_ns, digest)
    chunks = tuple(chunk_text(note.text, note.kind))
    return IndexedFile(found.path, found.size, found.mtime_ns, digest, note.encoding, chunks)


def read_files(
    files: Sequence[tuple[FoundFile, FileState | None]], max_file_size: int
) -> list[FileChange]:
    return [read_file(f, state, max_file_size) for f, state in files]


@dataclass(slots=True)
class _FolderPlan:
    folder_id: int
    scan: ScanResult
    to_read: list[tuple[FoundFile, FileState | None]]
    direct: list[FileChange]  # skips found by the scanner, removals
    unchanged: int


def plan_folder(
    folder_id: int, scan: ScanResult, states: dict[str, FileState]
) -> _FolderPlan:
    """Compare a scan with what is stored: what to read, what to drop, what is unchanged."""
    to_read: list[tuple[FoundFile, FileState | None]] = []
    direct: list[FileChange] = []
    unchanged = 0
    seen: set[str] = set()
    for found in scan.files:
        seen.add(found.path)
        state = states.get(found.path)
        if (
            state is not None
            and state.size == found.size
            and state.mtime_ns == found.mtime_ns
            and state.reason != SkipReason.TOO_LARGE.value  # the size limit may have been raised
        ):
            unchanged += 1
            continue
        to_read.append((found, state))
    for skip in scan.skipped:
        if skip.is_dir:
            continue
        seen.add(skip.path)
        state = states.get(skip.path)
        if (
            state is not None
            and state.status == "skipped"
            and state.size == skip.size
            and state.mtime_ns == skip.mtime_ns
        ):
            continue
        direct.append(SkippedFile(skip.path, skip.reason, skip.detail, skip.size, skip.mtime_ns))
    if not scan.missing:
        # A folder that is gone (unplugged drive) keeps its index until it is removed by the user.
        direct.extend(RemovedFile(p) for p in states if p not in seen)
    return _FolderPlan(folder_id, scan, to_read, direct, unchanged)


def _nested_folders(folder: str, folders: Sequence[str]) -> list[str]:
    prefix = folder.rstrip(os.sep) + os.sep
    return [f for f in folders if f != folder and f.startswith(prefix)]


def normalise_folder(path: str | Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


# ---- the indexer ---------------------------------------------------------------------------------


class Indexer:
    """Runs index passes over a :class:`NoteStore`. Create with :meth:`open` inside the loop."""

    def __init__(self, store: NoteStore, config: IndexConfig, embedder: Embedder | None,
                 db_executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.config = config
        self.embedder = embedder
        self._db = db_executor
        self._io = ThreadPoolExecutor(config.read_workers, thread_name_prefix="notes-read")
        self._cap = embedding_cap(config.model)
        self._closed = False
        self._last_scan = IndexProgress(Phase.DONE)  # file counts carried into embedding progress

    @classmethod
    async def open(
        cls, db_path: str | Path, config: IndexConfig, embedder: Embedder | None = None
    ) -> Indexer:
        db = ThreadPoolExecutor(1, thread_name_prefix="notes-db")
        store = await asyncio.get_running_loop().run_in_executor(db, NoteStore, db_path)
        return cls(store, config, embedder, db)

    def configure(self, config: IndexConfig, embedder: Embedder | None) -> None:
        """Use these settings and this client from the next call on (settings or key changed)."""
        self.config = config
        self.embedder = embedder
        self._cap = embedding_cap(config.model)

    async def close(self) -> None:
        """Close the store after any write still running in the db thread."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._db, self.store.close)
        self._db.shutdown(wait=False)
        self._io.shutdown(wait=False, cancel_futures=True)

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def _in_io(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call on the store's own thread (for companions such as batch)."""
        return await self._in_db(fn, *args)

    async def in_io(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking file work on the reading pool."""
        return await self._in_io(fn, *args)

    # -- folders --

    async def sync_folders(self, folders: Sequence[str]) -> list[int]:
        """Make the store's folder list equal ``folders`` (removed folders lose their index)."""
        wanted = [normalise_folder(f) for f in folders]
        stored = await self._in_db(self.store.folder_paths)
        for path in stored:
            if path not in wanted:
                await self._in_db(self.store.remove_folder, path)
        return [await self._in_db(self.store.add_folder, path) for path in wanted]

    # -- the model --

    async def check_model(self) -> None:
        """Raise :class:`IndexModelChanged` if the index holds vectors of another model/size."""
        wanted = self.config.index_model
        stored = await self._in_db(self.store.index_model)
        if stored == wanted:
            return
        if stored is not None and await self._in_db(self.store.vector_count) > 0:
            raise IndexModelChanged(stored, wanted)
        await self._in_db(self.store.set_index_model, wanted.model, wanted.dimensions)

    async def reset_for_new_model(self) -> None:
        """Drop all vectors so the next run re-embeds everything with the configured model."""
        wanted = self.config.index_model
        await self._in_db(self.store.reset_vectors, wanted.model, wanted.dimensions)

    # -- phase 1: scan, read, chunk --

    async def prepare(
        self, folders: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> tuple[IndexEstimate, IndexReport]:
        """Scan ``folders`` and store the chunks of new and changed files; no network."""
        started = time.monotonic()
        progress = _Throttle(on_progress)
        wanted = [normalise_folder(f) for f in folders]
        folder_ids = await self.sync_folders(wanted)
        state = IndexProgress(Phase.SCANNING)
        progress.emit(state, force=True)
        plans: list[_FolderPlan] = []
        for folder, folder_id in zip(wanted, folder_ids, strict=True):
            scan = await self._in_io(
                lambda f=folder: scan_folder(
                    f, max_file_size=self.config.max_file_size, exclude=_nested_folders(f, wanted)
                )
            )
            states = await self._in_db(self.store.file_states, folder_id)
            plans.append(plan_folder(folder_id, scan, states))
            state = replace(state, files_found=state.files_found + len(scan.files))
            progress.emit(state)
        to_read = sum(len(p.to_read) for p in plans)
        state = replace(state, phase=Phase.READING, files_to_read=to_read,
                        elapsed=time.monotonic() - started)
        progress.emit(state, force=True)

        reused = 0
        skipped = 0
        removed = 0
        for plan in plans:
            skipped_dirs = [
                SkippedEntry(s.path, s.reason, s.detail, True) for s in plan.scan.skipped if s.is_dir
            ]
            await self._in_db(
                lambda p=plan, d=skipped_dirs: self.store.finish_folder_scan(
                    p.folder_id, d, ignored=p.scan.ignored, missing=p.scan.missing
                )
            )
            if plan.direct:
                await self._in_db(self.store.apply, plan.folder_id, plan.direct)
                skipped += sum(isinstance(c, SkippedFile) for c in plan.direct)
                removed += sum(isinstance(c, RemovedFile) for c in plan.direct)
            batch = self.config.read_batch
            groups = [plan.to_read[i:i + batch] for i in range(0, len(plan.to_read), batch)]
            # Read the next group while the previous one is written.
            pending_read: asyncio.Future[list[FileChange]] | None = None
            for i in range(len(groups)):
                current = pending_read or asyncio.ensure_future(
                    self._in_io(read_files, groups[i], self.config.max_file_size)
                )
                pending_read = None
                try:
                    changes = await current
                except asyncio.CancelledError:
                    current.cancel()
                    raise
                if i + 1 < len(groups):
                    pending_read = asyncio.ensure_future(
                        self._in_io(read_files, groups[i + 1], self.config.max_file_size)
                    )
                try:
                    reused += await self._in_db(self.store.apply, plan.folder_id, changes)
                except BaseException:
                    if pending_read is not None:
                        pending_read.cancel()
                    raise
                skipped += sum(isinstance(c, SkippedFile) for c in changes)
                state = replace(
                    state, files_read=state.files_read + len(changes),
                    files_skipped=skipped, elapsed=time.monotonic() - started,
                )
                progress.emit(state)
            await self._in_db(self.store.mark_folder_indexed, plan.folder_id, None)

        estimate = await self.estimate()
        skipped_now = await self._in_db(self.store.skipped_file_count, [p.folder_id for p in plans])
        report = IndexReport(
            files_found=state.files_found,
            files_read=state.files_read,
            files_unchanged=sum(p.unchanged for p in plans),
            files_removed=removed,
            files_skipped=skipped_now,
            vectors_reused=reused,
            elapsed=time.monotonic() - started,
        )
        self._last_scan = replace(state, elapsed=report.elapsed)
        progress.emit(self._last_scan, force=True)
        return estimate, report

    async def estimate(self) -> IndexEstimate:
        def compute() -> IndexEstimate:
            pending = self.store.pending_chunks()
            files, _, _ = self.store.counts()
            tokens = sum(estimate_tokens(p.input) for p in pending)
            cost = tokens / 1000 * price_per_1k_tokens(self.config.model)
            batch_cost = tokens / 1000 * batch_price_per_1k_tokens(self.config.model)
            return IndexEstimate(files, len(pending), tokens, cost, self.config.model, batch_cost)

        return await self._in_db(compute)

    # -- phase 2: embed --

    async def embed_pending(
        self, on_progress: ProgressCallback | None = None, chunk_ids: Sequence[int] | None = None
    ) -> IndexReport:
        """Embed every chunk that has no vector yet (or those of ``chunk_ids`` that have none),
        except chunks an offline job carries. Raises QwenError on a failure it cannot work
        around (key, network, service); what was embedded until then is kept."""
        if self.embedder is None:
            raise QwenError(ErrorKind.NO_KEY)
        await self.check_model()
        run = _EmbedRun(self, _Throttle(on_progress), chunk_ids)
        return await run.run()

    async def run(
        self, folders: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> IndexReport:
        """A full incremental pass: :meth:`prepare` then :meth:`embed_pending`."""
        started = time.monotonic()
        _, report = await self.prepare(folders, on_progress)
        embedded = await self.embed_pending(on_progress)
        return replace(
            report,
            chunks_embedded=embedded.chunks_embedded,
            chunks_failed=embedded.chunks_failed,
            tokens=embedded.tokens,
            requests=embedded.requests,
            max_in_flight=embedded.max_in_flight,
            elapsed=time.monotonic() - started,
        )


class _Throttle:
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


class _EmbedRun:
    """One embedding pass: batches ≤ the cap, a bounded number of requests in flight."""

    PAGE = 2000  # pending chunks loaded from the store at a time

    def __init__(self, indexer: Indexer, progress: _Throttle,
                 chunk_ids: Sequence[int] | None = None) -> None:
        self.ix = indexer
        self.chunk_ids = chunk_ids
        self.config = indexer.config
        self.embedder = indexer.embedder
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
            self.ix._last_scan,
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
        pending = await self.ix._in_db(self.ix.store.pending_chunks, None, self.chunk_ids)
        self.total = len(pending)
        self.progress.emit(self._state(), force=True)
        queue: asyncio.Queue[list[PendingChunk] | None] = asyncio.Queue()
        cap = self.ix._cap
        for i in range(0, len(pending), cap):
            queue.put_nowait(pending[i:i + cap])
        workers = max(1, self.config.concurrency)
        for _ in range(workers):
            queue.put_nowait(None)
        tasks = [asyncio.ensure_future(self._worker(queue)) for _ in range(workers)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
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
            cap = self.ix._cap
            for i in range(0, len(batch), cap):
                await self._embed(batch[i:i + cap])

    def _on_wait(self, seconds: float, attempt: int, error: QwenError) -> None:
        self.retry_in = seconds
        self.retry_reason = error.kind
        log.info("embedding: %s, retry %d in %.1f s", error.kind, attempt, seconds)
        self.progress.emit(self._state(), force=True)

    async def _request(self, batch: list[PendingChunk]) -> Any:
        embedder = self.embedder
        assert embedder is not None
        # An index built offline with text-embedding-async-v* goes on live with its counterpart.
        model = live_model(self.config.model)
        dims = request_dimensions(model, self.config.dimensions)
        texts = [c.input for c in batch]

        async def once() -> Any:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await embedder.embed(
                    texts, model=model, dimensions=dims, text_type="document"
                )
            finally:
                self.in_flight -= 1

        result = await call_with_retries(once, self.config.retry, self._on_wait)
        self.retry_in = None
        self.retry_reason = None
        return result

    async def _embed(self, batch: list[PendingChunk]) -> None:
        try:
            result = await self._request(batch)
        except QwenError as error:
            if error.kind is ErrorKind.BATCH_TOO_LARGE and error.limit and error.limit < len(batch):
                log.info("embedding cap is %d, splitting", error.limit)
                self.ix._cap = min(self.ix._cap, error.limit)
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
                await self.ix._in_db(self.ix.store.mark_embed_failed, [batch[0].id])
                self.failed += 1
                self.progress.emit(self._state())
                return
            raise
        dims = self.config.index_model.dimensions
        matrix = unit_vectors(result.vectors, dims)
        items = [(c.id, matrix[i].tobytes()) for i, c in enumerate(batch)]
        await self.ix._in_db(self.ix.store.save_vectors, items)
        self.embedded += len(batch)
        self.tokens += int(result.total_tokens or 0)
        self.progress.emit(self._state())
