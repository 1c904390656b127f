"""Hybrid search over the notes index: vectors (cosine) + keywords (FTS5), fused by rank.

Vectors live in memory quantised to int8 (:mod:`~desktop.core.notes.vectors`: brute force over
100,000 chunks × 1024 dimensions, the best candidates rescored exactly from the database) and are
loaded incrementally: rows added since the last search are appended; a deletion (changed or
removed files) reloads them. Keyword search always works; when the query cannot be embedded (no
key, no network) the result says it is keyword-only, and why.

A query that looks like a code (``REF-0777``) or is a quoted phrase puts the chunks that contain
it as written first, and the result says whether any did (``SearchResults.exact``). The fused
score only orders hits; the number to show a person is the meaning similarity
(``SearchHit.vector_score``, a cosine), which is never 1 for a text that merely resembles the query.

Blocking parts run on the searcher's own thread with its own SQLite connection, so a search
never waits behind an index run's writes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where used: numpy takes a tenth of a second to import, which the window would wait for.
    import numpy as np

    from desktop.core.notes.vectors import VectorIndex

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.embed_endpoint import embedder_for
from desktop.core.notes.index_embedding import unit_vectors
from desktop.core.notes.keywords import (
    Snippet,
    exact_pattern,
    exact_phrase,
    fts_match,
    fts_phrase,
    make_snippet,
    parse_query,
)
from desktop.core.notes.models import Embedder, live_model, request_dimensions
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import IndexModel

log = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 50  # from each of the two lists before fusion
EXACT_CANDIDATES = 500  # chunks with a code's words in sequence, checked for the code as written


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: int
    path: str
    folder: str
    heading: str
    line_start: int
    line_end: int
    snippet: Snippet
    score: float  # 0..1, for ordering only: 1 = first in every list searched
    vector_score: float | None  # cosine similarity, when the vector part found it: the one to show
    keyword_rank: int | None  # 1-based rank in the keyword list, when it found it
    exact: bool = False  # contains the code or quoted phrase the query asked for, as written

    @property
    def similarity_percent(self) -> int | None:
        """The meaning similarity as a whole percentage, or None when meaning did not find it."""
        if self.vector_score is None:
            return None
        return max(0, min(100, round(self.vector_score * 100)))

    @property
    def file_name(self) -> str:
        return os.path.basename(self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "folder": self.folder,
            "file_name": self.file_name,
            "heading": self.heading,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "snippet": self.snippet.text,
            "highlights": [list(h) for h in self.snippet.highlights],
            "score": round(self.score, 4),
            "vector_score": None if self.vector_score is None else round(self.vector_score, 4),
            "keyword_rank": self.keyword_rank,
            "exact": self.exact,
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]
    keyword_only: bool  # only keyword search could run
    error: QwenError | None = None  # why the meaning part did not run (no key, network…)
    local_seconds: float = 0.0  # time spent locally (without the query's embedding request)
    # For a code-like or quoted query: whether any note contains it as written. None otherwise.
    exact: bool | None = None
    # "Best match first": True when a rerank model ordered the hits, False when it could not and
    # the fused order stands; None when it was not asked.
    reranked: bool | None = None

    @property
    def exact_text(self) -> str | None:
        """What the query asked to find as written (a code, or a quoted phrase without its quotes)."""
        return exact_phrase(self.query)


def fuse(
    vector_ids: Sequence[int], keyword_ids: Sequence[int], k: int = RRF_K, *,
    searched: int | None = None,
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of two ranked lists; scores scaled so 1.0 = first in every list
    ``searched`` (by default the lists that found something). Pass the number of searches that
    ran: a keyword search that found nothing still counts, so the best of the meaning list alone
    scores 0.5, not 1."""
    scores: dict[int, float] = {}
    for ranked in (vector_ids, keyword_ids):
        for rank, chunk_id in enumerate(ranked, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank)
    lists = (1 if vector_ids else 0) + (1 if keyword_ids else 0)
    if searched is not None:
        lists = max(lists, searched)
    best = lists / (k + 1) if lists else 1.0
    return sorted(((cid, s / best) for cid, s in scores.items()), key=lambda x: -x[1])


