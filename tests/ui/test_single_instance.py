"""One window per data directory: a second start brings the running window to the front and exits,
a crash's leftover socket does not stop the next start, and another data directory runs beside it.
Real processes of ``python -m desktop`` (offscreen), each with its own log in its data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.core.paths import ENV_HOME

ROOT = Path(__file__).resolve().parents[2]
STARTED = "started; data in"  # run_app logs it once the window is shown and the loop runs
BROUGHT_TO_FRONT = "brought to front at a second start"


class Apps:
    """Starts ``python -m desktop`` processes and kills whatever is left of them at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, home: Path) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k != "QWEN_DESKTOP_EXIT_AFTER_SHOWN"}
        env.update({ENV_HOME: str(home), "QT_QPA_PLATFORM": "offscreen",
                    "DASHSCOPE_API_KEY": "sk-test-0000000000000000"})
        out = open(self.tmp_path / f"app{len(self.processes)}.out", "wb")  # noqa: SIM115
        try:
            process = subprocess.Popen([sys.executable, "-m", "desktop"], cwd=ROOT, env=env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        finally:
            out.close()
        self.processes.append(process)
        return process

    def output(self, process: subprocess.Popen[bytes]) -> str:
        index = self.processes.index(process)
        return (self.tmp_path / f"app{index}.out").read_text(encoding="utf-8", errors="replace")

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[Apps]:
    started = Apps(tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def log_text(home: Path) -> str:
    path = home / "logs" / "qwen-desktop.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def wait_started(apps: Apps, process: subprocess.Popen[bytes], home: Path, count: int = 1) -> None:
    def up() -> bool:
        assert process.poll() is None, f"the app ended early:\n{apps.output(process)}\n{log_text(home)}"
        return log_text(home).count(STARTED) >= count
    wait_for(up, 90, "the window to come up")


def make_home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    return home


def test_a_second_start_brings_the_running_window_to_the_front(apps: Apps, tmp_path: Path) -> None:
    home = make_home(tmp_path, "home")
    first = apps.start(home)
    wait_started(apps, first, home)

    second = apps.start(home)
    assert second.wait(timeout=60) == 0, apps.output(second)
    wait_for(lambda: BROUGHT_TO_FRONT in log_text(home), 30, "the first window to hear of it")
    assert log_text(home).count(STARTED) == 1  # the second built no window
    assert first.poll() is None

    # A different data directory is another user's (or profile's) app: it starts normally.
    other_home = make_home(tmp_path, "other-home")
    other = apps.start(other_home)
    wait_started(apps, other, other_home)
    assert first.poll() is None and other.poll() is None
    assert BROUGHT_TO_FRONT not in log_text(other_home)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes vanish with their process")
def test_the_socket_a_crash_left_behind_does_not_stop_the_next_start(apps: Apps, tmp_path: Path) -> None:
    home = make_home(tmp_path, "home")
    crashed = apps.start(home)
    wait_started(apps, crashed, home)
    crashed.send_signal(signal.SIGKILL)  # no chance to close its socket
    crashed.wait(timeout=30)

    after = apps.start(home)
    wait_started(apps, after, home, count=2)  # it built its own window instead of waiting on a dead one
    assert after.poll() is None
    assert "removing the socket a previous run left behind" in log_text(home)

    # And it now answers the next start itself.
    again = apps.start(home)
    assert again.wait(timeout=60) == 0, apps.output(again)
    wait_for(lambda: BROUGHT_TO_FRONT in log_text(home), 30, "the new window to hear of it")


def test_two_starts_at_the_same_moment_make_one_window(apps: Apps, tmp_path: Path) -> None:
    home = make_home(tmp_path, "home")
    both = [apps.start(home), apps.start(home)]
    wait_for(lambda: any(p.poll() is not None for p in both), 90, "one of them to step back")
    (ended,) = [p for p in both if p.poll() is not None]
    (running,) = [p for p in both if p is not ended]
    assert ended.returncode == 0, apps.output(ended)
    wait_started(apps, running, home)
    wait_for(lambda: BROUGHT_TO_FRONT in log_text(home), 30, "the window to hear of the other start")
    assert log_text(home).count(STARTED) == 1 and running.poll() is None
