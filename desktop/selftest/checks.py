"""The self-test's checks: each returns a detail line or raises CheckFailed."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import pkgutil
import platform
import re
import sqlite3
import ssl
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")  # qasync prefers PyQt otherwise

from desktop import __version__  # noqa: E402
from desktop.core import paths  # noqa: E402
from desktop.selftest.report import CheckFailed, last_line  # noqa: E402

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

        real = platformdirs.user_data_dir(**paths.PLATFORMDIRS_ARGS)
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


# The keyring Windows and macOS always have: there the bundle must hold its backend and use it.
PLATFORM_KEYRING = {
    "win32": "keyring.backends.Windows.WinVaultKeyring",  # Windows Credential Manager
    "darwin": "keyring.backends.macOS.Keyring",  # macOS Keychain
}


def check_keyring(platform_name: str = sys.platform) -> str:
    import keyring
    import keyring.backend

    from desktop.core.secrets import backend_name, backend_problem, effective_backend

    backend = keyring.get_keyring()
    name = backend_name(backend)
    target = effective_backend(backend)
    via = f" (through {name})" if target is not backend else ""
    problem = backend_problem(backend)
    expected = PLATFORM_KEYRING.get(platform_name)
    if problem is None and expected is not None and backend_name(target) != expected:
        problem = f"{backend_name(target)} instead of this system's {expected}"
    if problem is None:
        return f"{backend_name(target)}{via} (priority {target.priority})"
    viable = [backend_name(candidate) for candidate in keyring.backend.get_all_keyring()]
    hint = ("no Secret Service on the session bus (start gnome-keyring or KWallet)"
            if sys.platform.startswith("linux") else "no OS keyring backend")
    raise CheckFailed(f"{problem}{via}, so the API key cannot be stored: {hint}; backends found: "
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
            missing.append(f"{module} ({last_line(exc)})")
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

    from desktop.gui.app import app_icon

    base = resources.files("desktop.resources")
    missing = [name for name in ("light.qss", "dark.qss") if not (base / name).is_file()]
    sizes = sorted(size.width() for size in app_icon().availableSizes())
    if missing or len(sizes) < 6:
        raise CheckFailed(f"missing style sheets {missing}, icon sizes {sizes}")
    return f"style sheets and the app icon ({', '.join(map(str, sizes))} px)"


def check_translation() -> str:
    from PySide6.QtCore import QLibraryInfo, QTranslator

    from desktop.gui.common import i18n

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


def check_text_services() -> str:
    """What Qt asks of ICU (the Linux bundle ships a trimmed ICU data library): Chinese collation
    in pinyin order, locale-aware case mapping, time-zone names and the GB18030 code page.
    On Windows and macOS Qt asks the system instead, which answers some of these its own way."""
    if not sys.platform.startswith("linux"):
        return f"Qt uses {platform.system()}'s own text services (no ICU data in the bundle)"
    from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone

    problems = []
    # Pinyin order: 阿 (a) before 波 (bo), although U+963F sorts after U+6CE2 by code point.
    if QCollator(QLocale("zh_CN")).compare("波", "阿") <= 0:
        problems.append("Chinese collation is not in pinyin order")
    if QLocale("tr_TR").toUpper("i") != "\u0130" or QLocale("en_US").toUpper("straße") != "STRASSE":
        problems.append("locale-aware case mapping fails")
    zone = QTimeZone(b"Asia/Shanghai").displayName(
        QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale("zh_CN"))
    if not any("\u4e00" <= ch <= "\u9fff" for ch in zone):
        problems.append(f"no Chinese time-zone name (got {zone!r})")
    if not QStringDecoder("GB18030").isValid():
        problems.append("no GB18030 decoder")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"pinyin collation, case mapping, time-zone names ({zone}), GB18030"


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

    from desktop.gui.app import _install_excepthook
    from desktop.gui.common import crash_dialog

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


