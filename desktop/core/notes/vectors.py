"""The chunk vectors a search compares a query with, held compactly in memory.

Each normalised vector is kept as int8 with one float32 scale of its own (``x ≈ q * scale`` with
``scale = max|x| / 127``): a quarter of the float32 bytes. A search scores every row from the int8
matrix, then rescores the best few exactly from the full-precision vectors in the database (an
indexed read of a few hundred 4 KB blobs), so the order and the cosine a person sees are those of
exact search.

Loading never holds a float32 copy of the matrix: the rows come from SQLite in small batches and
each batch is quantised into its place before the next is read. Scoring converts the int8 matrix
to float32 a cache-sized block at a time, so the pass over memory reads a quarter of the bytes of a
float32 matrix–vector product.

Rows added since the last search are appended; a deletion (changed or removed files) reloads.
Not thread-safe: use from one thread (the searcher's).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import IndexModel

log = logging.getLogger(__name__)

LOAD_BATCH = 1024  # rows read from SQLite and quantised at a time
BLOCK_BYTES = 1 << 20  # float32 scratch for one scoring block: stays in the CPU's cache
RESCORE_MIN = 64  # candidates rescored exactly: at least this many, and at least 2 × k
PARALLEL_ROWS = 20_000  # from this many rows the pass is split over the CPU's cores


def quantise(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scale per row) of a float32 block; a zero row gets scale 0."""
    peak = np.abs(block).max(axis=1)
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    rows = np.rint(block / safe[:, None])
    np.clip(rows, -127, 127, out=rows)
    return rows.astype(np.int8), scale


