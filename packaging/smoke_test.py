"""Runs the frozen bundle for real and fails on anything unexpected.

    python packaging/smoke_test.py [--dist dist/QwenDesktop] [--runs 5]

Standard library only (the loopback server too), so any Python 3.11+ runs it next to a bundle.
packaging/smoke-test.sh runs it inside a private D-Bus session with an unlocked gnome-keyring, so
that the frozen app finds a real Secret Service. What it checks, each against the frozen executables:

1. self-test: ``QwenDesktop --self-test`` offscreen exits 0 with every check ``ok``.
2. chat: against tests/support/dashscope_server/ on 127.0.0.1, ``qwen-desktop-cli chat PROMPT``
   with DASHSCOPE_BASE_URL / DASHSCOPE_API_KEY and a temporary QWEN_DESKTOP_HOME streams the echo.
3. start-up: ``QwenDesktop`` with QWEN_DESKTOP_EXIT_AFTER_SHOWN=1, offscreen, --runs times; prints
   the median time from launch to the window being shown; each run exits 0 and writes its log file
   in the data directory.
4. portable mode: with a ``data`` folder beside the executable, the log file goes there.

Every line any of these runs prints on stderr must match ALLOWED_STDERR, or the smoke test fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST_KEY = "sk-test-0000000000000000"
PROMPT = "Hello from the frozen build, 你好"
SHOWN_LINE = "qwen-desktop: window shown"

# Lines that may appear on stderr: keep this list short and explain each entry.
ALLOWED_STDERR = [
    # Qt's offscreen platform plugin saying it cannot do what a window manager does (the same lines
    # pyproject's qt_log_ignore lets pass in the UI tests).
    re.compile(r"^This plugin does not support (propagateSizeHints\(\)|raise\(\)|lower\(\)|"
               r"grabbing the (keyboard|mouse))$"),
]


class SmokeFailure(Exception):
    pass


def executables(dist: Path) -> tuple[Path, Path]:
    """(windowed, console) executables of the bundle."""
    suffix = ".exe" if sys.platform == "win32" else ""
    window = dist / f"QwenDesktop{suffix}"
    cli = dist / f"qwen-desktop-cli{suffix}"
    for path in (window, cli):
        if not path.exists():
            raise SmokeFailure(f"{path} is missing: build first (python packaging/build.py)")
    # A windowed .exe has no stdout on Windows: the self-test and timing runs use the console twin.
    return (cli if sys.platform == "win32" else window), cli


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would change what the app does."""
    drop = {"DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL", "QWEN_DESKTOP_HOME", "QWEN_DESKTOP_EXIT_AFTER_SHOWN",
            "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "QT_API", "QT_PLUGIN_PATH",
            "QT_QPA_PLATFORM_PLUGIN_PATH", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
            "https_proxy", "all_proxy"}
    env = {name: value for name, value in os.environ.items()
           if name not in drop and not name.startswith("LC_") and name != "LANGUAGE"}
    # A UTF-8 locale, as on any desktop (in a "C" locale Qt says on stderr that it switched to UTF-8).
    env["LANG"] = "C.UTF-8"
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def unexpected_stderr(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if line.strip() and not any(p.match(line) for p in ALLOWED_STDERR)]


