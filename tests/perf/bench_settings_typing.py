"""Benchmark: type 30 characters into the Settings tab's system-prompt editor, offscreen.

Builds the real window (temporary data dir, settings pointing at the loopback DashScope server in
a separate process, custom region), opens the Settings tab and types one key event every 30 ms,
as a person would, then waits 1.5 s for any debounced write. Prints how many times settings.json
was written, the event loop's max and p99 gap (5 ms QTimer, as bench_chat.py) and the time taken;
and, as a floor, the same typing into a bare QPlainTextEdit. Not a test: run it by hand,

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_settings_typing.py [--chars 30]

Targets: settings.json written at most 2 times, max gap < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TEXT = "Always answer briefly, in English"  # cut to --chars; letters, spaces and a comma
KEY_INTERVAL_MS = 30
SETTLE_S = 1.5


class WriteCounter:
    """Counts writes of one file through the interpreter's audit events, whoever makes them.

    An atomic save (temp file + os.replace) raises "os.rename" with the file as destination; a
    direct write raises "open" on it with a writing mode. Wrapping the app's save function would
    miss other writers, and polling mtime/inode from a timer misses writes within one poll. Audit
    hooks cannot be removed, so this one counts only while ``active``. Writes made inside Qt (e.g.
    QSaveFile) bypass Python: the caller compares the file's inode/mtime as a yes/no check.
    """

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def __init__(self, path: Path) -> None:
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path)
        self.active = False
        self.renames = 0
        self.direct_opens = 0
        sys.addaudithook(self._hook)

    @property
    def writes(self) -> int:
        return self.renames + self.direct_opens

    def _is_target(self, value: Any) -> bool:
        if isinstance(value, int):  # open() of a file descriptor
            return False
        path = os.fsdecode(value)  # str, bytes or path-like
        return path.endswith(self.name) and os.path.abspath(path) == self.path

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "os.rename" and self._is_target(args[1]):  # os.rename and os.replace
            self.renames += 1
        elif event == "open" and self._is_target(args[0]):
            mode, flags = args[1], args[2]
            writing = (any(c in mode for c in "wax+") if isinstance(mode, str)
                       else bool(flags & self.WRITE_FLAGS))
            self.direct_opens += writing


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


@dataclass
class TypingRun:
    """What one typing session measured."""

    gaps: list[float] = field(default_factory=list)  # ms between ticks of the 5 ms timer
    key_ms: list[float] = field(default_factory=list)  # time spent inside each key event
    typing_s: float = 0.0  # first key to last key handled
    total_s: float = 0.0  # first key to the end of the settle wait

    def summary(self) -> str:  # gaps as bench_chat.py computes them
        ordered = sorted(self.gaps)
        p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
        return (f"max gap {max(ordered, default=0.0):.1f} ms, p99 gap {p99:.1f} ms over "
                f"{len(ordered)} ticks; per key event max {max(self.key_ms):.1f} ms, "
                f"mean {sum(self.key_ms) / len(self.key_ms):.1f} ms; typing {self.typing_s:.2f} s, "
                f"total {self.total_s:.2f} s")


async def type_into(editor: Any, text: str, settle_s: float) -> TypingRun:
    """One QTest.keyClick per character, KEY_INTERVAL_MS apart from a QTimer on the running loop
    (so Qt paints and qasync runs callbacks between keys), while a 5 ms timer records the gaps."""
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest

    run = TypingRun()
    last_tick = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        run.gaps.append((now - last_tick[0]) * 1000)
        last_tick[0] = now

    remaining = list(text)
    done = asyncio.get_running_loop().create_future()

    def press() -> None:
        t = time.perf_counter()
        QTest.keyClick(editor, remaining.pop(0))  # type: ignore[call-overload]  # Qt's char overload
        run.key_ms.append((time.perf_counter() - t) * 1000)
        if not remaining:
            key_timer.stop()
            done.set_result(time.perf_counter())

    gap_timer = QTimer()
    gap_timer.setInterval(5)
    gap_timer.timeout.connect(tick)
    key_timer = QTimer()
    key_timer.setInterval(KEY_INTERVAL_MS)
    key_timer.timeout.connect(press)
    started = time.perf_counter()
    last_tick[0] = started
    gap_timer.start()
    key_timer.start()
    press()  # the first key at once, the others from the timer
    typed_at = await done
    run.typing_s = typed_at - started
    await asyncio.sleep(settle_s)  # a debounced save would land in here
    gap_timer.stop()
    run.total_s = time.perf_counter() - started
    return run


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The loopback server in its own process (as bench_notes.py), so it takes no GIL from us."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.dashscope_server"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("BASE_URL="):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def bench(chars: int, notes_files: int) -> None:
    import qasync  # type: ignore[import-untyped]
    from PySide6.QtGui import QTextCursor
    from PySide6.QtWidgets import QApplication, QPlainTextEdit, QVBoxLayout, QWidget

    from desktop.core.appcontext import AppContext
    from desktop.core import paths
    from desktop.core import settings as settings_mod
    from desktop.core.settings import Settings
    from desktop.gui.main_window import MainWindow
    from desktop.core.tasks import TaskRunner
    from tests.support.dashscope_server import TEST_KEY

    text = (TEXT * (chars // len(TEXT) + 1))[:chars]
    server, base_url = start_server()
    os.environ["QWEN_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="qwen-bench-settings-")
    os.environ["DASHSCOPE_API_KEY"] = TEST_KEY
    settings_path = paths.settings_file()
    folders: list[str] = []
    if notes_files:
        # A user with a folder of notes: every settings change also reaches the Search tab
        # (folder list, watcher, status), so typing shows what that costs too.
        notes = paths.data_dir() / "notes"
        notes.mkdir()
        for i in range(notes_files):
            (notes / f"note{i:03d}.md").write_text(f"# Note {i}\n\nBudget meeting {i}, quarterly review.\n")
        folders = [str(notes)]
    settings_mod.save(Settings(region="custom", custom_base_url=base_url, notes_folders=folders))
    counter = WriteCounter(settings_path)  # installed after the setup write, counting off
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    results: dict[str, Any] = {}

    async def scenario() -> None:
        # The floor first: a bare editor in a bare widget, same typing, no app code behind it.
        bare = QWidget()
        bare_edit = QPlainTextEdit(bare)
        QVBoxLayout(bare).addWidget(bare_edit)
        bare.resize(900, 300)
        bare.show()
        bare_edit.setFocus()
        await type_into(bare_edit, "x", 0.1)  # first-use costs (fonts, layout) are not the point
        results["floor"] = await type_into(bare_edit, text, SETTLE_S)
        bare.close()

        services = AppContext.create()
        tasks = TaskRunner()
        window = MainWindow(services, tasks)
        window.resize(1100, 800)
        window.show()
        await window.start()
        assert window.warmed_up is not None
        await window.warmed_up  # the warm-up thread would compete for the GIL while typing
        while any(not t.done() for t in tasks._all):  # start-up tasks (notes status, jobs) end
            await asyncio.sleep(0.02)
        window.show_settings()
        editor = window.settings_tab.system_prompt
        editor.setFocus()
        editor.moveCursor(QTextCursor.MoveOperation.End)
        signals = [0]
        window.settings_tab.settings_changed.connect(lambda: signals.__setitem__(0, signals[0] + 1))
        await asyncio.sleep(0.3)  # let the tab switch paint before measuring
        before = file_identity(settings_path)
        counter.active = True
        results["window"] = await type_into(editor, text, SETTLE_S)
        counter.active = False
        results["changed_on_disk"] = file_identity(settings_path) != before
        results["signals"] = signals[0]
        typed = editor.toPlainText()
        results["saved_ok"] = typed.endswith(text) and settings_mod.load(settings_path).system_prompt == typed
        await window.shutdown()
        await tasks.shutdown()
        await services.aclose()

    try:
        with loop:
            loop.run_until_complete(scenario())
    finally:
        server.terminate()
        server.wait(10)

    window_run: TypingRun = results["window"]
    print(f"notes folders in the settings: {len(folders)}"
          + (f" (one real folder of {notes_files} notes, indexed and watched)" if folders else ""))
    print(f"typed {chars} characters, one key event every {KEY_INTERVAL_MS} ms, then waited {SETTLE_S} s")
    print(f"settings.json writes during typing + wait: {counter.writes} "
          f"({counter.renames} atomic replaces, {counter.direct_opens} direct opens for writing; "
          f"file changed on disk: {results['changed_on_disk']}; editor and saved file hold the typed text: "
          f"{results['saved_ok']})  [target <= 2]")
    print(f"settings_changed signals emitted: {results['signals']}")
    print(f"Settings tab: {window_run.summary()}  [target max gap < 50 ms]")
    print(f"floor, bare QPlainTextEdit in a bare QWidget: {results['floor'].summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=30)
    parser.add_argument("--notes-files", type=int, default=0,
                        help="also put a real notes folder of this many notes in the settings")
    args = parser.parse_args()
    bench(args.chars, args.notes_files)


if __name__ == "__main__":
    main()
