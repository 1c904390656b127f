"""Rerank benchmark (a script, not a test): which note ask-your-notes cites first, with and without
the reranker, over the labelled set in tests/data/rerank_set.json (50 Chinese and English question
→ note pairs).

    python tests/perf/bench_rerank.py [--model gte-rerank-v2] [--verbose]

Everything runs against the project's loopback DashScope server (only 127.0.0.1 is contacted):
its embeddings and rerank scores are deterministic stand-ins (hashed words; the share of the
question's words in a note), so the figures check the plumbing — candidates sent, order taken
over, fallback, tokens counted — not the quality of a real rerank model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from desktop.core.ask import SearcherRetriever
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.notes.rerank import DashScopeReranker
from desktop.core.notes.search import Searcher
from tests.support.dashscope_server import TEST_KEY, DashScopeServer
from tests.support.notes import index_notes, write_notes

SET_FILE = PROJECT_ROOT / "tests" / "data" / "rerank_set.json"


def load_set() -> tuple[dict[str, str], list[tuple[str, str]]]:
    data = json.loads(SET_FILE.read_text(encoding="utf-8"))
    return dict(data["notes"]), [(q, n) for q, n in data["pairs"]]


async def first_cited(retriever: SearcherRetriever, question: str) -> tuple[str | None, int]:
    retrieval = await retriever.retrieve(question)
    relevant = retrieval.relevant
    tokens = retrieval.rerank.total_tokens if retrieval.rerank is not None else 0
    return (os.path.basename(relevant[0].path) if relevant else None), tokens


async def bench(model: str, verbose: bool) -> None:
    notes, pairs = load_set()
    with tempfile.TemporaryDirectory(prefix="bench-rerank-") as work, DashScopeServer() as srv:
        root = Path(work)
        write_notes(root / "notes", notes)
        async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY,
                                               proxy_mode="none")) as client:
            await index_notes(root / "notes", root / "notes.sqlite3", client)
            searcher = await Searcher.open(root / "notes.sqlite3", client)
            plain = SearcherRetriever(searcher)
            reranked = SearcherRetriever(searcher, reranker=DashScopeReranker(client), rerank_model=model)
            rows = []
            spent = {"fused": 0.0, "reranked": 0.0}
            tokens = 0
            for question, note in pairs:
                started = time.perf_counter()
                without, _ = await first_cited(plain, question)
                spent["fused"] += time.perf_counter() - started
                started = time.perf_counter()
                with_rerank, used = await first_cited(reranked, question)
                spent["reranked"] += time.perf_counter() - started
                tokens += used
                rows.append((question, note, without, with_rerank))
            await searcher.close()
    print(f"labelled set: {len(pairs)} questions over {len(notes)} notes "
          f"({sum(any('一' <= c <= '鿿' for c in q) for q, _ in pairs)} Chinese), rerank model {model}")
    for label, index in (("without reranker (fused order)", 2), (f"with {model}", 3)):
        right = sum(r[index] == r[1] for r in rows)
        zh = [r for r in rows if any("一" <= c <= "鿿" for c in r[0])]
        en = [r for r in rows if r not in zh]
        print(f"  cited first is the labelled note, {label}: {right}/{len(rows)} "
              f"(Chinese {sum(r[index] == r[1] for r in zh)}/{len(zh)}, "
              f"English {sum(r[index] == r[1] for r in en)}/{len(en)})")
    changed = [r for r in rows if r[2] != r[3]]
    print(f"  questions whose first citation the reranker changed: {len(changed)}; rerank tokens "
          f"counted: {tokens:,} ({tokens / len(rows):.0f} per question)")
    print(f"  time per question (loopback): fused {spent['fused'] / len(rows) * 1000:.1f} ms, "
          f"reranked {spent['reranked'] / len(rows) * 1000:.1f} ms")
    print("  (deterministic loopback scores: this checks the plumbing, not a real model's quality)")
    if verbose:
        for question, note, without, with_rerank in rows:
            print(f"    {note:18} fused={without or '-':18} reranked={with_rerank or '-':18} {question}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="gte-rerank-v2", choices=("gte-rerank-v2", "qwen3-rerank"))
    parser.add_argument("--verbose", action="store_true", help="one line per question")
    args = parser.parse_args()
    asyncio.run(bench(args.model, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
