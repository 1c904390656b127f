"""Bulk indexing through DashScope's offline interfaces: submit, poll, import, cancel, resume.

For tens of thousands of notes, live embedding crawls under the per-minute limits; offline it is
not throttled, and with the OpenAI-compatible Batch API it costs half (reference §5).
:class:`BatchIndexer` works beside an :class:`~desktop.core.notes.index.Indexer` (same store,
same db thread, same client) and is used alike by the window and the command line:

1. :meth:`BatchIndexer.submit` writes the pending chunks into input files (split above the
   per-file limits), uploads them, creates one job per file and records each job, with which
   chunk every input line stands for, in the notes database. The chunks are reserved: live runs
   leave them alone while the job runs.
2. :meth:`BatchIndexer.wait` polls the pending jobs (with backoff, and at most once a minute once
   a job runs, :class:`PollSchedule`), downloads the results of each finished one and stores the
   vectors. Since jobs live in the database, a job submitted before the app was closed is picked
   up again by the next ``wait`` — in the next session, or from the command line.
3. Results for chunks that no longer exist (a note changed or was removed meanwhile) are dropped:
   chunk ids are never reused, and the changed note's new chunks are pending like any other.
   Lines the service failed are retried: in a new job when there are many, else live.
4. :meth:`BatchIndexer.cancel` cancels on the service and lifts the reservation when it ends.

Where the service does not offer offline embedding (model, region, account — not confirmed by
the sources) the calls raise :class:`~desktop.core.notes.batch_remote.BatchUnavailable`: the
caller says so and indexes live instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.batch_files import (
    BatchPart,
    LineResult,
    ResultFormatError,
    decode_vector,
    read_native_results,
    read_openai_results,
    write_native_parts,
    write_openai_parts,
)
from desktop.core.notes.batch_remote import (
    BatchBackend,
    BatchUnavailable,
    CannotCancel,
    NativeTaskBackend,
    OpenAIBatchBackend,
    RemoteStatus,
)
from desktop.core.notes.index import Indexer
from desktop.core.notes.index_embedding import unit_vectors
from desktop.core.notes.index_records import ProgressCallback
from desktop.core.notes.embed_endpoint import COMPATIBLE, NATIVE
from desktop.core.notes.jobs import ENDED_STATUSES, BatchJob, Interface, JobStatus, JobStore
from desktop.core.notes.models import (
    batch_price_per_1k_tokens,
    embedding_cap,
    estimate_tokens,
    is_async_model,
    request_dimensions,
)
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import IndexModel, PendingChunk

__all__ = [
    "BatchConfig", "BatchIndexer", "BatchUnavailable", "CannotCancel", "JobOutcome", "PollSchedule",
    "SubmitReport",
]

log = logging.getLogger(__name__)

ENV_POLL_SCALE = "QWEN_DESKTOP_POLL_SCALE"
STALE_SUBMIT_SECONDS = 6 * 3600  # a job still "sending" after this was cut off by a crash
_TRANSIENT = frozenset({ErrorKind.NETWORK, ErrorKind.TIMEOUT, ErrorKind.PROXY, ErrorKind.SERVICE_DOWN,
                        ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED})


def _env_scale() -> float:
    """A factor for every poll interval from ``QWEN_DESKTOP_POLL_SCALE`` (0 in command-line tests)."""
    try:
        scale = float(os.environ.get(ENV_POLL_SCALE, "") or 1.0)
    except ValueError:
        return 1.0
    return scale if scale >= 0 else 1.0


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """When to look at a job again: soon after submitting, then less and less often; never more
    than once a minute while the service runs it (reference §5)."""

    first: float = 15.0
    running_min: float = 60.0
    maximum: float = 600.0
    factor: float = 1.5
    scale: float = field(default_factory=_env_scale)  # multiplies every interval (tests: 0)

    def next_interval(self, previous: float | None, status: JobStatus) -> float:
        interval = self.first if previous is None else previous * self.factor
        if status in (JobStatus.IN_PROGRESS, JobStatus.FINALIZING, JobStatus.CANCELLING):
            interval = max(interval, self.running_min)
        return min(interval, self.maximum)

    def seconds(self, interval: float) -> float:
        return interval * self.scale


@dataclass(frozen=True, slots=True)
class BatchConfig:
    completion_window: str = "24h"
    max_lines: int = 50_000  # Batch API: lines per input file
    max_bytes: int = 450_000_000  # Batch API: 500 MB per file, less a margin
    native_max_lines: int = 100_000  # native task API: lines per input file
    native_max_bytes: int = 90 * 1024 * 1024  # temporary storage: 100 MB per file, less a margin
    retry_in_batch_from: int = 2000  # failed chunks: this many or more go to a new job, else live
    keep_days: float = 30.0  # ended jobs are listed (and kept in the database) this long
    poll: PollSchedule = field(default_factory=PollSchedule)


@dataclass(frozen=True, slots=True)
class SubmitReport:
    jobs: tuple[BatchJob, ...]
    chunks: int
    tokens: int  # estimated
    cost_cny: float  # estimated, at the offline price


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ended, once its results are in the index."""

    job: BatchJob
    vectors_saved: int
    results_dropped: int  # for chunks that changed or went while the job ran
    lines_failed: int
    left: tuple[int, ...]  # chunks it delivered no vector for: pending again
    retried_in: int | None = None  # the job that retries ``left``, when one was submitted

    @property
    def needs_live_retry(self) -> bool:
        return bool(self.left) and self.retried_in is None and not self.job.cancel_requested


