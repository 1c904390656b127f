"""Benchmark: open a 500-message conversation in the real chat tab and scroll through it, offscreen.

Prints the time from asking the tab to open the conversation to the first painted frame of the
conversation view (target < 300 ms), the time to jump to the start and back to the end, and the
event-loop gaps while scrolling through it page by page. Not a test: run it by hand,

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_history.py [--messages 500]

The conversation is written straight into a fresh history database: 250 questions and 250
answers of mixed Markdown (headings, lists, code, tables, Chinese), every tenth answer about
5,000 tokens long.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_chat import markdown_reply  # noqa: E402

PAGE_INTERVAL_S = 0.03  # a page every 30 ms: faster than anyone reads, as when dragging the scroll bar


def fill_history(messages: int) -> int:
    from desktop.core import paths
    from desktop.core.client import Usage
    from desktop.core.history import HistoryStore

    store = HistoryStore(paths.history_db())
    conversation = store.create_conversation("A long conversation")
    long_text = "".join(markdown_reply(5_000))
    short_text = "".join(markdown_reply(300))
    for i in range(messages // 2):
        store.add_message(conversation.id, "user", f"Question {i + 1}: what about section {i}? 第{i + 1}个问题")
        reply = store.add_message(conversation.id, "assistant", long_text if i % 10 == 0 else short_text,
                                  model="qwen-plus")
        reply.usage = Usage(1200 + i, 300)
        store.update_message(reply)
    store.close()
    return conversation.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()

    os.environ["QWEN_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="qwen-bench-history-")
    os.environ["DASHSCOPE_API_KEY"] = "sk-test-0000000000000000"
    conversation_id = fill_history(args.messages)

    import qasync
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.gui.app import settle_garbage_collector
    from desktop.core.appcontext import AppContext
    from desktop.core import settings as settings_mod
    from desktop.core.settings import Settings
    from desktop.gui.main_window import MainWindow
    from desktop.core.tasks import TaskRunner

    settings_mod.save(Settings(region="custom", custom_base_url="http://127.0.0.1:9/compatible-mode/v1"))
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    services = AppContext.create()
    tasks = TaskRunner()
    window = MainWindow(services, tasks)
    window.resize(1100, 800)
    window.show()
    tab = window.chat_tab
    view = tab.view

    class PaintWatch(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.painted_at: float | None = None

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint and self.painted_at is None:
                self.painted_at = time.perf_counter()
            return False

    watch = PaintWatch()
    view.viewport().installEventFilter(watch)
    # Children of the viewport paint themselves: watch the container and its widgets too.
    app.installEventFilter(watch)

    gaps: list[float] = []
    last_tick = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last_tick[0]) * 1000)
        last_tick[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    async def painted(since_watch: PaintWatch) -> float:
        while since_watch.painted_at is None:
            await asyncio.sleep(0)
        return since_watch.painted_at

    results: dict[str, float] = {}

    async def scenario() -> None:
        await window.start()
        await window.warmed_up
        settle_garbage_collector()  # as the app does once its window is up
        tab.new_conversation()
        await asyncio.sleep(0.05)
        watch.painted_at = None
        started = time.perf_counter()
        tab.open_conversation(conversation_id)
        opened = time.perf_counter()
        first_paint = await painted(watch)
        app.removeEventFilter(watch)  # it slows every event down
        results["open_call"] = (opened - started) * 1000
        results["first_paint"] = (first_paint - started) * 1000
        bar = view.verticalScrollBar()
        results["widgets_at_open"] = len(view.message_widgets())
        await asyncio.sleep(0.1)

        # Scroll up a page at a time (older messages load as they come into reach) to the very
        # start of the conversation, then back down to the end, a page every 30 ms.
        async def page(direction: int) -> tuple[float, int]:
            last_tick[0] = time.perf_counter()
            timer.start()
            started = time.perf_counter()
            steps = 0
            while True:
                if direction < 0 and bar.value() == bar.minimum() and not view.has_older():
                    break
                if direction > 0 and bar.value() >= bar.maximum():
                    break
                bar.setValue(bar.value() + direction * bar.pageStep())
                steps += 1
                await asyncio.sleep(PAGE_INTERVAL_S)
            timer.stop()
            return (time.perf_counter() - started) * 1000, steps

        results["scroll_up"], results["pages_up"] = await page(-1)
        gaps_up = list(gaps)
        gaps.clear()
        results["scroll_down"], results["pages_down"] = await page(+1)
        results["gaps_up"] = gaps_up  # type: ignore[assignment]
        results["height"] = bar.maximum()
        await window.shutdown()
        await tasks.shutdown()
        await services.aclose()

    with loop:
        loop.run_until_complete(scenario())

    def gap_line(values: list[float]) -> str:
        ordered = sorted(values) or [0.0]
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
        return (f"event-loop gaps max {max(ordered):.1f} ms, p99 {p99:.1f} ms, "
                f"median {statistics.median(ordered):.1f} ms")

    widgets = view.message_widgets()
    print(f"conversation: {args.messages} messages, {int(results['widgets_at_open'])} message widgets at "
          f"open, {len(widgets)} at the end, {int(results['height']):,} px tall")
    print(f"open to first paint: {results['first_paint']:.0f} ms (open call {results['open_call']:.0f} ms; "
          f"target < 300 ms)")
    print(f"scroll up to the first message, {int(results['pages_up'])} pages: {results['scroll_up']:.0f} ms; "
          + gap_line(results["gaps_up"]))  # type: ignore[arg-type]
    print(f"scroll down to the end, {int(results['pages_down'])} pages: {results['scroll_down']:.0f} ms; "
          + gap_line(gaps))


if __name__ == "__main__":
    main()
