"""Notes index benchmark (a script, not a test). Prints the figures issue 3 asks for.

    python tests/perf/bench_notes.py [--notes 10000] [--search-chunks 100000] [--dims 1024]
                                     [--latency-ms 50] [--concurrency 4] [--keep DIR]

1. scan + read + chunk + store of a generated corpus (mixed Chinese/English Markdown), no embedding;
2. the same over the unchanged corpus (incremental re-scan);
3. embedding everything against the loopback DashScope server (a separate process) with a fixed
   latency per request: achieved requests/s against the bound concurrency / latency;
4. the local part of a hybrid and of a keyword-only search over a store of N chunks × D dims
   (random unit vectors): p50/p99; the compact (int8) vectors' memory against the raw float32
   bytes, their search time against one float32 matrix-vector pass in the same run, and their
   top-10 agreement with exact float32 search (``--keep DIR`` keeps the store for the next run).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.notes.chunker import Chunk
from desktop.core.notes.encoding import GB_COMMON
from desktop.core.notes.index import Indexer
from desktop.core.notes.index_records import IndexConfig
from desktop.core.notes.search import Searcher
from desktop.core.notes.store import NoteStore
from desktop.core.notes.store_records import IndexedFile
from desktop.core.retry import RetryPolicy

TEST_KEY = "sk-test-0000000000000000"
WORDS = ["budget", "meeting", "project", "schedule", "invoice", "approval", "travel", "expense", "report", "quarterly", "customer", "contract", "review", "policy", "update", "deadline", "server", "database", "backup", "network", "printer", "password", "training", "onboarding", "manager", "team", "office", "holiday", "leave", "request", "payment", "vendor", "supplier", "order", "delivery", "warehouse", "inventory", "sales", "marketing", "campaign", "analysis", "forecast", "revenue", "cost", "profit", "release", "version", "bug", "issue", "ticket", "error", "code", "deploy", "install", "configure", "account", "access", "security", "audit", "compliance", "risk", "plan", "goal", "task", "priority", "status", "note", "summary", "action", "item", "follow", "up"]
HANZI = sorted(GB_COMMON)


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def chinese_sentence(rng: random.Random) -> str:
    return "".join(rng.choices(HANZI, k=rng.randint(12, 30))) + rng.choice("。。。！？；")


def english_sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    if rng.random() < 0.05:
        words.insert(rng.randrange(len(words)), f"E-{rng.randint(1000, 9999)}")
    return " ".join(words).capitalize() + "."


def note_text(rng: random.Random, target_bytes: int) -> str:
    chinese = rng.random() < 0.5
    sentence = chinese_sentence if chinese else english_sentence
    parts = [f"# {'笔记' if chinese else 'Note'} {rng.randint(1, 99999)}\n"]
    size = 0
    section = 0
    while size < target_bytes:
        section += 1
        parts.append(f"\n## {'第' + str(section) + '节' if chinese else 'Section ' + str(section)}\n\n")
        for _ in range(rng.randint(1, 3)):
            paragraph = "".join(sentence(rng) + ("" if chinese else " ") for _ in range(rng.randint(2, 6)))
            if rng.random() < 0.3:  # the other language mixed in
                paragraph += (english_sentence if chinese else chinese_sentence)(rng)
            parts.append(paragraph.strip() + "\n\n")
            size += len(paragraph.encode())
    return "".join(parts)


def make_corpus(root: Path, count: int, total_mb: float) -> int:
    rng = random.Random(42)
    per_note = int(total_mb * 1024 * 1024 / count)
    total = 0
    for i in range(count):
        folder = root / f"folder{i // 100:03d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        data = note_text(rng, int(per_note * rng.uniform(0.6, 1.3))).encode()
        (folder / f"note{i:05d}.md").write_bytes(data)
        total += len(data)
    return total


class Base64Embedder:
    """The openai SDK's default wire format (base64, decoded with numpy), for comparison with
    QwenClient, which asks for JSON floats (``--embedder base64``)."""

    def __init__(self, base_url: str) -> None:
        import openai

        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=TEST_KEY, max_retries=0)

    async def embed(self, texts, *, model, dimensions=None, text_type=None):  # type: ignore[no-untyped-def]
        from desktop.core.client import Embeddings

        response = await self._client.embeddings.create(model=model, input=list(texts), dimensions=dimensions)
        data = sorted(response.data, key=lambda d: d.index)
        return Embeddings([d.embedding for d in data], response.usage.total_tokens, None)

    async def aclose(self) -> None:
        await self._client.close()


def start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.dashscope_server", "--latency-ms", str(latency_ms)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("BASE_URL="):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


async def bench_index(args: argparse.Namespace, work: Path) -> None:
    corpus = work / "notes"
    db = work / "notes.sqlite3"
    started = time.perf_counter()
    size = make_corpus(corpus, args.notes, args.corpus_mb)
    print(f"corpus: {args.notes} notes, {size / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s")

    config = IndexConfig(dimensions=args.dims, concurrency=args.concurrency,
                         retry=RetryPolicy(attempts=2, base_delay=0.1))
    indexer = await Indexer.open(db, config, None)
    started = time.perf_counter()
    estimate, report = await indexer.prepare([str(corpus)])
    first = time.perf_counter() - started
    print(f"1. scan + read + chunk + store (no embedding): {first:.2f} s "
          f"({report.files_read} files, {estimate.chunks} chunks, ~{estimate.tokens:,} tokens, "
          f"~CNY {estimate.cost_cny:.2f} with {estimate.model})  [target < 20 s]")
    started = time.perf_counter()
    _, again = await indexer.prepare([str(corpus)])
    print(f"2. re-scan of the unchanged corpus: {time.perf_counter() - started:.2f} s "
          f"({again.files_unchanged} unchanged, {again.files_read} read)  [target < 2 s]")
    await indexer.close()

    server, base_url = start_server(args.latency_ms)
    try:
        client: Any = (
            Base64Embedder(base_url) if args.embedder == "base64"
            else QwenClient(ConnectionConfig(base_url=base_url, api_key=TEST_KEY, proxy_mode="none"))
        )
        indexer = await Indexer.open(db, config, client)
        pending = estimate.chunks if args.embed_limit is None else min(args.embed_limit, estimate.chunks)
        if args.embed_limit is not None:
            # Leave only the first N chunks pending by marking the rest as done-for-now.
            await asyncio.get_running_loop().run_in_executor(
                None, _limit_pending, db, args.embed_limit)
        started = time.perf_counter()
        embedded = await indexer.embed_pending()
        seconds = time.perf_counter() - started
        await indexer.close()
        await client.aclose()
    finally:
        server.terminate()
        server.wait(10)
    rate = embedded.requests / seconds
    bound = args.concurrency / (args.latency_ms / 1000)
    print(f"3. embedding {embedded.chunks_embedded} of {pending} chunks ({args.dims} dims, {args.embedder} "
          f"embedder) against the "
          f"loopback server, {args.latency_ms:.0f} ms per request: {seconds:.1f} s, "
          f"{embedded.requests} requests, {rate:.1f} requests/s vs bound {bound:.0f} "
          f"({rate / bound:.0%}), {embedded.chunks_embedded / seconds:.0f} chunks/s, "
          f"max {embedded.max_in_flight} in flight  [target >= 80 %]")

    searcher = await Searcher.open(db, None)
    await searcher.refresh()
    queries = _queries(random.Random(7), 60)
    timings = []
    rng = np.random.default_rng(1)
    for query in queries:
        vector = rng.standard_normal(args.dims).astype(np.float32)
        vector /= np.linalg.norm(vector)
        t = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(
            searcher._executor, searcher.search_local, query, 10, vector)
        timings.append(time.perf_counter() - t)
    await searcher.close()
    print(f"   hybrid search (local part) over this index, {len(searcher.vectors)} vectors: "
          f"{_percentiles(timings)}")


def _limit_pending(db: Path, keep: int) -> None:
    with NoteStore(db) as store:
        rest = [p.id for p in store.pending_chunks()[keep:]]
        store.mark_embed_failed(rest)


def _queries(rng: random.Random, count: int) -> list[str]:
    out = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            out.append(" ".join(rng.sample(WORDS, 2)))
        elif kind == 1:
            out.append("".join(rng.choices(HANZI[:600], k=2)))
        else:
            out.append(f"E-{rng.randint(1000, 9999)}")
    return out


def _percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


def _build_search_store(db: Path, work: Path, n: int, dims: int, rng: random.Random) -> None:
    with NoteStore(db) as store:
        store.set_index_model("text-embedding-v4", dims)
        folder = store.add_folder(str(work / "synthetic"))
        per_file = 10
        batch = []
        for f in range(n // per_file):
            chunks = tuple(
                Chunk(c, note_text(rng, 300)[:500], ("Heading",), c * 5 + 1, c * 5 + 5)
                for c in range(per_file)
            )
            batch.append(IndexedFile(f"/synthetic/f{f:06d}.md", 1, 1, f"{f}", "utf-8", chunks))
            if len(batch) == 500:
                store.apply(folder, batch)
                batch = []
        if batch:
            store.apply(folder, batch)
        vec_rng = np.random.default_rng(5)
        ids = [p.id for p in store.pending_chunks()]
        for i in range(0, len(ids), 5000):
            block = vec_rng.standard_normal((len(ids[i:i + 5000]), dims)).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            store.save_vectors([(cid, block[j].tobytes()) for j, cid in enumerate(ids[i:i + 5000])])


def bench_search(args: argparse.Namespace, work: Path) -> None:
    db = work / "search.sqlite3"
    n, dims = args.search_chunks, args.dims
    rng = random.Random(3)
    started = time.perf_counter()
    if db.exists():  # --keep DIR of an earlier run: measure the same store again
        print(f"4. synthetic store reused from {db}")
    else:
        _build_search_store(db, work, n, dims, rng)
        print(f"4. synthetic store: {n} chunks x {dims} dims built in {time.perf_counter() - started:.1f} s")

    async def measure() -> None:
        searcher = await Searcher.open(db, None)
        before = rss_bytes()
        t = time.perf_counter()
        await searcher.refresh()
        load = time.perf_counter() - t
        grown = rss_bytes() - before
        raw = len(searcher.vectors) * dims * 4
        print(f"   compact vectors (int8 + scale) loaded in {load:.1f} s: arrays "
              f"{searcher.vectors.nbytes / 1e6:.0f} MB, RSS +{grown / 1e6:.0f} MB, raw float32 "
              f"{raw / 1e6:.0f} MB -> {searcher.vectors.nbytes / raw:.2f}x (arrays), "
              f"{grown / raw:.2f}x (RSS)  [target <= 0.35x]")
        # Today's float32 search, side by side: the whole matrix as float32 (loaded after the RSS
        # figure above, so it does not count in it).
        with NoteStore(db) as plain:
            blobs = [r for rows in plain.iter_vectors() for r in rows]
        float_ids = np.array([r[1] for r in blobs], dtype=np.int64)
        matrix = np.frombuffer(b"".join(r[2] for r in blobs), dtype=np.float32).reshape(-1, dims)
        del blobs
        queries = _queries(random.Random(11), 100)
        vrng = np.random.default_rng(2)
        timings, keyword, matvec, compact, compact10, agree = [], [], [], [], [], []
        loop = asyncio.get_running_loop()
        for query in queries:
            vector = vrng.standard_normal(dims).astype(np.float32)
            vector /= np.linalg.norm(vector)
            t = time.perf_counter()
            await loop.run_in_executor(searcher._executor, searcher.search_local, query, 10, vector)
            timings.append(time.perf_counter() - t)
            t = time.perf_counter()
            await loop.run_in_executor(searcher._executor, searcher.search_local, query, 10, None)
            keyword.append(time.perf_counter() - t)
            t = time.perf_counter()
            exact = matrix @ vector
            matvec.append(time.perf_counter() - t)
            t = time.perf_counter()
            searcher.vectors.top(vector, 50)
            compact.append(time.perf_counter() - t)
            t = time.perf_counter()
            got = searcher.vectors.top(vector, 10)
            compact10.append(time.perf_counter() - t)
            expected = set(float_ids[np.argpartition(-exact, 10)[:10]].tolist())
            agree.append(len(expected & {cid for cid, _ in got}) / 10)
        print(f"   hybrid search, local part (vectors + FTS5 + fusion + snippets): "
              f"{_percentiles(timings)}  [target p50 < 30 ms]")
        print(f"   keyword search, local part (FTS5 + exact matches + snippets, no vector): "
              f"{_percentiles(keyword)}  [target p99 < 30 ms]")
        print(f"   floor, one float32 matrix-vector pass ({matrix.nbytes / 1e6:.0f} MB): {_percentiles(matvec)}")
        print(f"   compact vector top-50 (int8 pass + exact rescoring of 100 from SQLite): "
              f"{_percentiles(compact)}  [target <= the floor]")
        print(f"   compact vector top-10 (int8 pass + exact rescoring of 64): {_percentiles(compact10)}")
        print(f"   top-10 agreement with exact float32 search: {statistics.mean(agree):.3f} "
              f"(worst query {min(agree):.1f})  [target >= 0.99]")
        await searcher.close()

    asyncio.run(measure())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--corpus-mb", type=float, default=30.0)
    parser.add_argument("--search-chunks", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=1024)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--embed-limit", type=int, default=None,
                        help="embed only the first N chunks (the rate is the same, the run shorter)")
    parser.add_argument("--embedder", choices=("qwenclient", "base64"), default="qwenclient",
                        help="the app's QwenClient (JSON floats) or the SDK's base64 format")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-notes-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, work dir {work}")
    try:
        if not args.skip_index:
            asyncio.run(bench_index(args, work))
        if not args.skip_search:
            bench_search(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
