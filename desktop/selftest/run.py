"""Running the self-test: a temporary data dir and key, logging to a file, then every check."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")  # qasync prefers PyQt otherwise

from desktop.core import paths  # noqa: E402
from desktop.core.secrets import ENV_KEY  # noqa: E402
from desktop.selftest.checks import (  # noqa: E402
    SELF_TEST_KEY, check_build, check_crash_handling, check_data_dir, check_event_loop, check_http_client,
    check_keyring, check_lazy_imports, check_main_window, check_resources, check_sqlite_fts5, check_tls,
    check_text_services, check_translation,
)
from desktop.selftest.report import Report, describe  # noqa: E402

# ---- running them ------------------------------------------------------------------------------


@contextmanager
def _temporary_environment(values: dict[str, str]):  # type: ignore[no-untyped-def]
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _logging_to_file_only():  # type: ignore[no-untyped-def]
    """The run logs to the temporary log file only: the console is for the check lines (the crash
    check logs a deliberate error). The caller's handlers and level come back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    for handler in saved_handlers:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def run_self_test(argv: list[str]) -> int:
    if argv:
        print("usage: qwen-desktop --self-test   (checks this installation; no options)",
              file=sys.stderr)
        return 2
    out = sys.stdout if sys.stdout is not None else open(os.devnull, "w")  # noqa: SIM115
    report = Report(out)
    user_home = os.environ.get(paths.ENV_HOME)
    temp_home = Path(tempfile.mkdtemp(prefix="qwen-desktop-self-test-")).resolve()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        with _temporary_environment({paths.ENV_HOME: str(temp_home), ENV_KEY: SELF_TEST_KEY}), \
                _logging_to_file_only():
            _run_checks(report, temp_home, user_home)
    finally:
        shutil.rmtree(temp_home, ignore_errors=True)
    total = report.out
    if report.failures:
        total.write(f"self-test FAILED: {', '.join(report.failures)}\n")
        return 1
    total.write("self-test passed\n")
    return 0


def _run_checks(report: Report, temp_home: Path, user_home: str | None) -> None:
    report.run("build", check_build)
    report.run("data dir", lambda: check_data_dir(temp_home, user_home))
    report.run("sqlite", check_sqlite_fts5)
    report.run("tls", check_tls)
    report.run("keyring", check_keyring)
    report.run("imports", check_lazy_imports)

    import qasync

    from desktop.gui.app import build_gui, create_application, setup_logging

    setup_logging()  # the rotating log file, as the windowed app has it
    log_file = paths.log_dir() / "qwen-desktop.log"
    logging.getLogger("desktop").info("self-test started")
    app = create_application([])
    report.run("resources", check_resources)
    report.run("translation", check_translation)
    report.run("text services", check_text_services)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main() -> None:
        await report.run_async("event loop", check_event_loop)
        await report.run_async("http client", check_http_client)
        gui = None
        try:
            gui = build_gui(app, language="zh_CN")
        except Exception as exc:
            report.line(False, "main window", describe(exc))
        if gui is not None:
            await report.run_async("main window", lambda: check_main_window(gui))
            gui.window.close()
        await report.run_async("crash handling", lambda: check_crash_handling(log_file))
        if gui is not None:
            await gui.shutdown()

    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        asyncio.set_event_loop(None)

