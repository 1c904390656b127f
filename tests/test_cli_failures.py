"""Broken input never makes the command line print a traceback (issue 10, item 12).

Broken streams, a redirect, an unusable URL or proxy, Ctrl-C at any moment and a reader that goes
away (``| head``) each end with at most one plain line on stderr and a documented exit code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.cli.logs import cli_logging
from desktop.cli.output import EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED, LOG_NAME
from desktop.core import paths
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer
from tests.test_cli import PROJECT_ROOT, assert_one_plain_line, base_env, qwen

DONE = "data: [DONE]\n\n"
GOOD = 'data: {"choices": [{"index": 0, "delta": {"content": "Hello "}}]}\n\n'

# name -> (stream pieces, exit code, words of the one line)
BROKEN_STREAMS: dict[str, tuple[tuple[str | bytes, ...], int, str]] = {
    "invalid JSON": (("data: {not json\n\n", DONE), 4, "cannot be read"),
    "invalid JSON after text": ((GOOD, "data: {not json\n\n", DONE), 4, "cut off"),
    "choices not a list": (('data: {"choices": {"a": 1}}\n\n', DONE), 4, "'choices' is a JSON object"),
    "delta missing": (('data: {"choices": [{"index": 0}]}\n\n', DONE), 4, "no 'delta'"),
    "content a number": (('data: {"choices": [{"index": 0, "delta": {"content": 5}}]}\n\n', DONE), 4,
                         "'content' is a number"),
    "invalid UTF-8": ((GOOD.encode(), b'data: {"choices": [{"delta": {"content": "\xff"}}]}\n\n'), 4,
                      "not valid UTF-8"),
    "a web page": (("<html>Sign in to the Wi-Fi</html>",), 4, "cannot be read"),
}


def start(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "desktop", *args], cwd=PROJECT_ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **kwargs)  # type: ignore[call-overload]


def finish(process: subprocess.Popen[bytes]) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def test_broken_streams_end_with_one_plain_line(data_dir: Path) -> None:
    # One server and one process per case, run side by side to keep the test quick.
    servers = {name: DashScopeServer().start() for name in BROKEN_STREAMS}
    try:
        processes = {}
        for name, (pieces, _, _) in BROKEN_STREAMS.items():
            servers[name].script_chat(ChatReply.raw(*pieces))
            home = data_dir / name.replace(" ", "-")
            home.mkdir()
            env = base_env(home, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=servers[name].base_url)
            processes[name] = start(["chat", "hello"], env)
        failures = []
        for name, process in processes.items():
            out, err = finish(process)
            _, code, words = BROKEN_STREAMS[name]
            lines = err.strip().splitlines()
            if (process.returncode != code or "Traceback" in err or len(lines) != 1
                    or not lines[0].startswith("qwen-desktop: ") or words not in err):
                failures.append((name, process.returncode, out, err))
        assert failures == []
        assert all(len(server.chat_requests()) == 1 for server in servers.values())  # never retried
    finally:
        for server in servers.values():
            server.close()


def test_a_redirect_is_explained_on_its_own(srv: DashScopeServer, data_dir: Path) -> None:
    srv.script_chat(ChatReply.redirect("https://elsewhere.example/compatible-mode/v1/chat/completions"))
    result = qwen(["chat", "hello"], base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY,
                                              DASHSCOPE_BASE_URL=srv.base_url))
    assert result.returncode == 1, result.stderr
    assert_one_plain_line(result.stderr)
    assert "See the details below" not in result.stderr and "<html>" not in result.stderr
    assert "HTTP 307 to https://elsewhere.example/" in result.stderr
    assert "does not follow it" in result.stderr


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/v1", "https://"])
def test_an_unusable_base_url_is_one_line_and_exit_1(url: str, data_dir: Path) -> None:
    result = qwen(["chat", "hello"], base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=url))
    assert result.returncode == 1, result.stderr
    assert_one_plain_line(result.stderr)
    assert "not a valid URL" in result.stderr


def test_an_ftp_proxy_is_one_line_and_exit_4(srv: DashScopeServer, data_dir: Path) -> None:
    env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=srv.base_url,
                   HTTP_PROXY="ftp://127.0.0.1:2121", HTTPS_PROXY="ftp://127.0.0.1:2121", NO_PROXY="")
    result = qwen(["chat", "hello"], env)
    assert result.returncode == 4, result.stderr
    assert_one_plain_line(result.stderr)
    assert "proxy" in result.stderr
    assert srv.requests == []


# ---- Ctrl-C -------------------------------------------------------------------------------------


def test_ctrl_c_while_waiting_for_the_service_is_one_line_and_exit_130(
        srv: DashScopeServer, data_dir: Path) -> None:
    srv.script_chat(ChatReply(first_byte_delay=30))
    env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=srv.base_url)
    process = start(["chat", "hello"], env)
    srv.wait_for_stream_start(30, 0)
    process.send_signal(signal.SIGINT)
    out, err = finish(process)
    assert process.returncode == EXIT_INTERRUPTED
    assert err == "qwen-desktop: interrupted\n"
    assert out == ""


def wait_until_importing_the_sdk(process: subprocess.Popen[bytes]) -> None:
    """Until the process has loaded pydantic's native module: the openai SDK is being imported, which
    happens inside the command line's start-up (a Ctrl-C before our first line of code runs is
    Python's own business)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if "pydantic_core" in Path(f"/proc/{process.pid}/maps").read_text():
                return
        time.sleep(0.005)
    pytest.fail("the process never imported the SDK")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize("after", [0.0, 0.2, 0.5])
