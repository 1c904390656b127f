"""`qwen-desktop key ...` and the command line's log file with hostile input: no hang, no leak."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import output
from desktop.core import paths
from desktop.core.errors import register_secret
from tests.test_cli import PROJECT_ROOT, assert_one_plain_line, base_env, files_under, qwen

MEMORY_LIMIT = 1 << 30  # bytes of address space for the subprocess: a runaway read dies fast


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def qwen_with_stdin(args: list[str], env: dict[str, str], stdin: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], cwd=PROJECT_ROOT, env=env, stdin=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=120, preexec_fn=_limit_memory,
    )


def test_key_set_from_an_endless_stream_stops_at_once(data_dir: Path) -> None:
    with open("/dev/zero", "rb") as endless:  # no line end, ever
        result = qwen_with_stdin(["key", "set"], base_env(data_dir), endless)
    assert result.returncode == 2, result.stderr
    assert_one_plain_line(result.stderr)
    assert "too long" in result.stderr


def test_key_set_with_megabytes_on_one_line_is_refused(data_dir: Path) -> None:
    result = qwen(["key", "set"], base_env(data_dir), stdin="sk-" + "a" * 5_000_000)
    assert result.returncode == 2, result.stderr
    assert_one_plain_line(result.stderr)
    assert "too long" in result.stderr


def test_key_set_with_binary_input_is_a_usage_error(data_dir: Path) -> None:
    binary = data_dir / "binary"
    binary.write_bytes(b"sk-\xff\xfe\x00\x81garbage\n")
    with binary.open("rb") as stdin:
        result = qwen_with_stdin(["key", "set"], base_env(data_dir), stdin)
    assert result.returncode == 2, result.stderr
    assert_one_plain_line(result.stderr)


def test_key_set_refuses_a_key_with_a_space_and_says_why(data_dir: Path) -> None:
    secret = "sk-secret 0123456789ABCD"
    result = qwen(["key", "set"], base_env(data_dir), stdin=secret + "\n")
    assert result.returncode == 2, result.stderr
    assert_one_plain_line(result.stderr)
    assert "space" in result.stderr
    assert "0123456789ABCD" not in result.stdout + result.stderr


def test_key_status_cleans_a_pasted_environment_key(data_dir: Path) -> None:
    key = "\ufeffsk-environment-key-0000wxyz\u200b\r"
    result = qwen(["key", "status"], base_env(data_dir, DASHSCOPE_API_KEY=key))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "environment (DASHSCOPE_API_KEY): sk-…wxyz"


def test_key_status_with_a_broken_environment_key_names_the_problem(data_dir: Path) -> None:
    result = qwen(["key", "status"], base_env(data_dir, DASHSCOPE_API_KEY="mysecretvalue\nX-Evil: 1"))
    assert result.returncode == 3, result.stderr
    assert_one_plain_line(result.stderr)
    assert "DASHSCOPE_API_KEY" in result.stderr and "line break" in result.stderr
    assert "mysecretvalue" not in result.stdout + result.stderr


def test_chat_with_a_broken_environment_key_sends_nothing(srv, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    env = base_env(data_dir, DASHSCOPE_BASE_URL=srv.base_url, DASHSCOPE_API_KEY="mysecretvalue\nX-Evil: 1")
    result = qwen(["chat", "hello"], env)
    assert result.returncode == 3, result.stderr
    assert_one_plain_line(result.stderr)
    assert "mysecretvalue" not in result.stdout + result.stderr
    assert srv.requests == []
    for path in files_under(data_dir):
        assert b"mysecretvalue" not in path.read_bytes(), path


# ---- the command line's log file ------------------------------------------------------------


def _unexpected_with(text: str) -> None:
    try:
        raise RuntimeError(text)
    except RuntimeError as exc:
        assert output.unexpected(exc) == output.EXIT_SERVICE


def test_the_cli_log_never_keeps_a_secret(data_dir: Path) -> None:
    odd = "Z9yX8wV7uT6sR5qP-cli"
    register_secret(odd)
    _unexpected_with(f"Illegal header value b'Bearer {odd}' via http://me:hunter2pass@proxy:3128")
    log_text = (paths.log_dir() / "qwen-desktop-cli.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log_text
    assert odd not in log_text and "hunter2pass" not in log_text


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_data_folder_and_the_cli_log_are_private(data_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh-home"  # made by the app, not by the test
    monkeypatch.setenv(paths.ENV_HOME, str(fresh))
    _unexpected_with("boom")
    log_file = paths.log_dir() / "qwen-desktop-cli.log"
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_the_cli_log_does_not_grow_without_end(data_dir: Path) -> None:
    log_file = paths.log_dir() / "qwen-desktop-cli.log"
    log_file.write_text("x" * (output.LOG_LIMIT + 10), encoding="utf-8")
    for _ in range(3):
        _unexpected_with("again")
    logs = sorted(p.name for p in log_file.parent.iterdir())
    assert logs == ["qwen-desktop-cli.log", "qwen-desktop-cli.log.1"]
    total = sum(p.stat().st_size for p in log_file.parent.iterdir())
    assert total <= 2 * output.LOG_LIMIT + 100_000
    assert "again" in log_file.read_text(encoding="utf-8")