class Searcher:
    """Searches one notes index. Create with :meth:`open` inside the running loop."""

    def __init__(self, store: NoteStore, embedder: Embedder | None, executor: ThreadPoolExecutor,
                 embed_timeout: float = 15.0) -> None:
        self.store = store
        self.embedder = embedder
        self.embed_timeout = embed_timeout
        from desktop.core.notes.vectors import VectorIndex  # numpy: not at start-up

        self.vectors: VectorIndex = VectorIndex()
        self._executor = executor
        self._query_cache: OrderedDict[tuple[str, str, int, str], np.ndarray] = OrderedDict()
        self._endpoint: str | None = None  # what the index's vectors were embedded through

    @classmethod
    async def open(cls, db_path: str | Path, embedder: Embedder | None = None,
                   embed_timeout: float = 15.0) -> Searcher:
        executor = ThreadPoolExecutor(1, thread_name_prefix="notes-search")
        store = await asyncio.get_running_loop().run_in_executor(executor, NoteStore, db_path)
        return cls(store, embedder, executor, embed_timeout)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.store.close)
        await asyncio.get_running_loop().run_in_executor(self._executor, self.vectors.close)
        self._executor.shutdown(wait=False)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def refresh(self) -> None:
        """Load vectors added since the last search (also done by every search)."""
        await self._run(self.vectors.refresh, self.store)

    async def search(self, query: str, k: int = 10, *, keyword_only: bool = False) -> SearchResults:
        query = query.strip()
        if not query:
            return SearchResults(query, (), keyword_only)
        model = await self._run(self._refresh_and_model)
        error: QwenError | None = None
        query_vector: np.ndarray | None = None
        if not keyword_only:
            if self.embedder is None:
                error = QwenError(ErrorKind.NO_KEY)
            elif model is not None and len(self.vectors):
                try:
                    query_vector = await self._embed_query(query, model)
                except QwenError as exc:
                    error = exc
                except TimeoutError:
                    error = QwenError(ErrorKind.TIMEOUT, "query embedding")
        started = time.perf_counter()
        hits, exact = await self._run(self._search_local, query, k, query_vector)
        return SearchResults(
            query, hits, keyword_only=query_vector is None, error=error,
            local_seconds=time.perf_counter() - started, exact=exact,
        )

    def _refresh_and_model(self) -> IndexModel | None:
        self.vectors.refresh(self.store)
        self._endpoint = self.store.embedding_endpoint()
        return self.vectors.model

    async def _embed_query(self, query: str, model: IndexModel) -> np.ndarray:
        key = (query, model.model, model.dimensions, self._endpoint or "")
        if (cached := self._query_cache.get(key)) is not None:
            self._query_cache.move_to_end(key)
            return cached
        assert self.embedder is not None
        # An index built offline with text-embedding-async-v* embeds queries with its live
        # counterpart (the async models only run as offline tasks).
        query_model = live_model(model.model)
        embedder = embedder_for(self.embedder, self._endpoint)  # as the index was embedded
        result = await asyncio.wait_for(
            embedder.embed(
                [query], model=query_model,
                dimensions=request_dimensions(query_model, model.dimensions), text_type="query",
            ),
            self.embed_timeout,
        )
        vector: np.ndarray = unit_vectors(result.vectors, model.dimensions)[0]
        self._query_cache[key] = vector
        while len(self._query_cache) > 128:
            self._query_cache.popitem(last=False)
        return vector

    def search_local(self, query: str, k: int, query_vector: np.ndarray | None) -> tuple[SearchHit, ...]:
        """The local part of a search (blocking; for benchmarks and tests)."""
        self.vectors.refresh(self.store)
        return self._search_local(query, k, query_vector)[0]

    def _search_local(
        self, query: str, k: int, query_vector: np.ndarray | None
    ) -> tuple[tuple[SearchHit, ...], bool | None]:
        """The hits, and for a code-like or quoted query whether any contains it as written."""
        terms = parse_query(query)
        vector_hits = self.vectors.top(query_vector, CANDIDATES) if query_vector is not None else []
        match = fts_match(terms)
        keyword_ids = self.store.keyword_search(match, CANDIDATES) if match else []
        vector_ids = [cid for cid, _ in vector_hits]
        searched = (query_vector is not None) + (match is not None)
        fused = dict(fuse(vector_ids, keyword_ids, searched=searched))
        phrase = exact_phrase(query)
        exact_ids = self._exact_matches(phrase) if phrase is not None else []
        exact_set = set(exact_ids)
        # Exact matches first (in fused order; those beyond the keyword candidates after them),
        # then everything else in fused order.
        ordered = ([cid for cid in fused if cid in exact_set]
                   + [cid for cid in exact_ids if cid not in fused]
                   + [cid for cid in fused if cid not in exact_set])
        cosine = dict(vector_hits)
        keyword_rank = {cid: rank for rank, cid in enumerate(keyword_ids, start=1)}
        # Ask for a few more than k: a chunk deleted since the matrix was loaded is dropped here.
        infos = self.store.chunk_infos(ordered[: k + 10])
        hits: list[SearchHit] = []
        for cid in ordered:
            info = infos.get(cid)
            if info is None:
                continue
            hits.append(
                SearchHit(
                    chunk_id=cid, path=info.path, folder=info.folder, heading=info.heading,
                    line_start=info.line_start, line_end=info.line_end,
                    snippet=make_snippet(info.text, terms), score=fused.get(cid, 0.0),
                    vector_score=cosine.get(cid), keyword_rank=keyword_rank.get(cid),
                    exact=cid in exact_set,
                )
            )
            if len(hits) >= k:
                break
        return tuple(hits), (None if phrase is None else bool(exact_ids))

    def _exact_matches(self, phrase: str) -> list[int]:
        """The chunks (best keyword rank first) whose file name, heading or text contain
        ``phrase`` as written; the keyword index finds those with its words in sequence."""
        match = fts_phrase(phrase)
        if match is None:
            return []
        candidates = self.store.keyword_search(match, EXACT_CANDIDATES)
        infos = self.store.chunk_infos(candidates)
        pattern = exact_pattern(phrase)
        found: list[int] = []
        for cid in candidates:
            info = infos.get(cid)
            if info is not None and pattern.search(
                f"{os.path.basename(info.path)}\n{info.heading}\n{info.text}"
            ):
                found.append(cid)
        return found


class SharedSearcher:
    """The process's one :class:`Searcher` of a notes database, opened on first use.

    Every face that searches (the Search tab, ask-your-notes in chat, the command line) gets it from
    here, so the vectors of a large index are held in memory once, not once per face.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = db_path
        self._searcher: Searcher | None = None
        self._opening: asyncio.Lock | None = None

    async def get(self) -> Searcher:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._searcher is None:
                self._searcher = await Searcher.open(self.db_path)
            return self._searcher

    async def close(self) -> None:
        if self._searcher is not None:
            searcher, self._searcher = self._searcher, None
            await searcher.close()