class VectorIndex:
    """Chunk vectors as an (n × d) int8 matrix with a scale per row, rescored exactly from disk."""

    def __init__(self) -> None:
        self.model: IndexModel | None = None
        self._codes = np.empty((0, 0), dtype=np.int8)
        self._scales = np.empty(0, dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._count = 0
        self._max_seq = 0
        self._epoch = -1
        self._store: NoteStore | None = None
        self._scratch: list[np.ndarray] = []
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._threads = max(1, min(4, cores or 1))
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the scoring threads (the index stays usable: they start again when needed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held for the vectors (codes, scales, ids and the scoring scratch)."""
        return int(self._codes.nbytes + self._scales.nbytes + self._ids.nbytes
                   + sum(b.nbytes for b in self._scratch))

    def refresh(self, store: NoteStore) -> None:
        self._store = store
        model = store.index_model()
        epoch = store.vector_epoch()
        if model != self.model or epoch != self._epoch:
            self._reset(model, store.vector_count())
            self._epoch = epoch
        if self.model is None:
            return
        dims = self.model.dimensions
        for rows in store.iter_vectors(self._max_seq, batch=LOAD_BATCH):
            blob = b"".join(r[2] for r in rows)
            block = np.frombuffer(blob, dtype=np.float32)
            if block.size != len(rows) * dims:  # vectors of another size: the model changed
                log.warning("vector size mismatch; reloading")
                self._reset(None, 0)
                return
            codes, scales = quantise(block.reshape(-1, dims))
            del blob, block
            self._append(np.array([r[1] for r in rows], dtype=np.int64), codes, scales)
            self._max_seq = rows[-1][0]

    def _reset(self, model: IndexModel | None, expected_rows: int) -> None:
        self.model = model
        dims = model.dimensions if model else 0
        self._codes = np.empty((expected_rows, dims), dtype=np.int8)
        self._scales = np.empty(expected_rows, dtype=np.float32)
        self._ids = np.empty(expected_rows, dtype=np.int64)
        rows = max(1, BLOCK_BYTES // (4 * max(dims, 1)))
        self._scratch = [np.empty((rows, dims), dtype=np.float32) for _ in range(self._threads)]
        self._count = 0
        self._max_seq = 0

    def _append(self, ids: np.ndarray, codes: np.ndarray, scales: np.ndarray) -> None:
        need = self._count + len(ids)
        if need > len(self._ids):
            capacity = max(need, int(len(self._ids) * 1.25) + 64)
            grown = np.empty((capacity, codes.shape[1]), dtype=np.int8)
            grown[: self._count] = self._codes[: self._count]
            grown_scales = np.empty(capacity, dtype=np.float32)
            grown_scales[: self._count] = self._scales[: self._count]
            grown_ids = np.empty(capacity, dtype=np.int64)
            grown_ids[: self._count] = self._ids[: self._count]
            self._codes, self._scales, self._ids = grown, grown_scales, grown_ids
        self._codes[self._count:need] = codes
        self._scales[self._count:need] = scales
        self._ids[self._count:need] = ids
        self._count = need

    def approximate_scores(self, query: np.ndarray) -> np.ndarray:
        """The (approximate) cosine of every row with ``query``, from the int8 codes."""
        out = np.empty(self._count, dtype=np.float32)
        self._pass(np.ascontiguousarray(query, dtype=np.float32), out, 0)
        return out

    def _pass(self, query: np.ndarray, out: np.ndarray, wanted: int) -> np.ndarray:
        """Score every row into ``out``; the row numbers of the best ``wanted`` of each slice."""
        parts = self._threads if self._count >= PARALLEL_ROWS else 1
        bounds = [self._count * p // parts for p in range(parts + 1)]
        if parts == 1:
            return self._score_rows(query, out, 0, self._count, 0, wanted)
        # numpy lets go of the GIL while it converts and multiplies: one slice per core.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(parts, thread_name_prefix="notes-vectors")
        futures = [self._pool.submit(self._score_rows, query, out, bounds[p], bounds[p + 1], p, wanted)
                   for p in range(parts)]
        return np.concatenate([future.result() for future in futures])

    def _score_rows(self, query: np.ndarray, out: np.ndarray, start: int, stop: int, part: int,
                    wanted: int) -> np.ndarray:
        scratch = self._scratch[part]
        step = len(scratch)
        for first in range(start, stop, step):
            end = min(first + step, stop)
            block = scratch[: end - first]
            np.copyto(block, self._codes[first:end], casting="unsafe")
            np.dot(block, query, out=out[first:end])
        mine = out[start:stop]
        mine *= self._scales[start:stop]
        if wanted <= 0:
            return np.empty(0, dtype=np.int64)
        if wanted >= len(mine):
            return np.arange(start, stop)
        return np.argpartition(mine, len(mine) - wanted)[len(mine) - wanted:] + start

    def top(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` most similar chunk ids with their exact cosine similarity, best first."""
        if self._count == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32)
        scores = np.empty(self._count, dtype=np.float32)
        wanted = min(self._count, max(RESCORE_MIN, 2 * k))
        best = self._pass(query, scores, wanted)
        if len(best) > wanted:  # the best of each slice: keep the best of them all
            best = best[np.argpartition(scores[best], len(best) - wanted)[len(best) - wanted:]]
        candidates = [int(i) for i in self._ids[best]]
        exact = self._exact_scores(candidates, query)
        if exact is None:  # the database could not be read: the approximate order still holds
            ranked = sorted(zip(candidates, (float(s) for s in scores[best]), strict=True),
                            key=lambda x: -x[1])
            return ranked[:k]
        return sorted(exact.items(), key=lambda x: -x[1])[:k]

    def _exact_scores(self, chunk_ids: Sequence[int], query: np.ndarray) -> dict[int, float] | None:
        """Exact cosines of ``chunk_ids`` from the stored float32 vectors; a chunk whose vector
        has gone since the load is left out."""
        if self._store is None or self.model is None:
            return None
        try:
            rows = self._store.vectors_of(chunk_ids)
        except Exception as exc:  # noqa: BLE001 - a read failure must not fail the search
            log.warning("exact rescoring skipped: %s", type(exc).__name__)
            return None
        dims = self.model.dimensions
        rows = [(cid, blob) for cid, blob in rows if len(blob) == 4 * dims]
        if not rows:
            return {}
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(-1, dims)
        scores = matrix @ np.asarray(query, dtype=np.float32)
        return {cid: float(s) for (cid, _), s in zip(rows, scores, strict=True)}
