"""``QwenDesktop --self-test``: does this build (frozen or not) have everything it needs?

Each check prints ``ok   <name>: <detail>`` or ``FAIL <name>: <detail>``; the exit status is 0 only
when every check passes. CI runs it on the frozen bundle (packaging/smoke-test.sh); a user can run it
to tell a broken install from a broken network.

Harmless to run anywhere:
- Qt runs offscreen unless ``QT_QPA_PLATFORM`` says otherwise, so no window appears.
- All data (settings, history, logs, window state) goes to a fresh temporary directory that is
  removed at the end; the user's data directory (``QWEN_DESKTOP_HOME``, portable ``data`` folder or
  the user data dir) is only reported, never opened. ``QWEN_DESKTOP_HOME`` is restored afterwards.
- The keyring is asked which backend it has, never for a password: a dummy ``DASHSCOPE_API_KEY``
  is set for the run so the window does not read the stored key either. No network is used.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import pkgutil
import platform
import re
import shutil
import sqlite3
import ssl
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

os.environ.setdefault("QT_API", "pyside6")  # qasync prefers PyQt otherwise

from desktop import __version__  # noqa: E402
from desktop.core import paths  # noqa: E402
from desktop.core.secrets import ENV_KEY  # noqa: E402

# Modules the app imports only when a feature is first used: a frozen build that lacks one fails
# later, in front of the user, so import them all here.
# (Every desktop.* module is imported too.)
LAZY_MODULES = (
    "openai", "httpx2", "httpcore2", "truststore", "qasync", "keyring", "markdown_it", "pygments",
    "pygments.formatters.html", "charset_normalizer", "docx", "pypdf", "numpy", "watchdog.observers",
    "platformdirs",
)
# Lexers are found by name at run time (pygments' plugin mapping), not by import analysis.
PYGMENTS_LEXERS = ("python", "javascript", "cpp", "bash", "json", "sql")
TRANSLATION_PROBE = ("MainWindow", "Chat")  # a source string the Chinese translation must cover
SELF_TEST_KEY = "sk-self-test-0000000000000000"


@dataclass
class Report:
    out: TextIO
    failures: list[str] = field(default_factory=list)

    def line(self, passed: bool, name: str, detail: str) -> None:
        if not passed:
            self.failures.append(name)
        self.out.write(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}\n")
        self.out.flush()

    def run(self, name: str, check: Callable[[], str]) -> None:
        """A check returns its detail, or raises: CheckFailed with a message, anything else a bug."""
        try:
            self.line(True, name, check())
        except CheckFailed as failed:
            self.line(False, name, str(failed))
        except Exception as exc:  # report, then go on with the other checks
            self.line(False, name, _describe(exc))

    async def run_async(self, name: str, check: Callable[[], Awaitable[str]]) -> None:
        try:
            self.line(True, name, await check())
        except CheckFailed as failed:
            self.line(False, name, str(failed))
        except Exception as exc:
            self.line(False, name, _describe(exc))


class CheckFailed(Exception):
    pass


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" (at {Path(where[0].filename).name}:{where[0].lineno})" if where else ""
    return f"{type(exc).__name__}: {_last_line(exc)}{at}"


def _last_line(exc: BaseException) -> str:
    """Long messages (numpy's import advice) end with the line that matters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else ""


# ---- checks that need no Qt --------------------------------------------------------------------


def check_build() -> str:
    frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
    return (f"Qwen Desktop {__version__}, {frozen}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}")


def check_data_dir(temp_home: Path, user_home: str | None) -> str:
    if paths.data_dir() != temp_home:
        raise CheckFailed(f"data goes to {paths.data_dir()}, not the temporary {temp_home}")
    probe = temp_home / "probe.txt"
    probe.write_text("ok", encoding="utf-8")
    probe.unlink()
    if user_home:
        real = f"{user_home} (QWEN_DESKTOP_HOME)"
    elif (portable := paths.portable_data_dir()) is not None:
        real = f"{portable} (portable mode)"
    else:
        import platformdirs

        real = platformdirs.user_data_dir("QwenDesktop", appauthor=False, roaming=True)
    return f"writable temporary {temp_home}; the app keeps its data in {real}"


def check_sqlite_fts5() -> str:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE probe USING fts5(body, tokenize='unicode61')")
        db.executemany("INSERT INTO probe(body) VALUES (?)",
                       [("qwen answers questions",), ("notes about 通义 千问",)])
        hits = db.execute("SELECT rowid FROM probe WHERE probe MATCH ?", ("questions",)).fetchall()
        cjk = db.execute("SELECT rowid FROM probe WHERE probe MATCH ?", ("千问",)).fetchall()
    except sqlite3.OperationalError as exc:
        raise CheckFailed(f"SQLite {sqlite3.sqlite_version} has no FTS5: {exc}") from None
    finally:
        db.close()
    if hits != [(1,)] or cjk != [(2,)]:
        raise CheckFailed(f"FTS5 search found {hits} and {cjk}, expected [(1,)] and [(2,)]")
    return f"SQLite {sqlite3.sqlite_version}: FTS5 table created and searched"


def check_tls() -> str:
    """The TLS context the HTTP client builds (httpx2 -> httpcore2), and that it trusts some CAs.

    httpx2 does not use certifi: on Windows and macOS it verifies through the OS (truststore); on
    Linux it loads the system CA bundle that OpenSSL (or a list of well-known paths) points to.
    """
    import httpx2

    context = httpx2.create_ssl_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise CheckFailed("the HTTP client's TLS context does not verify certificates")
    kind = f"{type(context).__module__}.{type(context).__name__}"
    if type(context).__module__.startswith("truststore"):
        detail = "the operating system's trust store (truststore)"
        if sys.platform == "win32":
            roots = len(ssl.enum_certificates("ROOT"))  # type: ignore[attr-defined]
            if roots == 0:
                raise CheckFailed("the Windows ROOT certificate store is empty")
            detail += f", {roots} Windows root certificates"
        return f"{ssl.OPENSSL_VERSION}; {kind} verifying with {detail}"
    loaded = context.cert_store_stats()["x509_ca"]
    if loaded:
        return f"{ssl.OPENSSL_VERSION}; {kind} with {loaded} CA certificates loaded"
    # A hashed certificate directory (capath) is read lazily, during a handshake: count its files.
    verify_paths = ssl.get_default_verify_paths()
    for directory in (verify_paths.capath, verify_paths.openssl_capath):
        if directory and os.path.isdir(directory):
            hashed = [n for n in os.listdir(directory) if re.fullmatch(r"[0-9a-f]{8}\.\d+", n)]
            if hashed:
                return (f"{ssl.OPENSSL_VERSION}; {kind} with the CA directory {directory} "
                        f"({len(hashed)} certificates)")
    raise CheckFailed(f"no CA certificates found (OpenSSL looks in {verify_paths.openssl_cafile} and "
                      f"{verify_paths.openssl_capath}); install the system's CA certificates "
                      "(ca-certificates) or set SSL_CERT_FILE")


def check_keyring() -> str:
    import keyring
    import keyring.backend

    from desktop.core.secrets import backend_is_usable, backend_name

    backend = keyring.get_keyring()
    name = backend_name(backend)
    if backend_is_usable(backend):
        return f"{name} (priority {backend.priority})"
    viable = [f"{type(candidate).__module__}.{type(candidate).__name__}"
              for candidate in keyring.backend.get_all_keyring()]
    hint = ("no Secret Service on the session bus (start gnome-keyring or KWallet)"
            if sys.platform.startswith("linux") else "no OS keyring backend")
    raise CheckFailed(f"{name} is not a real keyring: {hint}; backends found: "
                      f"{', '.join(viable) or 'none'}")


def check_lazy_imports() -> str:
    import desktop

    ours = [info.name for info in pkgutil.walk_packages(desktop.__path__, "desktop.")
            if info.name not in ("desktop.__main__", "desktop.selftest")]
    missing = []
    for module in (*LAZY_MODULES, *ours):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({_last_line(exc)})")
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    for alias in PYGMENTS_LEXERS:
        try:
            get_lexer_by_name(alias)
        except ClassNotFound:
            missing.append(f"pygments lexer {alias!r}")
    if missing:
        raise CheckFailed("cannot import " + "; ".join(missing))
    return (f"{len(LAZY_MODULES)} libraries, {len(ours)} desktop modules and "
            f"{len(PYGMENTS_LEXERS)} code lexers import")


# ---- checks on Qt ------------------------------------------------------------------------------


def check_resources() -> str:
    from importlib import resources

    from desktop.app import app_icon

    base = resources.files("desktop.resources")
    missing = [name for name in ("light.qss", "dark.qss") if not (base / name).is_file()]
    sizes = sorted(size.width() for size in app_icon().availableSizes())
    if missing or len(sizes) < 6:
        raise CheckFailed(f"missing style sheets {missing}, icon sizes {sizes}")
    return f"style sheets and the app icon ({', '.join(map(str, sizes))} px)"


def check_translation() -> str:
    from PySide6.QtCore import QLibraryInfo, QTranslator

    from desktop.ui import i18n

    ours = QTranslator()
    if not ours.load("qwen_desktop_zh_CN", i18n.translations_dir()):
        raise CheckFailed(f"qwen_desktop_zh_CN.qm not found in {i18n.translations_dir()}")
    context, source = TRANSLATION_PROBE
    text = ours.translate(context, source)
    if not text or text == source or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        raise CheckFailed(f"{context} {source!r} is not translated into Chinese (got {text!r})")
    qt = QTranslator()
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not qt.load("qtbase_zh_CN", qt_dir):
        raise CheckFailed(f"Qt's own qtbase_zh_CN.qm not found in {qt_dir}")
    return f"{context} {source!r} -> {text!r}; Qt's qtbase_zh_CN loads too"


async def check_event_loop() -> str:
    """A coroutine on the qasync loop: an asyncio sleep, an executor job and a QTimer resolve."""
    import qasync
    from PySide6.QtCore import QTimer

    loop = asyncio.get_running_loop()
    if not isinstance(loop, qasync.QEventLoop):
        raise CheckFailed(f"the running loop is {type(loop).__name__}, not qasync.QEventLoop")
    started = time.perf_counter()
    await asyncio.sleep(0.01)
    from_thread = await loop.run_in_executor(None, lambda: 6 * 7)
    fired = loop.create_future()
    QTimer.singleShot(1, lambda: fired.set_result(True))
    await asyncio.wait_for(fired, 5)
    if from_thread != 42:
        raise CheckFailed(f"executor returned {from_thread!r}")
    return (f"sleep, executor and QTimer resolved on qasync.QEventLoop in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms")


async def check_http_client() -> str:
    """The app's HTTP client (openai SDK over httpx2) builds and closes inside the running loop."""
    from desktop.core.client import ConnectionConfig, QwenClient

    client = QwenClient(ConnectionConfig(base_url="https://127.0.0.1:9/compatible-mode/v1",
                                         api_key=SELF_TEST_KEY, proxy_mode="none"))
    await client.aclose()
    import openai

    return f"openai {openai.__version__} client created and closed"


async def check_main_window(gui: Any) -> str:
    from PySide6.QtGui import QGuiApplication

    window = gui.window
    window.show()
    deadline = time.monotonic() + 10
    while not (window.windowHandle() and window.windowHandle().isExposed()):
        if time.monotonic() > deadline:
            raise CheckFailed("the window was not exposed within 10 s")
        await asyncio.sleep(0.01)
    await asyncio.wait_for(window.start(), 30)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    if not tabs or window.windowIcon().isNull():
        raise CheckFailed(f"tabs {tabs}, icon null: {window.windowIcon().isNull()}")
    size = window.size()
    return (f"{window.windowTitle()!r} shown on {QGuiApplication.platformName()}, "
            f"{size.width()}x{size.height()}, tabs {', '.join(tabs)}")


async def check_crash_handling(log_file: Path) -> str:
    """The windowed app's excepthook: the error is logged, a dialog opens, "Copy details" copies."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from desktop.app import _install_excepthook
    from desktop.ui import crash_dialog

    previous = sys.excepthook
    _install_excepthook()
    try:
        try:
            raise RuntimeError("self-test: a deliberate error")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = previous
    if not crash_dialog._open:
        raise CheckFailed("no crash dialog opened")
    box = crash_dialog._open[-1]
    await asyncio.sleep(0.05)
    copy_text = QApplication.translate("CrashDialog", "Copy details")
    copy = next((b for b in box.buttons() if b.text() == copy_text), None)
    if copy is None:
        raise CheckFailed("the crash dialog has no copy button")
    copy.click()
    copied = QGuiApplication.clipboard().text()
    box.done(0)
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = await asyncio.to_thread(
        lambda: log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else "")
    if "self-test: a deliberate error" not in copied:
        raise CheckFailed(f"'{copy.text()}' copied {copied[:60]!r}")
    if "unexpected error" not in logged:
        raise CheckFailed(f"the error is not in the log file {log_file}")
    return f"logged to {log_file.name}, dialog shown, '{copy.text()}' copies the traceback"


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

    from desktop.app import build_gui, create_application, setup_logging

    setup_logging()  # the rotating log file, as the windowed app has it
    log_file = paths.log_dir() / "qwen-desktop.log"
    logging.getLogger("desktop").info("self-test started")
    app = create_application([])
    report.run("resources", check_resources)
    report.run("translation", check_translation)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main() -> None:
        await report.run_async("event loop", check_event_loop)
        await report.run_async("http client", check_http_client)
        gui = None
        try:
            gui = build_gui(app, language="zh_CN")
        except Exception as exc:
            report.line(False, "main window", _describe(exc))
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