@dataclass(frozen=True, slots=True)
class _Imported:
    saved: int
    dropped: int
    failed: int
    tokens: int


UpdateCallback = Callable[[list[BatchJob]], None]


class BatchIndexer:
    """Offline embedding for one :class:`Indexer` (its store, db thread and client)."""

    def __init__(self, indexer: Indexer, config: BatchConfig | None = None,
                 backends: Mapping[Interface, BatchBackend] | None = None) -> None:
        self.ix = indexer
        self.config = config or BatchConfig()
        self.jobs = JobStore(indexer.store)
        self._backends: dict[Interface, BatchBackend] = dict(backends or {})

    @property
    def interface(self) -> Interface:
        """The interface new jobs use: the native task API for the async models, else Batch API."""
        return Interface.NATIVE if is_async_model(self.ix.config.model) else Interface.OPENAI

    def backend(self, interface: Interface) -> BatchBackend:
        if (backend := self._backends.get(interface)) is not None:
            return backend
        from desktop.core.client import QwenClient

        client = self.ix.embedder
        if client is None:
            raise QwenError(ErrorKind.NO_KEY)
        if not isinstance(client, QwenClient):
            raise QwenError(ErrorKind.BAD_REQUEST, "offline embedding needs the DashScope client")
        backend = (NativeTaskBackend(client) if interface is Interface.NATIVE
                   else OpenAIBatchBackend(client, self.config.completion_window))
        self._backends[interface] = backend
        return backend

    async def _update(self, job_id: int, **fields: Any) -> BatchJob:
        return await self.ix.in_db(functools.partial(self.jobs.update, job_id, **fields))

    async def list_jobs(self, *, pending_only: bool = False) -> list[BatchJob]:
        return await self.ix.in_db(functools.partial(self.jobs.select, pending_only=pending_only))

    # -- submitting --------------------------------------------------------------------------

    async def submit(self, chunk_ids: Sequence[int] | None = None, *, attempt: int = 1) -> SubmitReport:
        """Send every pending chunk (or those of ``chunk_ids``) as offline jobs; returns at once.

        Raises :class:`BatchUnavailable` (nothing was sent: index live), ``QwenError`` or
        ``IndexModelChanged``. Jobs sent before a failure stay recorded and are polled as usual.
        """
        await self.ix.check_model()
        pending: list[PendingChunk] = await self.ix.in_db(self.ix.store.pending_chunks, None, chunk_ids)
        if not pending:
            return SubmitReport((), 0, 0, 0.0)
        interface = self.interface
        await self._settle_endpoint(interface)
        backend = self.backend(interface)
        model = self.ix.config.model
        dimensions = self.ix.config.index_model.dimensions
        workdir = Path(await self.ix.in_io(functools.partial(tempfile.mkdtemp, prefix="qwen-batch-")))
        try:
            parts = await self.ix.in_io(self._write_parts, pending, workdir, interface)
            jobs = [await self._submit_part(backend, part, model, dimensions, attempt) for part in parts]
        finally:
            await self.ix.in_io(functools.partial(shutil.rmtree, workdir, ignore_errors=True))
        tokens = sum(estimate_tokens(c.input) for c in pending)
        log.info("submitted %d chunks in %d %s job(s)", len(pending), len(jobs), interface.value)
        return SubmitReport(tuple(jobs), len(pending), tokens,
                            tokens / 1000 * batch_price_per_1k_tokens(model))

    async def _settle_endpoint(self, interface: Interface) -> None:
        """Offline jobs embed through one endpoint (the Batch API: compatible mode; the task API:
        native): an index embedded through the other is refused, so it never mixes the two."""
        wanted = NATIVE if interface is Interface.NATIVE else COMPATIBLE
        store = self.ix.store
        stored = await self.ix.in_db(store.embedding_endpoint)
        if stored is None:
            stored = wanted if await self.ix.in_db(store.vector_count) == 0 else COMPATIBLE
            await self.ix.in_db(store.set_embedding_endpoint, stored)
        if stored != wanted:
            raise BatchUnavailable(
                f"this index is embedded through the {stored} endpoint and offline jobs would use "
                f"the {wanted} one")

    def _write_parts(self, pending: Sequence[PendingChunk], workdir: Path,
                     interface: Interface) -> list[BatchPart]:
        config = self.config
        if interface is Interface.NATIVE:
            return write_native_parts(pending, workdir, max_lines=config.native_max_lines,
                                      max_bytes=config.native_max_bytes)
        model = self.ix.config.model
        return write_openai_parts(
            pending, workdir, model=model,
            dimensions=request_dimensions(model, self.ix.config.index_model.dimensions),
            per_line=embedding_cap(model), max_lines=config.max_lines, max_bytes=config.max_bytes,
        )

    async def _submit_part(self, backend: BatchBackend, part: BatchPart, model: str,
                           dimensions: int, attempt: int) -> BatchJob:
        job_id = await self.ix.in_db(self.jobs.create, backend.interface, model, dimensions,
                                     part.lines, attempt)
        try:
            input_ref = await backend.upload(part.path, model)
        except BaseException:
            await self.ix.in_db(self.jobs.delete, job_id)  # nothing exists on the service yet
            raise
        # From here on the job is, or is about to be, on the service: finish creating and
        # recording it even if the caller is cancelled meanwhile, so that it is never lost.
        task = asyncio.ensure_future(self._start(backend, job_id, input_ref, model))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    async def _start(self, backend: BatchBackend, job_id: int, input_ref: str, model: str) -> BatchJob:
        await self._update(job_id, input_ref=input_ref)
        try:
            remote_id, remote = await backend.start(input_ref, model)
        except BaseException:
            await self.ix.in_db(self.jobs.delete, job_id)
            raise
        return await self._update(job_id, remote_id=remote_id, status=remote.status,
                                  lines_done=remote.completed, lines_failed=remote.failed)

    # -- polling and importing -----------------------------------------------------------------

    async def wait(self, on_update: UpdateCallback | None = None, *, retry_live: bool = True,
                   on_progress: ProgressCallback | None = None) -> list[JobOutcome]:
        """Poll every pending job until none is left, importing each as it ends.

        ``on_update`` gets the pending jobs after every round. With ``retry_live``, chunks that
        ended without a vector (failed lines, failed jobs) are then embedded live; otherwise
        the caller does that (:attr:`JobOutcome.needs_live_retry`). Transient errors (network,
        busy service) are waited out; others (key) raise ``QwenError``.
        """
        await self.ix.in_db(self.jobs.prune, time.time() - self.config.keep_days * 86400)
        schedule = self.config.poll
        loop = asyncio.get_running_loop()
        outcomes: list[JobOutcome] = []
        intervals: dict[int, float] = {}
        due: dict[int, float] = {}
        while True:
            pending = await self.list_jobs(pending_only=True)
            if not pending:
                break
            for job in pending:
                if due.get(job.id, 0.0) > loop.time():
                    continue
                job, outcome = await self._poll_once(job)
                if outcome is not None:
                    outcomes.append(outcome)
                    continue
                intervals[job.id] = schedule.next_interval(intervals.get(job.id), job.status)
                due[job.id] = loop.time() + schedule.seconds(intervals[job.id])
            pending = await self.list_jobs(pending_only=True)
            if on_update is not None:
                on_update(pending)
            if pending:
                next_due = min(due.get(job.id, 0.0) for job in pending)
                await asyncio.sleep(max(0.0, next_due - loop.time()))
        if on_update is not None:
            on_update([])
        if retry_live:
            await self.retry_live(outcomes, on_progress)
        return outcomes

    async def poll_all(self) -> list[JobOutcome]:
        """Ask about every pending job once (regardless of the schedule); import those ended."""
        outcomes = []
        for job in await self.list_jobs(pending_only=True):
            _job, outcome = await self._poll_once(job)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def retry_live(self, outcomes: Sequence[JobOutcome],
                         on_progress: ProgressCallback | None = None) -> int:
        """Embed live what the ended jobs did not deliver; returns the number of chunks tried."""
        left = sorted({cid for o in outcomes if o.needs_live_retry for cid in o.left})
        if not left or self.ix.embedder is None:
            return 0
        log.info("retrying %d chunks live", len(left))
        report = await self.ix.embed_pending(on_progress, chunk_ids=left)
        return report.chunks_embedded + report.chunks_failed

    async def _poll_once(self, job: BatchJob) -> tuple[BatchJob, JobOutcome | None]:
        if job.remote_id is None:  # still being sent (here or by another process), or cut off
            if time.time() - job.updated_at < STALE_SUBMIT_SECONDS:
                return job, None
            job = await self._update(job.id, status=JobStatus.FAILED,
                                     message="the app stopped while the job was being sent")
            return job, await self._finish(job)
        try:
            return await self.refresh(job)
        except QwenError as error:
            if error.kind in _TRANSIENT:
                log.warning("batch job %d: could not check (%s); trying again later", job.id, error)
                return job, None
            if error.status == 404:  # the service does not know the job (any more)
                job = await self._update(job.id, status=JobStatus.EXPIRED,
                                         message=error.detail or "the service no longer knows this job")
                return job, await self._finish(job)
            raise

    async def refresh(self, job: BatchJob) -> tuple[BatchJob, JobOutcome | None]:
        """Ask the service about one job once; import it when it has ended."""
        assert job.remote_id is not None
        remote = await self.backend(job.interface).status(job.remote_id)
        job = await self._record(job, remote)
        if remote.status in ENDED_STATUSES:
            return job, await self._finish(job)
        return job, None

    async def _record(self, job: BatchJob, remote: RemoteStatus) -> BatchJob:
        fields: dict[str, Any] = {"status": remote.status, "lines_done": remote.completed,
                                  "lines_failed": remote.failed}
        if remote.output_ref:
            fields["output_ref"] = remote.output_ref
        if remote.error_ref:
            fields["error_ref"] = remote.error_ref
        if remote.message:
            fields["message"] = remote.message
        return await self._update(job.id, **fields)

    async def _finish(self, job: BatchJob) -> JobOutcome:
        """Import what an ended job delivered, lift its reservation, retry what is missing."""
        imported = _Imported(0, 0, 0, 0)
        status, message = job.status, job.message
        refs = [ref for ref in (job.output_ref, job.error_ref) if ref]
        if refs:
            try:
                imported = await self._import(job, refs)
            except ResultFormatError as exc:
                status, message = JobStatus.FAILED, str(exc)
                log.error("batch job %d: %s", job.id, exc)
        if status is JobStatus.COMPLETED:
            status = JobStatus.IMPORTED
        left = await self.ix.in_db(self.jobs.undelivered, job.id)
        job = await self._update(
            job.id, status=status, message=message, reserved=False, finished_at=time.time(),
            vectors_saved=imported.saved, results_dropped=imported.dropped,
            lines_failed=max(job.lines_failed, imported.failed),
        )
        log.info("batch job %d ended (%s): %d vectors, %d dropped, %d chunks left",
                 job.id, job.status, imported.saved, imported.dropped, len(left))
        retried_in = None
        if (left and not job.cancel_requested and job.status is JobStatus.IMPORTED
                and job.attempt == 1 and len(left) >= self.config.retry_in_batch_from):
            try:
                report = await self.submit(left, attempt=2)
                retried_in = report.jobs[0].id if report.jobs else None
            except QwenError as exc:  # also BatchUnavailable, IndexModelChanged
                log.warning("could not send the failed lines again (%s); they go live", exc)
        return JobOutcome(job, imported.saved, imported.dropped, job.lines_failed, tuple(left),
                          retried_in)

    async def _import(self, job: BatchJob, refs: Sequence[str]) -> _Imported:
        backend = self.backend(job.interface)
        reader = read_native_results if job.interface is Interface.NATIVE else read_openai_results
        workdir = Path(await self.ix.in_io(functools.partial(tempfile.mkdtemp, prefix="qwen-results-")))
        try:
            paths = []
            for number, ref in enumerate(refs):
                path = workdir / f"result-{number}"
                await backend.download(ref, path)
                paths.append(path)
            return await self.ix.in_db(
                import_results, self.ix.store, self.jobs, job,
                lambda: (result for path in paths for result in reader(path)),
            )
        finally:
            await self.ix.in_io(functools.partial(shutil.rmtree, workdir, ignore_errors=True))

    # -- cancelling --------------------------------------------------------------------------

    async def cancel(self, job_id: int) -> BatchJob | None:
        """Cancel a pending job on the service. Its chunks are released once the service
        confirms. Raises :class:`CannotCancel` when the service refuses (the job goes on and
        is imported as usual)."""
        job = await self.ix.in_db(self.jobs.get, job_id)
        if job is None or not job.reserved:
            return job
        job = await self._update(job_id, cancel_requested=True)
        if job.remote_id is None:
            job = await self._update(job_id, status=JobStatus.CANCELLED)
            await self._finish(job)
            return await self.ix.in_db(self.jobs.get, job_id)
        try:
            remote = await self.backend(job.interface).cancel(job.remote_id)
        except CannotCancel as exc:
            await self._update(job_id, cancel_requested=False, message=str(exc))
            raise
        job = await self._record(job, remote)
        if remote.status in ENDED_STATUSES:
            await self._finish(job)
        return await self.ix.in_db(self.jobs.get, job_id)


