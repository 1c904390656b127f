"""Benchmark: memory of the notes vectors once both the Search tab and the Chat tab have searched.

Writes a notes index of N chunks × 1024 float32 dims straight into the app's notes database (in a
child process, so that building it leaves nothing in this process's memory), then opens the real
window offscreen, runs a search in the Search tab and a "use my notes" question in the Chat tab
against the loopback DashScope server (a separate process; it embeds queries at the index's
dimension), and prints the RSS at each step against the raw vector bytes. Not a test:

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_memory_tabs.py [--chunks 100000]

Target: (RSS after both tabs searched − RSS of the idle window) / raw vector bytes ≤ 1.3× (one copy).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DIMS = 1024
MODEL = "text-embedding-v4"  # the settings' default; the server answers it at 1024 dims
CHUNKS_PER_FILE = 10
WORDS = ["budget", "meeting", "project", "schedule", "invoice", "approval", "travel", "expense", "report", "quarterly", "customer", "contract", "review", "policy", "update", "deadline", "server", "database", "backup", "network", "printer", "password", "training", "manager", "team", "office", "holiday", "payment", "vendor", "order", "delivery", "sales", "forecast"]
QUESTION = "What did the quarterly budget meeting decide?"


def rss_mb() -> float:
    """VmRSS from /proc/self/status, in MB (what the user sees in a task manager)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmRSS in /proc/self/status")


