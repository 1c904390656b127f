"""The notes workflows, written once for the window and the command line.

:class:`NotesService` owns the notes folders (add, remove, status), index runs with their policy
(estimate first; above the large-run threshold the user chooses between now and batch mode; a
changed embedding model needs a rebuild; no key means keyword search only), the offline batch
jobs (submit, poll, import, cancel, live retry of leftovers), search, and the retriever that chat
uses to answer from the notes. It keeps **one** :class:`Indexer` and **one** searcher for the
process, so every face shares the same database thread and the same vectors in memory, and it
lets only one index run write at a time.

Faces call its coroutines and render what they return and emit: :class:`IndexOutcome` for a run,
:class:`NotesEvent` values while it goes. Cancelling the calling task cancels the run; what was
indexed until then is kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from desktop.core.ask import SearcherRetriever
from desktop.core.client import QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.batch import (
    BatchConfig,
    BatchIndexer,
    BatchUnavailable,
    JobOutcome,
    SubmitReport,
)
from desktop.core.notes.index import Indexer
from desktop.core.notes.index_reading import normalise_folder
from desktop.core.notes.index_records import (
    IndexConfig,
    IndexEstimate,
    IndexModelChanged,
    IndexProgress,
    IndexReport,
)
from desktop.core.notes.jobs import BatchJob, Interface
from desktop.core.notes.models import Embedder
from desktop.core.notes.rerank import reranked_search, reranker_for, rerank_model_for
from desktop.core.notes.ocr_run import OcrEstimate, OcrPrepared, OcrProgressed, OcrReport, ocr_step
from desktop.core.notes.runlock import RunLock
from desktop.core.recovery import DataFile, Recovery, is_corruption, set_aside
from desktop.core.notes.search import SearchResults, SharedSearcher
from desktop.core.notes.store_records import FolderStatus, IndexModel, SkippedEntry
from desktop.core.settings import Settings

log = logging.getLogger(__name__)


def damaged(exc: sqlite3.DatabaseError) -> QwenError:
    """Damage becomes the INDEX_DAMAGED error; other SQLite errors (locked, disk full) go on as they are."""
    if not is_corruption(exc):
        raise exc
    return QwenError(ErrorKind.INDEX_DAMAGED, str(exc))


class SettingsHolder(Protocol):
    """Where the service reads the settings and saves the folder list (the application's session)."""

    @property
    def settings(self) -> Settings: ...

    @settings.setter
    def settings(self, value: Settings) -> None: ...

    def client(self) -> Embedder: ...  # raises QwenError (NO_KEY …) when there is no connection


# ---- what a run says while it goes, and how it ended ------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexProgressed:
    progress: IndexProgress


@dataclass(frozen=True, slots=True)
class IndexPrepared:
    """Files are read and chunked; this is what embedding them will cost."""

    report: IndexReport
    estimate: IndexEstimate


@dataclass(frozen=True, slots=True)
class BatchFallback:
    """Batch mode was asked for but is not available here; the run goes on live."""

    detail: str


@dataclass(frozen=True, slots=True)
class JobsUpdated:
    """The pending batch jobs after a polling round (empty when none is left)."""

    jobs: tuple[BatchJob, ...]


NotesEvent = IndexProgressed | IndexPrepared | BatchFallback | JobsUpdated | OcrPrepared | OcrProgressed
EventSink = Callable[[NotesEvent], None]


class RunMode(StrEnum):
    AUTO = "auto"  # live, unless the run is above the large-run threshold: then ask (CHOOSE)
    LIVE = "live"  # embed now, however large
    BATCH = "batch"  # send as offline jobs (falls back to live where batch mode is unavailable)


class RunResult(StrEnum):
    DONE = "done"  # embedded what was pending
    UP_TO_DATE = "up_to_date"  # nothing was pending
    KEYWORDS_ONLY = "keywords_only"  # notes are read; embedding needs an API key
    CHOOSE = "choose"  # above the parts or cost threshold: ask for LIVE or BATCH, then run again
    BATCH_UNAVAILABLE = "batch_unavailable"  # BATCH asked, not offered here: ask before going LIVE
    SUBMITTED = "submitted"  # sent as batch jobs; results come later
    MODEL_CHANGED = "model_changed"  # the index holds another model's vectors: rebuild, after asking
    FAILED = "failed"  # the service or network failed; what was indexed is kept
    BUSY = "busy"  # another process (the window, the command line) is indexing these notes now
    DAMAGED = "damaged"  # the index database is damaged: index again with rebuild=True, after asking
    CONFIRM_OCR = "confirm_ocr"  # scans and photos to read (ocr_estimate): ask, then ocr_confirmed=True


@dataclass(frozen=True, slots=True)
class IndexOutcome:
    result: RunResult
    report: IndexReport | None = None  # the reading phase
    estimate: IndexEstimate | None = None
    embedded: IndexReport | None = None  # the embedding phase, when it ran
    submitted: SubmitReport | None = None
    interface: Interface | None = None  # of the submitted jobs
    batch_fallback: str | None = None  # why batch mode was not used, when it was asked for
    model_change: IndexModelChanged | None = None
    error: QwenError | None = None
    ocr_estimate: OcrEstimate | None = None  # scans and photos found (with OCR on)
    ocr: OcrReport | None = None  # what reading them did, pages that failed included

    @property
    def ok(self) -> bool:
        return self.result not in (RunResult.FAILED, RunResult.MODEL_CHANGED, RunResult.BUSY,
                                   RunResult.DAMAGED)


class AddResult(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    NOT_A_FOLDER = "not_a_folder"


@dataclass(frozen=True, slots=True)
class FolderView:
    path: str
    status: FolderStatus | None  # None: never indexed


@dataclass(frozen=True, slots=True)
class FolderReport:
    folders: tuple[FolderView, ...]
    model: IndexModel | None  # what the stored vectors were made with


@dataclass(frozen=True, slots=True)
class JobsCheck:
    """Pending jobs polled until none was left: how each ended, and whether leftovers need a live run."""

    outcomes: tuple[JobOutcome, ...]

    @property
    def needs_live_retry(self) -> bool:
        return any(o.needs_live_retry for o in self.outcomes)


# ---- the service ------------------------------------------------------------------------------


@dataclass
class _RunSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[object] | None = None


class NotesService:
    def __init__(self, holder: SettingsHolder, db_path: str | Path,
                 batch_config: BatchConfig | None = None) -> None:
        self.holder = holder
        self.db_path = Path(db_path)
        self.batch_config = batch_config or BatchConfig()
        self.searchers = SharedSearcher(self.db_path)
        # Folders in the index that the settings do not list are forgotten by an index run only
        # when the folder list can be trusted: not after the settings file failed to load.
        self.forget_missing_folders = True
        self.recoveries: list[Recovery] = []  # damaged index databases set aside by a rebuild
        self._indexer: Indexer | None = None
        self._opening: asyncio.Lock | None = None
        self._run: _RunSlot | None = None
        self._closed = False

    # -- shared pieces -----------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.holder.settings

    @property
    def folders(self) -> list[str]:
        return list(self.settings.notes_folders)

    def embedder(self) -> Embedder | None:
        """The client for embeddings, or None without a key (keyword search only)."""
        try:
            return self.holder.client()
        except QwenError:
            return None

    async def indexer(self) -> Indexer:
        """The process's one indexer, configured from the current settings and key."""
        if self._closed:
            raise RuntimeError("the notes service is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._indexer is None:
                try:
                    self._indexer = await Indexer.open(self.db_path, IndexConfig.from_settings(self.settings))
                except sqlite3.DatabaseError as exc:
                    raise damaged(exc) from exc
        self._indexer.configure(IndexConfig.from_settings(self.settings), self.embedder())
        return self._indexer

    def _batch(self, indexer: Indexer) -> BatchIndexer:
        return BatchIndexer(indexer, self.batch_config)

    def _slot(self) -> _RunSlot:
        if self._run is None:
            self._run = _RunSlot()
        return self._run

    def indexing(self) -> bool:
        task = self._slot().task
        return task is not None and not task.done()

    async def aclose(self) -> None:
        self._closed = True
        await self.cancel_run()
        await self.searchers.close()
        if self._indexer is not None:
            indexer, self._indexer = self._indexer, None
            await indexer.close()

    async def replace_index(self, replace: Callable[[], None]) -> None:
        """Stop what uses the index, run ``replace`` (off the loop) while it is closed; it is opened
        again when next needed (a restore puts a backup's index in place this way)."""
        await self.cancel_run()
        await self.searchers.close()
        if self._indexer is not None:
            indexer, self._indexer = self._indexer, None
            await indexer.close()
        await asyncio.get_running_loop().run_in_executor(None, replace)

    # -- folders -----------------------------------------------------------------------------

    def add_folder(self, path: str | Path) -> tuple[AddResult, str]:
        """Add a folder to the settings (the caller starts an index run when it wants one)."""
        folder = normalise_folder(path)
        if folder in self.folders:
            return AddResult.ALREADY, folder
        if not os.path.isdir(folder):
            return AddResult.NOT_A_FOLDER, folder
        self.holder.settings = self.settings.replace(notes_folders=[*self.folders, folder])
        return AddResult.ADDED, folder

    async def remove_folder(self, path: str | Path) -> bool:
        """Stop searching a folder: out of the settings, its index dropped (files untouched).

        A run in progress is cancelled first, so it cannot write the folder back."""
        folder = normalise_folder(path)
        if folder not in self.folders:
            return False
        self.holder.settings = self.settings.replace(notes_folders=[f for f in self.folders if f != folder])
        await self.cancel_run()
        indexer = await self.indexer()
        await indexer.in_db(indexer.store.remove_folder, folder)
        return True

    async def folder_report(self) -> FolderReport:
        indexer = await self.indexer()

        def read() -> tuple[dict[str, FolderStatus], IndexModel | None]:
            return {s.path: s for s in indexer.store.folder_statuses()}, indexer.store.index_model()

        try:
            statuses, model = await indexer.in_db(read)
        except sqlite3.DatabaseError as exc:
            raise damaged(exc) from exc
        return FolderReport(tuple(FolderView(f, statuses.get(f)) for f in self.folders), model)

    async def skipped(self, folder: str) -> list[SkippedEntry]:
        indexer = await self.indexer()
        return await indexer.in_db(indexer.store.skipped, folder)

    # -- index runs --------------------------------------------------------------------------

    async def index(self, *, mode: RunMode = RunMode.AUTO, rebuild: bool = False,
                    on_event: EventSink | None = None, live_fallback: bool = False,
                    ocr: bool | None = None, ocr_confirmed: bool = False) -> IndexOutcome:
        """Bring the index up to date: read the folders, then embed what is new (or ask first).

        A run above the large-run threshold (parts or estimated cost) ends as CHOOSE in AUTO mode;
        BATCH mode where batch is not offered ends as BATCH_UNAVAILABLE unless ``live_fallback``.
        With ``ocr`` (by default the "Read scanned documents and photos" setting) scans and photos
        not read yet are counted first: CONFIRM_OCR asks before they are sent, unless
        ``ocr_confirmed``.

        One run at a time: a second call waits for the first; while another process indexes the
        same database the result is BUSY at once. Raises CancelledError when the calling task is
        cancelled (what was done is kept)."""
        slot = self._slot()
        async with slot.lock:
            slot.task = asyncio.current_task()
            lock = RunLock(self.db_path)
            try:
                if not lock.try_acquire():
                    return IndexOutcome(RunResult.BUSY)
                if rebuild and await self._is_damaged():
                    await self._set_aside_index()
                try:
                    return await self._index(mode, rebuild, on_event or (lambda _event: None),
                                             live_fallback, self.settings.ocr_notes if ocr is None else ocr,
                                             ocr_confirmed)
                except sqlite3.DatabaseError as exc:
                    error = damaged(exc)
                    log.error("the notes index is damaged: %s", exc)
                    return IndexOutcome(RunResult.DAMAGED, error=error)
                except QwenError as error:  # the database could not even be opened
                    if error.kind is not ErrorKind.INDEX_DAMAGED:
                        raise
                    return IndexOutcome(RunResult.DAMAGED, error=error)
            finally:
                lock.release()
                slot.task = None

    async def cancel_run(self) -> None:
        """Cancel the index run in progress, if any, and wait until it has stopped."""
        slot = self._slot()
        task = slot.task
        if task is None or task.done() or task is asyncio.current_task():
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _index(self, mode: RunMode, rebuild: bool, emit: EventSink,
                     live_fallback: bool, ocr: bool = False, ocr_confirmed: bool = False) -> IndexOutcome:
        found: list[tuple[OcrEstimate, OcrReport | None]] = []
        outcome = await self._index_body(mode, rebuild, emit, live_fallback, ocr, ocr_confirmed, found)
        if found and outcome.result is not RunResult.CONFIRM_OCR:
            outcome = replace(outcome, ocr_estimate=found[0][0], ocr=found[0][1])
        return outcome

    async def _index_body(self, mode: RunMode, rebuild: bool, emit: EventSink, live_fallback: bool,
                          ocr: bool, ocr_confirmed: bool,
                          found: list[tuple[OcrEstimate, OcrReport | None]]) -> IndexOutcome:
        indexer = await self.indexer()
        indexer.configure(replace(indexer.config, ocr=ocr), indexer.embedder)
        threshold = self.settings.batch_threshold_chunks
        cost_threshold = self.settings.confirm_cost_cny
        try:
            if rebuild:
                await indexer.reset_for_new_model()
            if ocr and isinstance(indexer.embedder, QwenClient):  # (reading scans needs the key)
                ocr_estimate, ocr_report = await ocr_step(
                    indexer, self.folders, indexer.embedder, confirmed=ocr_confirmed,
                    emit=emit)  # type: ignore[arg-type]
                found.append((ocr_estimate, ocr_report))
                if ocr_report is None:
                    return IndexOutcome(RunResult.CONFIRM_OCR, ocr_estimate=ocr_estimate)
            estimate, report = await indexer.prepare(self.folders, lambda p: emit(IndexProgressed(p)),
                                                     forget_others=self.forget_missing_folders)
            emit(IndexPrepared(report, estimate))
            if indexer.embedder is None:
                return IndexOutcome(RunResult.KEYWORDS_ONLY, report, estimate, error=QwenError(ErrorKind.NO_KEY))
            if estimate.chunks == 0:
                await indexer.check_model()
                return IndexOutcome(RunResult.UP_TO_DATE, report, estimate)
            if mode is RunMode.AUTO and (estimate.chunks > threshold or estimate.cost_cny > cost_threshold):
                await indexer.check_model()
                return IndexOutcome(RunResult.CHOOSE, report, estimate)
            fallback = None
            if mode is RunMode.BATCH:
                await indexer.check_model()
                batch = self._batch(indexer)
                try:
                    submitted = await batch.submit()
                except BatchUnavailable as exc:
                    log.warning("batch mode unavailable: %s", exc)
                    if not live_fallback:  # live costs about twice as much: the user decides
                        return IndexOutcome(RunResult.BATCH_UNAVAILABLE, report, estimate,
                                            batch_fallback=exc.detail)
                    fallback = exc.detail
                    emit(BatchFallback(exc.detail))
                else:
                    return IndexOutcome(RunResult.SUBMITTED, report, estimate, submitted=submitted,
                                        interface=batch.interface)
            embedded = await indexer.embed_pending(lambda p: emit(IndexProgressed(p)))
            return IndexOutcome(RunResult.DONE, report, estimate, embedded, batch_fallback=fallback)
        except IndexModelChanged as exc:
            return IndexOutcome(RunResult.MODEL_CHANGED, model_change=exc)
        except QwenError as error:
            if error.kind is ErrorKind.INDEX_DAMAGED:
                return IndexOutcome(RunResult.DAMAGED, error=error)
            log.info("index run failed: %s", error.kind)
            return IndexOutcome(RunResult.FAILED, error=error)

    async def _is_damaged(self) -> bool:
        """Whether the database cannot be opened or fails SQLite's check (for a rebuild only: the
        check reads every page)."""
        if not self.db_path.exists():
            return False
        try:
            indexer = await self.indexer()
            rows = await indexer.in_db(indexer.store.quick_check)
        except QwenError as exc:
            log.error("the notes index cannot be read: %s", exc)
            return exc.kind is ErrorKind.INDEX_DAMAGED
        except sqlite3.DatabaseError as exc:
            log.error("the notes index cannot be read: %s", exc)
            return is_corruption(exc)
        return rows != ["ok"]

    async def _set_aside_index(self) -> None:
        """Close the damaged database, move it aside (never deleted) and start a new one."""
        await self.searchers.close()
        if self._indexer is not None:
            indexer, self._indexer = self._indexer, None
            try:
                await indexer.close()
            except sqlite3.DatabaseError:
                pass
        kept_at = set_aside(self.db_path)
        self.recoveries.append(Recovery(DataFile.NOTES, kept_at, None, "damaged"))

    # -- batch jobs --------------------------------------------------------------------------

    async def jobs(self, *, pending_only: bool = False) -> list[BatchJob]:
        indexer = await self.indexer()
        return await self._batch(indexer).list_jobs(pending_only=pending_only)

    async def wait_for_jobs(self, *, retry_live: bool, on_event: EventSink | None = None) -> JobsCheck:
        """Poll the pending jobs until each has ended, importing their results as they arrive.

        With ``retry_live`` what a job did not deliver is embedded live at the end; otherwise
        :attr:`JobsCheck.needs_live_retry` says that an index run should follow. Raises
        QwenError(NO_KEY) without a key, and QwenError for failures it cannot wait out."""
        indexer = await self.indexer()
        if indexer.embedder is None:
            raise QwenError(ErrorKind.NO_KEY)
        emit = on_event or (lambda _event: None)
        outcomes = await self._batch(indexer).wait(
            lambda jobs: emit(JobsUpdated(tuple(jobs))), retry_live=retry_live,
            on_progress=lambda p: emit(IndexProgressed(p)))
        return JobsCheck(tuple(outcomes))

    async def poll_jobs(self) -> JobsCheck:
        """Ask about every pending job once; import those that ended."""
        indexer = await self.indexer()
        if indexer.embedder is None:
            raise QwenError(ErrorKind.NO_KEY)
        return JobsCheck(tuple(await self._batch(indexer).poll_all()))

    async def cancel_job(self, job_id: int) -> BatchJob | None:
        """Cancel a job on the service; None when there is no such job. Raises CannotCancel."""
        indexer = await self.indexer()
        if indexer.embedder is None:
            raise QwenError(ErrorKind.NO_KEY)
        return await self._batch(indexer).cancel(job_id)

    # -- search ------------------------------------------------------------------------------

    async def search(self, query: str, k: int = 10, *, keyword_only: bool = False,
                     best_first: bool = False) -> SearchResults:
        """Hybrid search; with ``best_first`` the hits reordered by the rerank model of the
        settings (the fused order, logged, when it cannot be asked)."""
        try:
            searcher = await self.searchers.get()
            searcher.embedder = None if keyword_only else self.embedder()
            if best_first and not keyword_only:
                reranker = reranker_for(searcher.embedder, True)
                model = rerank_model_for(self.holder.settings.rerank_model)
                return await reranked_search(searcher, reranker, query, k, model)
            return await searcher.search(query, k=k, keyword_only=keyword_only)
        except sqlite3.DatabaseError as exc:
            error = damaged(exc)
            log.error("the notes index is damaged: %s", exc)
            return SearchResults(query, (), True, error)

    async def retriever(self) -> SearcherRetriever:
        """What chat looks questions up with: the shared searcher, with the current client."""
        try:
            searcher = await self.searchers.get()
        except sqlite3.DatabaseError as exc:
            raise damaged(exc) from exc
        searcher.embedder = client = self.embedder()
        settings = self.holder.settings
        return SearcherRetriever(searcher, reranker=reranker_for(client, settings.rerank_notes),
                                 rerank_model=rerank_model_for(settings.rerank_model))