def test_ctrl_c_during_start_up_is_one_line_and_exit_130(
        after: float, srv: DashScopeServer, data_dir: Path) -> None:
    srv.script_chat(ChatReply(first_byte_delay=30))  # whenever the signal lands, the run is not over
    env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=srv.base_url)
    process = start(["chat", "hello"], env)
    wait_until_importing_the_sdk(process)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    out, err = finish(process)
    assert (process.returncode, err, out) == (EXIT_INTERRUPTED, "qwen-desktop: interrupted\n", "")


def test_an_interrupt_that_escaped_an_exec_still_exits_130(tmp_path: Path) -> None:
    # Ctrl-C while dataclasses build a class's methods (exec of a string) during an import: CPython
    # then exits through SIGINT after all unless the flag that exec() left behind is cleared.
    (tmp_path / "interrupted_import.py").write_text(
        "import sys\n"
        "from desktop.cli import interrupted\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(interrupted())\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(tmp_path)])}
    result = subprocess.run([sys.executable, "-m", "interrupted_import"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (EXIT_INTERRUPTED, "qwen-desktop: interrupted\n")


# ---- a reader that goes away ---------------------------------------------------------------------


def test_output_piped_into_head_ends_quietly(srv: DashScopeServer, data_dir: Path) -> None:
    srv.script_chat(ChatReply(content="word " * 4000, chunk_delay=0.002))
    env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=srv.base_url)
    process = start(["chat", "hello"], env)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == b"word word "  # what `head -c 10` reads, then it exits
    process.stdout.close()
    try:
        err = process.stderr.read().decode()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == EXIT_OUTPUT_CLOSED, err
    assert err == ""
    assert srv.wait_for_stream_end(10).outcome == "client_disconnect"  # the request was ended too


def test_history_list_into_a_closed_pipe_ends_quietly(
        service_env: DashScopeServer, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for number in range(3):
        assert run_cli(["chat", f"question {number}"]) == 0
    capsys.readouterr()
    env = base_env(data_dir)
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    with open(write_end, "wb") as stdout:
        process = subprocess.run([sys.executable, "-m", "desktop", "history", "list", "--json"],
                                 cwd=PROJECT_ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE,
                                 timeout=60)
    assert process.returncode == EXIT_OUTPUT_CLOSED
    assert process.stderr == b""


# ---- log records ---------------------------------------------------------------------------------


def test_a_logged_error_is_one_line_and_the_records_go_to_the_log(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with cli_logging():
        try:
            json.loads("{broken")
        except ValueError:
            logging.getLogger("desktop.core.somewhere").exception("reading the thing failed")
        logging.getLogger("desktop.core.elsewhere").warning("a plain warning")
        logging.getLogger("desktop.core.elsewhere").info("not shown")
    err = capsys.readouterr().err
    log_file = paths.log_dir() / LOG_NAME
    assert err.splitlines() == [f"qwen-desktop: error: reading the thing failed (details in {log_file})"]
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "JSONDecodeError" in logged and "reading the thing failed" in logged
    assert "a plain warning" in logged and "not shown" not in logged
    assert not logging.getLogger().handlers or all(  # the handler is gone after the command
        type(h).__name__ != "_OneLineHandler" for h in logging.getLogger().handlers)
