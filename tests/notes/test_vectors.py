"""The compact vector index: int8 in memory, exact order and cosines from the stored vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop.core.notes.chunker import Chunk
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import IndexedFile
from desktop.core.notes.vectors import VectorIndex, quantise


def _store_with_vectors(path: Path, count: int, dims: int, seed: int = 0) -> tuple[NoteStore, dict[int, np.ndarray]]:
    store = NoteStore(path)
    store.set_index_model("text-embedding-v4", dims)
    folder = store.add_folder("/synthetic")
    files = [
        IndexedFile(f"/synthetic/f{f}.md", 1, 1, str(f), "utf-8",
                    tuple(Chunk(c, f"text {f} {c}", ("H",), c + 1, c + 1) for c in range(10)))
        for f in range(count // 10)
    ]
    store.apply(folder, files)
    ids = [p.id for p in store.pending_chunks()]
    rng = np.random.default_rng(seed)
    block = rng.standard_normal((len(ids), dims)).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    store.save_vectors([(cid, block[i].tobytes()) for i, cid in enumerate(ids)])
    return store, {cid: block[i] for i, cid in enumerate(ids)}


def test_quantised_rows_are_close_and_a_zero_row_stays_zero() -> None:
    rng = np.random.default_rng(1)
    block = rng.standard_normal((50, 256)).astype(np.float32)
    block[7] = 0.0
    codes, scales = quantise(block)
    assert codes.dtype == np.int8 and scales.dtype == np.float32
    restored = codes.astype(np.float32) * scales[:, None]
    assert np.abs(restored - block).max() <= scales.max() / 2 + 1e-6
    assert scales[7] == 0 and not codes[7].any()


def test_top_matches_exact_search_with_exact_cosines_at_a_quarter_of_the_bytes(tmp_path: Path) -> None:
    dims = 128
    store, vectors = _store_with_vectors(tmp_path / "notes.sqlite3", 3000, dims)
    with store:
        index = VectorIndex()
        index.refresh(store)
        assert len(index) == 3000
        assert index._codes.nbytes == 3000 * dims  # one byte per dimension
        ids = np.array(list(vectors))
        matrix = np.stack([vectors[i] for i in ids])
        rng = np.random.default_rng(9)
        for _ in range(20):
            query = rng.standard_normal(dims).astype(np.float32)
            query /= np.linalg.norm(query)
            exact = matrix @ query
            expected = [int(i) for i in ids[np.argsort(-exact)[:10]]]
            got = index.top(query, 10)
            assert [cid for cid, _ in got] == expected
            for cid, score in got:  # the cosine is the exact one, not the int8 estimate
                assert abs(score - float(vectors[cid] @ query)) < 1e-5


def test_new_vectors_are_appended_and_a_deleted_chunk_is_never_returned(tmp_path: Path) -> None:
    dims = 32
    store, vectors = _store_with_vectors(tmp_path / "notes.sqlite3", 100, dims)
    with store:
        index = VectorIndex()
        index.refresh(store)
        target = next(iter(vectors))
        query = vectors[target]
        assert index.top(query, 1)[0][0] == target
        with store.writing() as db:  # the vector goes (as when its file changes) before a reload
            db.execute("DELETE FROM vectors WHERE chunk_id = ?", (target,))
        assert target not in [cid for cid, _ in index.top(query, 5)]
        index.refresh(store)
        assert len(index) == 99


def test_the_pass_split_over_cores_scores_every_row_as_one_pass_would(tmp_path: Path) -> None:
    dims = 16
    store, vectors = _store_with_vectors(tmp_path / "notes.sqlite3", 24_000, dims, seed=4)
    with store:
        index = VectorIndex()
        index.refresh(store)
        try:
            query = np.random.default_rng(3).standard_normal(dims).astype(np.float32)
            scores = index.approximate_scores(query)
            expected = (index._codes[: len(index)].astype(np.float32) @ query) * index._scales[: len(index)]
            np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
            best = index.top(query, 3)[0][0]
            assert best == max(vectors, key=lambda cid: float(vectors[cid] @ query))
        finally:
            index.close()


def test_a_word_in_thousands_of_chunks_ranks_the_newest_and_a_rare_one_ranks_all(tmp_path: Path) -> None:
    from desktop.core.notes import store_queries

    with NoteStore(tmp_path / "notes.sqlite3") as store:
        folder = store.add_folder("/n")
        count = store_queries.RANK_AT_MOST + 500
        texts = [f"common words number {i}" for i in range(count)]
        texts[10] = "common common common rare"  # the best bm25 match for both words, but old
        files = [IndexedFile(f"/n/f{i}.md", 1, 1, str(i), "utf-8", (Chunk(0, t, ("H",), 1, 1),))
                 for i, t in enumerate(texts)]
        store.apply(folder, files)
        ids = sorted(store.chunk_infos(list(range(1, count + 1))))
        newest = set(ids[-store_queries.RANK_AT_MOST:])
        found = store.keyword_search('"common"', 50)
        assert len(found) == 50 and set(found) <= newest
        assert store.keyword_search('"rare"', 5) == [ids[10]]
        # A rare word's chunk is found however old, and ranked against the whole query.
        both = store.keyword_search('"common" OR "rare"', 10)
        assert both[0] == ids[10] and set(both[1:]) <= newest
