"""Offline embedding jobs, kept in the notes database so that they survive the app being closed.

A job is one input file sent to DashScope: a batch of the OpenAI-compatible Batch API, or a task
of the native asynchronous API. Its row holds the service's ids, its status and counts; its
mapping (``batch_job_chunks``) says which chunk each input line (and each input within a line)
stands for. While a job is *reserved* its chunks are left out of every other index run, so a chunk
is never paid for twice; when the job ends (imported, failed, cancelled) the reservation is lifted
and chunks it did not deliver a vector for are pending again.

Every method is blocking: call them from the indexer's db thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.notes.store import NoteStore


class Interface(StrEnum):
    OPENAI = "openai"  # OpenAI-compatible Batch API (/files + /batches), half price
    NATIVE = "native"  # DashScope's asynchronous task API (text-embedding-async-v1/v2)


class JobStatus(StrEnum):
    SUBMITTING = "submitting"  # local: the input is being written or uploaded
    VALIDATING = "validating"  # native: PENDING
    IN_PROGRESS = "in_progress"  # native: RUNNING
    FINALIZING = "finalizing"
    COMPLETED = "completed"  # results ready to import
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    IMPORTED = "imported"  # local: the results are in the index


# Statuses in which the service still works on the job.
RUNNING_STATUSES = frozenset({JobStatus.VALIDATING, JobStatus.IN_PROGRESS, JobStatus.FINALIZING,
                              JobStatus.CANCELLING})
# Statuses in which the service is done: fetch what there is, then lift the reservation.
ENDED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.EXPIRED,
                            JobStatus.CANCELLED})

STATUS_LABELS = {
    JobStatus.SUBMITTING: QT_TRANSLATE_NOOP("Notes", "Sending"),
    JobStatus.VALIDATING: QT_TRANSLATE_NOOP("Notes", "Waiting in the queue"),
    JobStatus.IN_PROGRESS: QT_TRANSLATE_NOOP("Notes", "Running"),
    JobStatus.FINALIZING: QT_TRANSLATE_NOOP("Notes", "Finishing"),
    JobStatus.COMPLETED: QT_TRANSLATE_NOOP("Notes", "Done, importing"),
    JobStatus.FAILED: QT_TRANSLATE_NOOP("Notes", "Failed"),
    JobStatus.EXPIRED: QT_TRANSLATE_NOOP("Notes", "Expired"),
    JobStatus.CANCELLING: QT_TRANSLATE_NOOP("Notes", "Cancelling"),
    JobStatus.CANCELLED: QT_TRANSLATE_NOOP("Notes", "Cancelled"),
    JobStatus.IMPORTED: QT_TRANSLATE_NOOP("Notes", "Imported"),
}


@dataclass(frozen=True, slots=True)
class BatchJob:
    id: int
    interface: Interface
    model: str
    dimensions: int
    status: JobStatus
    remote_id: str | None
    input_ref: str | None
    output_ref: str | None
    error_ref: str | None
    lines: int
    chunks: int
    lines_done: int
    lines_failed: int
    reserved: bool
    cancel_requested: bool
    attempt: int
    vectors_saved: int
    results_dropped: int
    message: str | None
    created_at: float
    updated_at: float
    finished_at: float | None

    @property
    def pending(self) -> bool:
        """Not finished from the user's point of view (its chunks are still reserved)."""
        return self.reserved

    def age(self, now: float | None = None) -> float:
        return max(0.0, (now if now is not None else time.time()) - self.created_at)


_COLUMNS = ("id, interface, model, dimensions, status, remote_id, input_ref, output_ref, error_ref, "
            "lines, chunks, lines_done, lines_failed, reserved, cancel_requested, attempt, "
            "vectors_saved, results_dropped, message, created_at, updated_at, finished_at")


def _job(row: Sequence[Any]) -> BatchJob:
    values = list(row)
    values[1] = Interface(values[1])
    values[4] = JobStatus(values[4])
    values[13] = bool(values[13])
    values[14] = bool(values[14])
    return BatchJob(*values)


class JobStore:
    """The jobs tables of a :class:`NoteStore` (blocking; one thread at a time)."""

    _FIELDS = frozenset({"status", "remote_id", "input_ref", "output_ref", "error_ref", "lines_done",
                         "lines_failed", "reserved", "cancel_requested", "vectors_saved",
                         "results_dropped", "message", "finished_at"})

    def __init__(self, store: NoteStore) -> None:
        self.store = store

    def create(self, interface: Interface, model: str, dimensions: int,
               lines: Sequence[Sequence[int]], attempt: int = 1) -> int:
        """A new job in status SUBMITTING that reserves the chunks of ``lines`` (chunk ids per
        input line, in line order)."""
        now = time.time()
        with self.store.writing() as db:
            cur = db.execute(
                "INSERT INTO batch_jobs(interface, model, dimensions, status, lines, chunks, attempt,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (interface.value, model, dimensions, JobStatus.SUBMITTING.value, len(lines),
                 sum(len(line) for line in lines), attempt, now, now),
            )
            job_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO batch_job_chunks(job_id, line, position, chunk_id) VALUES (?, ?, ?, ?)",
                ((job_id, number, position, chunk_id)
                 for number, line in enumerate(lines) for position, chunk_id in enumerate(line)),
            )
        return job_id

    def update(self, job_id: int, **fields: Any) -> BatchJob:
        unknown = set(fields) - self._FIELDS
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, StrEnum) else int(v) if isinstance(v, bool) else v)
                  for k, v in fields.items()}
        values["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self.store.writing() as db:
            db.execute(f"UPDATE batch_jobs SET {assignments} WHERE id = ?", [*values.values(), job_id])
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def delete(self, job_id: int) -> None:
        with self.store.writing() as db:
            db.execute("DELETE FROM batch_jobs WHERE id = ?", (job_id,))

    def get(self, job_id: int) -> BatchJob | None:
        with self.store.reading() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def select(self, *, pending_only: bool = False) -> list[BatchJob]:
        """Jobs, oldest first."""
        where = "WHERE reserved = 1" if pending_only else ""
        with self.store.reading() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM batch_jobs {where} ORDER BY id").fetchall()
        return [_job(r) for r in rows]

    def mapping(self, job_id: int) -> dict[int, list[int]]:
        """Input line number -> the chunk ids of its inputs, in input order."""
        lines: dict[int, list[int]] = {}
        with self.store.reading() as db:
            for line, chunk_id in db.execute(
                "SELECT line, chunk_id FROM batch_job_chunks WHERE job_id = ? ORDER BY line, position",
                (job_id,),
            ):
                lines.setdefault(line, []).append(chunk_id)
        return lines

    def undelivered(self, job_id: int) -> list[int]:
        """Chunks of the job that still exist and still have no vector."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT m.chunk_id FROM batch_job_chunks m JOIN chunks c ON c.id = m.chunk_id"
                " WHERE m.job_id = ? AND c.embed_failed = 0"
                " AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = m.chunk_id)"
                " ORDER BY m.chunk_id",
                (job_id,),
            ).fetchall()
        return [r[0] for r in rows]

    def prune(self, older_than: float) -> int:
        """Forget ended jobs that finished before ``older_than`` (a time.time() value)."""
        with self.store.writing() as db:
            cur = db.execute(
                "DELETE FROM batch_jobs WHERE reserved = 0 AND coalesce(finished_at, updated_at) < ?",
                (older_than,),
            )
            return cur.rowcount