def import_results(store: NoteStore, jobs: JobStore, job: BatchJob,
                   results: Callable[[], Iterator[LineResult]], page: int = 4096) -> _Imported:
    """Store the vectors of ``results`` for the chunks the job's lines stand for (blocking).

    Idempotent: a chunk that has a vector already (imported before an interruption, or embedded
    live meanwhile) keeps it. Results for chunks that no longer exist are dropped, and so is
    everything when the index's model changed.
    """
    if store.index_model() != IndexModel(job.model, job.dimensions):
        log.warning("batch job %d: the index model changed; its results are dropped", job.id)
        return _Imported(0, job.chunks, 0, 0)
    mapping = jobs.mapping(job.id)
    items: list[tuple[int, bytes]] = []
    saved = offered = failed = tokens = 0
    for result in results():
        ids = mapping.get(result.line)
        if ids is None:
            continue
        if result.vectors is None or len(result.vectors) != len(ids):
            failed += 1
            continue
        try:
            matrix = unit_vectors([decode_vector(v) for v in result.vectors], job.dimensions)
        except (QwenError, ValueError, TypeError) as exc:
            log.warning("batch job %d line %d: %s", job.id, result.line, exc)
            failed += 1
            continue
        items.extend((chunk_id, matrix[i].tobytes()) for i, chunk_id in enumerate(ids))
        tokens += result.tokens
        if len(items) >= page:
            saved += store.save_vectors(items, keep_existing=True)
            offered += len(items)
            items = []
    if items:
        saved += store.save_vectors(items, keep_existing=True)
        offered += len(items)
    return _Imported(saved, offered - saved, failed, tokens)
