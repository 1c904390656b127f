"""`python -m desktop chat|key ...` as a real subprocess against the loopback DashScope server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent



def base_env(home: Path, **extra: str) -> dict[str, str]:
    """The subprocess's whole environment: no key, no proxy, no real keyring, quick retries."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DASHSCOPE_") and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    env.update(
        QWEN_DESKTOP_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # never the developer's own keyring
        QWEN_DESKTOP_RETRY_SCALE="0.001",
        PYTHONIOENCODING="utf-8",
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


def qwen(args: list[str], env: dict[str, str], stdin: str | None = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], cwd=PROJECT_ROOT, env=env, input=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


@pytest.fixture
def chat_env(srv: DashScopeServer, data_dir: Path) -> dict[str, str]:
    # A pasted ".../chat/completions" URL is normalised.
    return base_env(data_dir, DASHSCOPE_BASE_URL=srv.base_url + "/chat/completions",
                    DASHSCOPE_API_KEY=TEST_KEY)


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def assert_one_plain_line(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("qwen-desktop: ")
    assert "Traceback" not in stderr


# ---- chat ------------------------------------------------------------------------------------


def test_chat_streams_the_answer_to_stdout(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    srv.script_chat(ChatReply(content="Beijing is the capital. 北京是首都。", reasoning=""))
    result = qwen(["chat", "--model", "qwen-max", "--system", "Be brief.", "What", "is", "the", "capital?"],
                  chat_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Beijing is the capital. 北京是首都。\n"
    assert result.stderr == ""
    request = srv.chat_requests()[-1]
    assert request["model"] == "qwen-max" and request["stream"] is True
    assert request["messages"] == [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": "What is the capital?"}]
    assert srv.requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"


def test_chat_reads_the_prompt_from_stdin(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    result = qwen(["chat", "-"], chat_env, stdin="Line one\n第二行\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: Line one\n第二行\n"
    assert srv.chat_requests()[-1]["messages"][-1] == {"role": "user", "content": "Line one\n第二行\n"}


def test_show_thinking_puts_reasoning_on_stderr_only(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    srv.script_chat(ChatReply(reasoning="Let me think: 6 × 7.", content="42"),
                    ChatReply(reasoning="Hidden reasoning.", content="42"))
    shown = qwen(["chat", "--thinking", "--show-thinking", "6 times 7?"], chat_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "42\n"
    assert "Let me think: 6 × 7." in shown.stderr
    assert srv.chat_requests()[-1]["enable_thinking"] is True

    hidden = qwen(["chat", "--no-thinking", "6 times 7?"], chat_env)
    assert hidden.returncode == 0, hidden.stderr
    assert hidden.stdout == "42\n" and hidden.stderr == ""
    assert srv.chat_requests()[-1]["enable_thinking"] is False


def test_the_conversation_is_kept_in_the_data_dir(chat_env: dict[str, str], data_dir: Path) -> None:
    assert qwen(["chat", "remember me"], chat_env).returncode == 0
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        rows = db.execute("SELECT role, content FROM messages ORDER BY id").fetchall()
    finally:
        db.close()
    assert rows == [("user", "remember me"), ("assistant", "Echo: remember me")]


def test_an_unexpected_error_is_one_line_with_the_log_and_exit_4(data_dir: Path) -> None:
    (data_dir / "history.sqlite3").mkdir(parents=True)  # cannot be opened (and is no damage to set aside)
    result = qwen(["history", "list"], base_env(data_dir))
    assert result.returncode == 4, result.stderr
    assert_one_plain_line(result.stderr)
    assert "qwen-desktop-cli.log" in result.stderr
    log_text = (data_dir / "logs" / "qwen-desktop-cli.log").read_text(encoding="utf-8")
    assert "Traceback" in log_text and "OperationalError" in log_text


def test_wrong_key_exits_3_with_one_plain_line(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    wrong = "sk-wrong-key-9999999999"
    result = qwen(["chat", "hello"], {**chat_env, "DASHSCOPE_API_KEY": wrong})
    assert result.returncode == 3
    assert_one_plain_line(result.stderr)
    assert "region" in result.stderr  # a 401 suggests checking the region
    assert wrong not in result.stderr + result.stdout
    assert result.stdout.strip() == ""
    assert len(srv.chat_requests()) == 1  # an auth error is not retried


def test_service_down_beyond_retries_exits_4(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    srv.script_chat(*[ChatReply.error(503, "ModelUnavailable")] * 10)
    result = qwen(["chat", "hello"], chat_env)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert sum("Retrying" in line for line in lines) == 4  # the default policy's retries, made quick
    assert "having problems" in lines[-1] and "request id" in lines[-1]
    assert "Traceback" not in result.stderr
    assert len(srv.chat_requests()) == 5


def test_retry_then_success_exits_0(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    srv.script_chat(ChatReply.error(429, "limit_requests"), ChatReply(content="made it"))
    result = qwen(["chat", "hello"], chat_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "made it\n"
    assert "Retrying" in result.stderr


def test_cut_off_keeps_the_partial_answer_and_exits_4(srv: DashScopeServer, chat_env: dict[str, str]) -> None:
    srv.script_chat(ChatReply(content="partial answer here", disconnect_after=2))
    result = qwen(["chat", "hello"], chat_env)
    assert result.returncode == 4
    assert result.stdout == "partial \n"
    assert_one_plain_line(result.stderr)
    assert "cut off" in result.stderr


def test_network_failure_exits_4(data_dir: Path) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY,
                       DASHSCOPE_BASE_URL=f"http://127.0.0.1:{closed.getsockname()[1]}/compatible-mode/v1")
        result = qwen(["chat", "hello"], env)
    assert result.returncode == 4
    assert_one_plain_line(result.stderr)


def test_no_key_exits_3(srv: DashScopeServer, data_dir: Path) -> None:
    result = qwen(["chat", "hello"], base_env(data_dir, DASHSCOPE_BASE_URL=srv.base_url))
    assert result.returncode == 3
    assert_one_plain_line(result.stderr)
    assert "API key" in result.stderr
    assert srv.requests == []


USAGE_ERRORS: list[tuple[list[str], str]] = [
    (["chat", "--no-such-option", "hi"], ""),
    (["chat", "--thinking", "--no-thinking", "hi"], ""),
    (["chat"], ""),  # no prompt and nothing on stdin
    (["chat", "-"], "   \n"),
    (["key"], ""),
    (["key", "set", "sk-given-on-the-command-line-1234"], ""),  # never from argv
    (["key", "frobnicate"], ""),
    (["caht", "hello"], ""),  # a mistyped command is a usage error, not the window
]


def test_usage_errors_exit_2(srv: DashScopeServer, data_dir: Path) -> None:
    env = base_env(data_dir, DASHSCOPE_API_KEY=TEST_KEY, DASHSCOPE_BASE_URL=srv.base_url)
    processes = [  # independent runs, started together to keep the test quick
        (args, stdin, subprocess.Popen([sys.executable, "-m", "desktop", *args], cwd=PROJECT_ROOT, env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, encoding="utf-8"))
        for args, stdin in USAGE_ERRORS
    ]
    failures = []
    for args, stdin, process in processes:
        try:
            stdout, stderr = process.communicate(stdin, timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        if process.returncode != 2 or "Traceback" in stderr or not stderr.strip():
            failures.append((args, process.returncode, stdout, stderr))
    assert failures == []
    assert srv.requests == []


# ---- key -------------------------------------------------------------------------------------


def test_key_set_without_a_keyring_fails_plainly_and_writes_no_file(data_dir: Path) -> None:
    secret = "sk-secret-from-stdin-ABCD1234"
    result = qwen(["key", "set"], base_env(data_dir), stdin=secret + "\n")
    assert result.returncode != 0
    assert_one_plain_line(result.stderr)
    assert "keyring" in result.stderr and "DASHSCOPE_API_KEY" in result.stderr
    assert secret not in result.stdout + result.stderr
    for path in files_under(data_dir):
        assert secret.encode() not in path.read_bytes(), path
        assert b"ABCD1234" not in path.read_bytes(), path
    status = qwen(["key", "status"], base_env(data_dir))
    assert status.stdout.startswith("none: no API key is set") and status.returncode == 3


def test_key_set_with_empty_stdin_is_a_usage_error(data_dir: Path) -> None:
    result = qwen(["key", "set"], base_env(data_dir), stdin="\n")
    assert result.returncode == 2
    assert_one_plain_line(result.stderr)


def test_key_status_from_the_environment_is_masked(data_dir: Path) -> None:
    key = "sk-environment-key-0000wxyz"
    result = qwen(["key", "status"], base_env(data_dir, DASHSCOPE_API_KEY=key))
    assert result.returncode == 0, result.stderr
    assert "environment" in result.stdout
    assert "sk-…wxyz" in result.stdout
    assert key not in result.stdout + result.stderr
    assert "environment-key" not in result.stdout


def test_key_delete_without_a_keyring(data_dir: Path) -> None:
    result = qwen(["key", "delete"], base_env(data_dir))
    assert "Traceback" not in result.stderr
    assert result.returncode == 3
    assert "no system keyring" in result.stderr and "deleted" not in result.stdout