def build_store(db: Path, folder: str, chunks: int) -> None:
    """The index as an index run would leave it: files, chunks (+ FTS rows), one vector each.

    Uses the store's own bulk calls (``apply`` of IndexedFile batches, ``save_vectors`` in blocks)
    like bench_notes.py. Texts are random words: cheap, and keyword search finds them. Vectors are
    random unit vectors; their values do not matter for memory, only their count and size.
    """
    import numpy as np

    from desktop.core.notes.chunker import Chunk
    from desktop.core.notes.store import NoteStore
    from desktop.core.notes.store_records import IndexedFile

    rng = random.Random(3)
    with NoteStore(db) as store:
        store.set_index_model(MODEL, DIMS)
        folder_id = store.add_folder(folder)
        batch: list[IndexedFile] = []
        for f in range((chunks + CHUNKS_PER_FILE - 1) // CHUNKS_PER_FILE):
            count = min(CHUNKS_PER_FILE, chunks - f * CHUNKS_PER_FILE)
            parts = tuple(Chunk(c, " ".join(rng.choices(WORDS, k=60)), ("Notes",), c * 5 + 1, c * 5 + 5)
                          for c in range(count))
            batch.append(IndexedFile(os.path.join(folder, f"f{f:06d}.md"), 1, 1, str(f), "utf-8", parts))
            if len(batch) == 500:
                store.apply(folder_id, batch)
                batch = []
        if batch:
            store.apply(folder_id, batch)
        with store.reading() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM chunks ORDER BY id")]
        vec_rng = np.random.default_rng(5)
        for i in range(0, len(ids), 5000):
            part = ids[i:i + 5000]
            block = vec_rng.standard_normal((len(part), DIMS), dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            store.save_vectors([(cid, block[j].tobytes()) for j, cid in enumerate(part)])
        store.mark_folder_indexed(folder_id)


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.dashscope_server"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("BASE_URL="):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def loaded_matrices() -> list[tuple[str, int, int]]:
    """(owner, rows, bytes) of every Searcher alive, found through the garbage collector."""
    from desktop.core.notes.search import Searcher

    return [(type(o).__name__, len(o.vectors), o.vectors.nbytes)
            for o in gc.get_objects() if isinstance(o, Searcher)]


def bench(chunks: int, home: Path) -> None:
    os.environ["QWEN_DESKTOP_HOME"] = str(home)
    db = home / "notes.sqlite3"  # desktop.core.paths.notes_db() for this data dir
    # A folder that does not exist: the start-up index run then keeps its index as it is (a
    # missing folder is an unplugged drive) instead of re-reading 10,000 files.
    folder = str(home / "unplugged-notes")
    if not db.exists():
        started = time.perf_counter()
        # A forked child (before Qt is imported) builds it, so SQLite caches and the Python
        # objects of the build do not stay in this process's RSS.
        child = multiprocessing.get_context("fork").Process(target=build_store, args=(db, folder, chunks))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"building the store failed ({child.exitcode})")
        print(f"notes index: {chunks:,} chunks × {DIMS} dims written in {time.perf_counter() - started:.1f} s "
              f"({db.stat().st_size / 1e6:.0f} MB on disk)")

    import qasync  # type: ignore[import-untyped]
    from PySide6.QtWidgets import QApplication

    from desktop.core.appcontext import AppContext
    from desktop.core import settings as settings_mod
    from desktop.core.settings import Settings
    from desktop.gui.main_window import MainWindow
    from desktop.gui.search.tab import SEARCH_TASK
    from desktop.core.tasks import TaskRunner
    from tests.support.dashscope_server import TEST_KEY

    server, base_url = start_server()
    os.environ["DASHSCOPE_API_KEY"] = TEST_KEY
    settings_mod.save(Settings(region="custom", custom_base_url=base_url, notes_folders=[folder],
                               embedding_model=MODEL, embedding_dimensions=DIMS))
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    rss: dict[str, float] = {}
    info: dict[str, Any] = {}

    async def idle(tasks: TaskRunner) -> None:
        """Until every task the window started has ended, then a collection and a short rest."""
        while any(not t.done() for t in tasks._all):  # private, but a benchmark may look
            await asyncio.sleep(0.05)
        gc.collect()
        await asyncio.sleep(0.5)

    async def scenario() -> None:
        gc.collect()
        rss["before window"] = rss_mb()
        services = AppContext.create()
        tasks = TaskRunner()
        window = MainWindow(services, tasks)
        window.resize(1100, 800)
        window.show()
        await window.start()  # includes the start-up index run over the (missing) folder
        assert window.warmed_up is not None
        await window.warmed_up
        await idle(tasks)
        rss["window idle (baseline)"] = rss_mb()

        # The Search tab: what a typed query does once its debounce timer fires.
        window.tabs.setCurrentWidget(window.search_tab)
        shown = asyncio.get_running_loop().create_future()

        def on_results_shown(count: int) -> None:
            if not shown.done():
                shown.set_result(count)

        window.search_tab.results_shown.connect(on_results_shown)
        started = time.perf_counter()
        window.search_tab.search_box.setText("quarterly budget meeting")
        window.search_tab.search_now()
        info["search results"] = await shown
        info["search s"] = time.perf_counter() - started
        info["search kind"] = "keyword only" if window.search_tab.notice_label.isVisible() else "hybrid"
        await idle(tasks)
        assert not tasks.running(SEARCH_TASK)
        rss["after Search tab searched"] = rss_mb()

        # The Chat tab: "Ask Qwen about these results" fills the composer with "Use my notes" on;
        # the user sends it.
        started = time.perf_counter()
        window.search_tab.ask_requested.emit(QUESTION)
        await asyncio.sleep(0)
        window.chat_tab.send()
        await asyncio.sleep(0.05)
        while window.chat_tab.is_busy():
            await asyncio.sleep(0.02)
        info["ask s"] = time.perf_counter() - started
        reply = window.chat_tab.view.message_widgets()[-1].message
        info["sources"] = len(reply.sources or [])
        await idle(tasks)
        rss["after Chat tab asked"] = rss_mb()
        info["matrices"] = loaded_matrices()
        # Diagnostic only: how much of the growth is freed heap glibc keeps (malloc_trim(0)
        # returns free pages of every arena, including the search threads') rather than arrays.
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        info["trimmed"] = rss_mb()

        await window.shutdown()
        await tasks.shutdown()
        await services.aclose()

    try:
        with loop:
            loop.run_until_complete(scenario())
    finally:
        server.terminate()
        server.wait(10)

    raw = chunks * DIMS * 4 / 1e6
    print(f"raw vector bytes: {chunks:,} × {DIMS} × 4 = {raw:,.1f} MB")
    for label, value in rss.items():
        print(f"RSS {label}: {value:,.1f} MB")
    print(f"Search tab: {info['search results']} results ({info['search kind']}) in {info['search s']:.2f} s "
          f"(first search, matrix load included); Chat tab: answered with {info['sources']} sources "
          f"in {info['ask s']:.2f} s")
    grown = rss["after Chat tab asked"] - rss["window idle (baseline)"]
    print(f"(RSS after both − baseline) / raw vector bytes: {grown:,.1f} / {raw:,.1f} MB = "
          f"{grown / raw:.2f}×  [target <= 1.3×, one copy]")
    trimmed = info["trimmed"] - rss["window idle (baseline)"]
    print(f"  diagnostic, after malloc_trim(0): RSS {info['trimmed']:,.1f} MB, "
          f"{trimmed / raw:.2f}× (the rest of the growth is freed heap the allocator kept)")
    matrices = info["matrices"]
    loaded = [m for m in matrices if m[1]]
    print(f"Searcher instances alive: {len(matrices)}, with vectors loaded: {len(loaded)} "
          f"({', '.join(f'{rows:,} rows / {size / 1e6:,.0f} MB' for _, rows, size in loaded) or 'none'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="data dir to use and keep (its notes index is "
                        "reused if present); default: a new temporary one")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="qwen-bench-memory-"))
    home.mkdir(parents=True, exist_ok=True)
    try:
        bench(args.chunks, home.resolve())
    finally:
        if args.home is None:  # the index is ~600 MB at 100k chunks: do not leave it in /tmp
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
