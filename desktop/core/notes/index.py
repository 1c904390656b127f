"""The index run: scan → read and chunk → embed, incremental, checkpointed and cancellable.

One :class:`Indexer` serves the window and the command line. Blocking work goes to executors:
scanning and reading to a small pool, every store call to a single "db" thread (so the SQLite
connection is only ever used from one thread). The run is a coroutine; cancel its task to stop.
Every embedded batch is written as it arrives, so Cancel, a crash or a lost network never costs a
re-embed: the next run picks up the chunks that still have no vector.

Phases: :meth:`Indexer.prepare` scans, reads and stores chunks (no network) and returns an
:class:`IndexEstimate` of what embedding will cost; :meth:`Indexer.embed_pending` sends the
chunks; :meth:`Indexer.run` does both. The run's values live in
:mod:`~desktop.core.notes.index_records`, reading and planning in
:mod:`~desktop.core.notes.index_reading`, the embedding pass in
:mod:`~desktop.core.notes.index_embedding`; the names the faces use are re-exported here.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.bounded import call_bounded
from desktop.core.notes.embed_endpoint import COMPATIBLE, ChoosingEmbedder, embedder_for, native_embedder
from desktop.core.notes.index_embedding import EmbeddingCap, EmbedRun
from desktop.core.notes.index_reading import (
    FolderPlan,
    nested_folders,
    normalise_folder,
    plan_folder,
    read_files,
)
from desktop.core.notes.index_records import (
    PHASE_LABELS,
    IndexConfig,
    IndexEstimate,
    IndexModelChanged,
    IndexProgress,
    IndexReport,
    Phase,
    ProgressCallback,
    ProgressThrottle,
)
from desktop.core.notes.models import (
    Embedder,
    batch_price_per_1k_tokens,
    embedding_cap,
    estimate_tokens,
    price_per_1k_tokens,
)
from desktop.core.notes.ocr import IMAGE_SUFFIXES, cached_texts
from desktop.core.notes.scanner import scan_folder
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import FileChange, RemovedFile, SkippedEntry, SkippedFile

# What the faces import from here (the window's and the command line's view of an index run).
__all__ = [
    "PHASE_LABELS", "IndexConfig", "IndexEstimate", "IndexModelChanged", "IndexProgress",
    "IndexReport", "Indexer", "Phase", "ProgressCallback", "normalise_folder",
]

T = TypeVar("T")


class Indexer:
    """Runs index passes over a :class:`NoteStore`. Create with :meth:`open` inside the loop."""

    def __init__(self, store: NoteStore, config: IndexConfig, embedder: Embedder | None,
                 db_executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.config = config
        self.embedder = embedder
        self.reread: set[str] = set()  # files to read again although unchanged (scans read by OCR)
        self._db = db_executor
        self._io = ThreadPoolExecutor(config.read_workers, thread_name_prefix="notes-read")
        self._cap = EmbeddingCap(embedding_cap(config.model))
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
        self._cap = EmbeddingCap(embedding_cap(config.model))

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

    async def sync_folders(self, folders: Sequence[str], *, forget_others: bool = True) -> list[int]:
        """Make the store's folder list equal ``folders``: removed folders lose their index, unless
        ``forget_others`` is False (the folder list may be incomplete: settings that failed to load)."""
        wanted = [normalise_folder(f) for f in folders]
        stored = await self._in_db(self.store.folder_paths)
        for path in stored:
            if forget_others and path not in wanted:
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

    def _ocr_texts(self) -> dict[str, str]:
        with self.store.reading() as db:
            return cached_texts(db)

    async def endpoint_embedder(self) -> Embedder:
        """What embeds this index's chunks: through the endpoint it was embedded with, or, for
        an empty index, the one its first request settles (one index never mixes the two; see
        :mod:`~desktop.core.notes.embed_endpoint`)."""
        assert self.embedder is not None
        stored = await self._in_db(self.store.embedding_endpoint)
        if stored is None and await self._in_db(self.store.vector_count) > 0:
            stored = COMPATIBLE  # vectors from before the choice
            await self._in_db(self.store.set_embedding_endpoint, stored)
        native = native_embedder(self.embedder)
        if stored is None and native is not None:
            async def record(endpoint: str) -> None:
                await self._in_db(self.store.set_embedding_endpoint, endpoint)

            return ChoosingEmbedder(self.embedder, native, record)
        return embedder_for(self.embedder, stored)

    async def reset_for_new_model(self) -> None:
        """Drop all vectors so the next run re-embeds everything with the configured model."""
        wanted = self.config.index_model
        await self._in_db(self.store.reset_vectors, wanted.model, wanted.dimensions)

    # -- phase 1: scan, read, chunk --

    async def prepare(
        self, folders: Sequence[str], on_progress: ProgressCallback | None = None, *,
        forget_others: bool = True,
    ) -> tuple[IndexEstimate, IndexReport]:
        """Scan ``folders`` and store the chunks of new and changed files; no network. Folders in
        the index but not in ``folders`` are dropped unless ``forget_others`` is False."""
        stop = threading.Event()  # set when the run ends, so a read still stuck is let go
        try:
            return await self._prepare(folders, on_progress, forget_others, stop)
        finally:
            stop.set()

    async def _prepare(
        self, folders: Sequence[str], on_progress: ProgressCallback | None, forget_others: bool,
        stop: threading.Event,
    ) -> tuple[IndexEstimate, IndexReport]:
        started = time.monotonic()
        progress = ProgressThrottle(on_progress)
        wanted = [normalise_folder(f) for f in folders]
        folder_ids = await self.sync_folders(wanted, forget_others=forget_others)
        state = IndexProgress(Phase.SCANNING)
        progress.emit(state, force=True)
        plans: list[FolderPlan] = []
        ocr = self.config.ocr
        scan = functools.partial(scan_folder, max_file_size=self.config.max_file_size, allowed=wanted,
                                 extra_suffixes=IMAGE_SUFFIXES if ocr else ())
        for folder, folder_id in zip(wanted, folder_ids, strict=True):
            # On a daemon thread, let go when the run ends: a stuck share can hang a scan too.
            found = await self._in_io(lambda f=folder: call_bounded(
                lambda: scan(f, exclude=nested_folders(f, wanted)), timeout=None, stop=stop))
            states = await self._in_db(self.store.file_states, folder_id)
            plans.append(plan_folder(folder_id, found, states, ocr=ocr, reread=self.reread))
            state = replace(state, files_found=state.files_found + len(found.files))
            progress.emit(state)
        to_read = sum(len(p.to_read) for p in plans)
        state = replace(state, phase=Phase.READING, files_to_read=to_read,
                        elapsed=time.monotonic() - started)
        progress.emit(state, force=True)

        ocr_texts = await self._in_db(self._ocr_texts) if ocr else None
        self.reread = set()
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
            read = functools.partial(read_files, max_file_size=self.config.max_file_size,
                                     timeout=self.config.read_timeout, stop=stop, ocr_texts=ocr_texts)
            # Read the next group while the previous one is written.
            pending_read: asyncio.Future[list[FileChange]] | None = None
            for i in range(len(groups)):
                current = pending_read or asyncio.ensure_future(self._in_io(read, groups[i]))
                pending_read = None
                try:
                    changes = await current
                except asyncio.CancelledError:
                    current.cancel()
                    raise
                if i + 1 < len(groups):
                    pending_read = asyncio.ensure_future(self._in_io(read, groups[i + 1]))
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
        embedder = await self.endpoint_embedder()
        run = EmbedRun(self, self.config, embedder, self._cap, self._last_scan,
                       ProgressThrottle(on_progress), chunk_ids)
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