def run(name: str, command: list[str], env: dict[str, str], timeout: float = 180,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, encoding="utf-8",
                            errors="replace", timeout=timeout, input=stdin, check=False,
                            stdin=None if stdin is not None else subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    bad = unexpected_stderr(result.stderr)
    if result.returncode != 0 or bad:
        raise SmokeFailure(
            f"{name}: exit {result.returncode} after {seconds:.1f}s\n--- stdout\n{result.stdout}"
            f"--- stderr\n{result.stderr}" + ("--- unexpected on stderr:\n" + "\n".join(bad) if bad else ""))
    return result


def check_self_test(window: Path, home: Path) -> None:
    result = run("self-test", [str(window), "--self-test"], clean_env(QWEN_DESKTOP_HOME=str(home)))
    print(result.stdout, end="")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines or lines[-1] != "self-test passed" or any(line.startswith("FAIL") for line in lines):
        raise SmokeFailure("self-test: not every check passed")
    if any(home.iterdir()):
        raise SmokeFailure(f"self-test: wrote into QWEN_DESKTOP_HOME {home}: {list(home.iterdir())}")


class LoopbackServer:
    """tests/support/dashscope_server/ in a child process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.dashscope_server", "--port", "0"], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("BASE_URL="):
            self.close()
            raise SmokeFailure(f"loopback server did not start: {line!r}")
        self.base_url = line.removeprefix("BASE_URL=")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def check_chat(cli: Path, home: Path) -> None:
    server = LoopbackServer()
    try:
        env = clean_env(QWEN_DESKTOP_HOME=str(home), DASHSCOPE_BASE_URL=server.base_url,
                        DASHSCOPE_API_KEY=TEST_KEY, PYTHONIOENCODING="utf-8")
        started = time.perf_counter()
        result = run("chat", [str(cli), "chat", PROMPT], env)
        seconds = time.perf_counter() - started
    finally:
        server.close()
    expected = f"Echo: {PROMPT}"
    if result.stdout.strip() != expected:
        raise SmokeFailure(f"chat: expected {expected!r} on stdout, got {result.stdout!r}")
    if not (home / "history.sqlite3").exists():
        raise SmokeFailure(f"chat: no history database in {home}")
    print(f"ok   chat: streamed {result.stdout.strip()!r} from {server.base_url} in {seconds:.2f}s")


def launch_until_shown(window: Path | list[str], env: dict[str, str], stderr_file: Path) -> tuple[float, str]:
    """Starts the window (an executable, or a whole command); returns (seconds until it said it
    was shown, its remaining stdout)."""
    command = [str(window)] if isinstance(window, Path) else window
    with stderr_file.open("w", encoding="utf-8") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err,
                                   stdin=subprocess.DEVNULL, text=True, encoding="utf-8")
        assert process.stdout is not None
        shown_after = None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.strip() == SHOWN_LINE:
                shown_after = time.perf_counter() - started
                break
        try:
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise SmokeFailure("start-up: the app did not quit after showing its window") from None
    stderr = stderr_file.read_text(encoding="utf-8", errors="replace")
    bad = unexpected_stderr(stderr)
    if shown_after is None or process.returncode != 0 or bad:
        raise SmokeFailure(f"start-up: shown={shown_after is not None}, exit {process.returncode}\n"
                           f"--- stdout\n{''.join(lines)}{rest}--- stderr\n{stderr}")
    return shown_after, "".join(lines) + rest


def check_log_file(data_dir: Path, what: str) -> None:
    log_file = data_dir / "logs" / "qwen-desktop.log"
    text = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    if "started; data in" not in text or "window shown" not in text:
        raise SmokeFailure(f"{what}: {log_file} lacks the start-up lines: {text!r}")


def check_startup(window: Path, home: Path, runs: int, scratch: Path) -> float:
    env = clean_env(QWEN_DESKTOP_HOME=str(home), QWEN_DESKTOP_EXIT_AFTER_SHOWN="1")
    times = [launch_until_shown(window, env, scratch / "startup-stderr.txt")[0] for _ in range(runs)]
    check_log_file(home, "start-up")
    median = statistics.median(times)
    print(f"ok   start-up: launch to window shown, median of {runs}: {median:.2f}s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}); log file in the data dir")
    return median


def check_portable(window: Path, scratch: Path) -> None:
    data = window.resolve().parent / "data"
    if data.exists():
        raise SmokeFailure(f"portable: {data} exists already; remove it first")
    data.mkdir()
    try:
        env = clean_env(QWEN_DESKTOP_EXIT_AFTER_SHOWN="1")
        launch_until_shown(window, env, scratch / "portable-stderr.txt")
        check_log_file(data, "portable")
        print(f"ok   portable: with {data.name}/ beside the executable, data and logs went there")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "QwenDesktop")
    parser.add_argument("--runs", type=int, default=5, help="start-up timing runs (median)")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="qwen-smoke-"))
    try:
        window, cli = executables(args.dist.resolve())
        homes = {name: scratch / name for name in ("self-test", "chat", "startup")}
        for home in homes.values():
            home.mkdir()
        check_self_test(window, homes["self-test"])
        check_chat(cli, homes["chat"])
        check_startup(window, homes["startup"], args.runs, scratch)
        check_portable(window, scratch)
    except (SmokeFailure, subprocess.TimeoutExpired) as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        print("smoke test FAILED", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
