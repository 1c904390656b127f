"""Rate-limit benchmark (a script, not a test): the figures issue 10, item 14 asks for.

    python tests/perf/bench_rate_limit.py [--chunks 20000] [--window 4] [--index-limit 300]
                                          [--chats 50] [--chat-limit 20] [--concurrency 4]

The loopback DashScope server (a separate process, 127.0.0.1 only) limits each endpoint to N
requests per window; the window is a simulated minute of ``--window`` seconds, and the app's retry
policy is scaled by the same factor (window / 60), so every wait is what it would be against a
real per-minute limit, only shorter. Each figure is measured twice: "before" is the policy as it
was (``RetryPolicy(paced=False)``: rate limits retried a few times like any busy answer, each
caller on its own), "after" is the paced policy.

1. an index of ``--chunks`` chunks at ``--index-limit`` requests per minute (10 inputs each): runs
   needed (a failed run is simply run again, at once — a person would take longer) and chunks
   embedded per simulated minute, against the limit's ceiling of limit × 10;
2. ``--chats`` concurrent chat turns at ``--chat-limit`` requests per minute: how many succeed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from desktop.core.chat import ChatOptions, ChatService, TurnEnded
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore
from desktop.core.notes.index import Indexer
from desktop.core.notes.index_records import IndexConfig
from desktop.core.retry import RetryPolicy

TEST_KEY = "sk-test-0000000000000000"
SECTIONS_PER_NOTE = 20
MAX_RUNS = 60


def start_server(limit: int, window: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.dashscope_server", "--rate-limit", str(limit),
         "--rate-window", str(window)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("BASE_URL="):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def make_corpus(root: Path, chunks: int) -> None:
    """Notes of SECTIONS_PER_NOTE headed sections, one chunk each."""
    root.mkdir(parents=True)
    for n in range((chunks + SECTIONS_PER_NOTE - 1) // SECTIONS_PER_NOTE):
        sections = [f"## Section {n}.{s}\n\nParagraph {n} {s} about subject {n * 31 + s}, "
                    f"meeting {s % 7} and budget {n % 13}.\n"
                    for s in range(min(SECTIONS_PER_NOTE, chunks - n * SECTIONS_PER_NOTE))]
        (root / f"note{n:05d}.md").write_text(f"# Note {n}\n\n" + "\n".join(sections), "utf-8")


def policy(window: float, paced: bool) -> RetryPolicy:
    return RetryPolicy(scale=window / 60, paced=paced)


async def bench_index(args: argparse.Namespace, work: Path, paced: bool) -> str:
    label = "after " if paced else "before"
    server, base_url = start_server(args.index_limit, args.window)
    try:
        config = IndexConfig(dimensions=64, concurrency=args.concurrency, retry=policy(args.window, paced))
        async with QwenClient(ConnectionConfig(base_url=base_url, api_key=TEST_KEY, proxy_mode="none")) as client:
            db = work / f"notes-{label.strip()}.sqlite3"
            indexer = await Indexer.open(db, config, client)
            try:
                estimate, _ = await indexer.prepare([str(work / "notes")])
                runs, failed = 0, ""
                started = time.perf_counter()
                while runs < MAX_RUNS:
                    runs += 1
                    try:
                        await indexer.embed_pending()
                    except QwenError as error:
                        if error.kind not in (ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED):
                            raise
                        failed = error.kind.value
                        continue
                    break
                seconds = time.perf_counter() - started
            finally:
                await indexer.close()
            with sqlite3.connect(db) as conn:
                embedded = int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    finally:
        server.terminate()
        server.wait(10)
    per_minute = embedded / (seconds / args.window)
    ceiling = args.index_limit * 10
    return (f"  {label}: {embedded:,} of {estimate.chunks:,} chunks in {runs} run(s) "
            f"({runs - 1} rerun(s){', each stopped by ' + failed if runs > 1 else ''}), "
            f"{per_minute:,.0f} chunks per simulated minute (ceiling {ceiling:,}), "
            f"{seconds:.1f} s")


async def bench_chats(args: argparse.Namespace, work: Path, paced: bool) -> str:
    label = "after " if paced else "before"
    server, base_url = start_server(args.chat_limit, args.window)
    history = HistoryStore(work / f"history-{label.strip()}.sqlite3")
    service = ChatService(history, policy=policy(args.window, paced))
    try:
        async with QwenClient(ConnectionConfig(base_url=base_url, api_key=TEST_KEY, proxy_mode="none")) as client:

            async def one(i: int) -> bool:
                conversation = history.create_conversation()
                service.add_user_message(conversation.id, f"question {i}")
                ok = False
                async for event in service.run_turn(client, conversation.id, ChatOptions(model="qwen-plus")):
                    if isinstance(event, TurnEnded):
                        ok = event.error is None
                return ok

            started = time.perf_counter()
            results = await asyncio.gather(*[one(i) for i in range(args.chats)])
            seconds = time.perf_counter() - started
    finally:
        history.close()
        server.terminate()
        server.wait(10)
    return (f"  {label}: {sum(results)} of {args.chats} chats succeeded, "
            f"{seconds / args.window:.1f} simulated minutes ({seconds:.1f} s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--window", type=float, default=4.0, help="seconds of a simulated minute")
    parser.add_argument("--index-limit", type=int, default=300, help="embedding requests per minute")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--chat-limit", type=int, default=20, help="chat requests per minute")
    parser.add_argument("--concurrency", type=int, default=4, help="embedding requests in flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        work = Path(tmp)
        os.environ["QWEN_DESKTOP_HOME"] = str(work / "home")
        make_corpus(work / "notes", args.chunks)
        print(f"1. index of {args.chunks:,} chunks at {args.index_limit} requests/minute "
              f"(a minute is {args.window:g} s):")
        for paced in (False, True):
            print(await bench_index(args, work, paced), flush=True)
        print(f"2. {args.chats} concurrent chats at {args.chat_limit} requests/minute:")
        for paced in (False, True):
            print(await bench_chats(args, work, paced), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
