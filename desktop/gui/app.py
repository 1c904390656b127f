"""The one composition root: QApplication, the qasync loop, services, the window, shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import logging.handlers
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

os.environ.setdefault("QT_API", "pyside6")  # qasync prefers PyQt otherwise

from desktop import APP_NAME, ORG_NAME, __version__  # noqa: E402
from desktop.core import paths  # noqa: E402
from desktop.core.appcontext import AppContext  # noqa: E402
from desktop.core.errors import redact  # noqa: E402

if TYPE_CHECKING:
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QApplication

    from desktop.gui.main_window import MainWindow
    from desktop.core.tasks import TaskRunner

log = logging.getLogger("desktop")


def setup_logging() -> logging.Handler:
    """A rotating log file in the data dir (a windowed app has no console), readable by its owner
    only; keys, bearer tokens and proxy passwords are redacted. Returns the handler it added."""
    handler = _PrivateRotatingFileHandler(
        paths.log_dir() / "qwen-desktop.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpcore2").setLevel(logging.WARNING)
    return handler


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file it opens (the first and each one after a rotation) is the owner's only."""

    def _open(self):  # type: ignore[no-untyped-def]
        return paths.open_private(Path(self.baseFilename), self.mode)


def app_icon():  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QIcon

    icon = QIcon()
    base = resources.files("desktop.resources") / "icons"
    for size in (16, 32, 48, 64, 128, 256, 512):
        path = base / f"qwen-desktop-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def _install_excepthook() -> None:
    """Unexpected exceptions are logged and shown in a dialog instead of vanishing."""
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        details = redact("".join(traceback.format_exception(kind, value, tb)))
        log.error("unexpected error\n%s", details)
        try:
            from desktop.gui.common.crash_dialog import show_crash_dialog

            show_crash_dialog(details)
        except Exception:  # never let the hook itself crash
            log.exception("could not show the crash dialog")

    sys.excepthook = hook


def create_application(argv: Sequence[str]):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from desktop.gui.common import style

    style.prepare_high_dpi()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("qwen-desktop")
    return app


@dataclass
class Gui:
    """The window and what it runs on, as run_app shows it (the self-test builds the same)."""

    app: QApplication
    context: AppContext
    tasks: TaskRunner
    window: MainWindow
    translators: list[QTranslator]  # keep them alive as long as the app

    async def shutdown(self) -> None:
        await self.window.shutdown()
        await self.tasks.shutdown()
        await self.context.aclose()


def build_gui(app: QApplication, language: str | None = None, *, watch: bool = True,
              catch_up: bool = True) -> Gui:
    """The composition root: the application context, translation, style, icon and the main
    window on ``app`` (not shown yet). The window, the self-test and the window tests build it here.

    ``language`` overrides the one in the settings ("en", "zh_CN", "system"); ``watch`` and
    ``catch_up`` turn off the notes watcher and the start-up index run (tests).
    """
    from desktop.gui.common import i18n, style
    from desktop.gui.main_window import MainWindow
    from desktop.core.tasks import TaskRunner

    context = AppContext.create()
    translators = i18n.install(app, language or context.session.settings.language)
    style.apply(app)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    tasks = TaskRunner()
    window = MainWindow(context, tasks, icon=app.windowIcon(), watch=watch, catch_up=catch_up)
    return Gui(app, context, tasks, window, translators)


def settle_garbage_collector() -> None:
    """Once the window is up: what exists now (imported modules, the window) lives as long as the
    app, so keep the garbage collector from scanning it again and again. Full collections then
    take milliseconds instead of tens of milliseconds, which a scrolling view would show as a
    stutter. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


# Packaging's smoke test: print a line once the window is on screen, then quit (start-up timing).
EXIT_AFTER_SHOWN_ENV = "QWEN_DESKTOP_EXIT_AFTER_SHOWN"


async def _announce_when_shown(window: MainWindow) -> None:
    """Waits until the window is exposed (the platform shows it), then says so on stdout."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            break
        await asyncio.sleep(0.005)
    log.info("window shown")
    if sys.stdout is not None:  # a windowed Windows executable has no stdout
        print("qwen-desktop: window shown", flush=True)


def run_app(argv: Sequence[str] = ()) -> int:
    import qasync

    from desktop.gui.common import single_instance

    setup_logging()
    app = create_application(argv)
    # One window per data dir: a second start brings the running one to the front and ends here,
    # before it builds anything (the self-test and the window tests build through build_gui).
    instance = single_instance.claim(paths.data_dir())
    if instance is None:
        return 0
    _install_excepthook()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    gui = build_gui(app)
    window = gui.window
    closed = asyncio.Event()
    window.closed.connect(instance.close)  # a start while this one shuts down opens a new window
    window.closed.connect(closed.set)

    def on_second_start() -> None:
        single_instance.bring_to_front(window)
        log.info("brought to front at a second start")

    instance.show_requested.connect(on_second_start)

    async def main() -> None:
        window.show()
        log.info("Qwen Desktop %s started; data in %s", __version__, paths.data_dir())
        exit_after_shown = bool(os.environ.get(EXIT_AFTER_SHOWN_ENV))
        if exit_after_shown:
            await _announce_when_shown(window)
        await window.start()
        settle_garbage_collector()
        if exit_after_shown:
            window.close()
        await closed.wait()
        await gui.shutdown()

    with loop:
        loop.run_until_complete(main())
    return 0
