"""Text from outside reaches the terminal without its control sequences (issue 10, item 11).

Replies and reasoning, server error messages, note file names, headings and snippets, conversation
titles: whatever the command line prints of them carries no ESC, no other C0 control but newline and
tab, no C1 control and no bidi override, while the visible text, Chinese and emoji survive. What is
stored (history) and written to a file (``history export -o``) keeps the text as it was.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.cli.terminal import SafeStream, json_text, terminal_safe, write_control
from tests.support.dashscope_server import TEST_KEY, ChatReply, DashScopeServer
from tests.test_cli import PROJECT_ROOT, base_env

# The sequences a hostile reply or file name would carry, and the visible words around them.
CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write the clipboard
TITLE = "\x1b]0;pwned\x07"  # OSC 0: set the window title
LINK = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # OSC 8 hyperlink
CLEAR = "\x1b[2J\x1bc"  # clear the screen, reset the terminal
C1 = "\x9b31m\x9d0;t\x9c\x85"  # CSI, OSC, ST and NEL as single C1 characters
BIDI = "\u202egnp.exe\u202c \u2066x\u2069"  # right-to-left override, isolate
BELL_BS_CR = "\x07\x08\x0dover"


def assert_terminal_safe(data: bytes) -> str:
    """The bytes hold no ESC and decode to text without C0 (but \\n, \\t), C1 or bidi controls."""
    assert b"\x1b" not in data
    text = data.decode("utf-8")
    bad = [f"U+{ord(c):04X}" for c in text
           if (unicodedata.category(c) == "Cc" and c not in "\n\t")
           or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]
    assert bad == [], text
    return text


def run_bytes(args: list[str], env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=PROJECT_ROOT, env=env, input=stdin,
                          capture_output=True, timeout=60)


@pytest.fixture
def env(srv: DashScopeServer, data_dir: Path) -> dict[str, str]:
    return base_env(data_dir, DASHSCOPE_BASE_URL=srv.base_url, DASHSCOPE_API_KEY=TEST_KEY)


# ---- the neutraliser ------------------------------------------------------------------------


def test_control_characters_become_visible_stand_ins_and_text_stays() -> None:
    assert terminal_safe("a\x1b[2Jb") == "a^[[2Jb"
    assert terminal_safe(TITLE) == "^[]0;pwned^G"
    assert terminal_safe("\x9b31m \u202eabc") == "\ufffd31m \ufffdabc"
    assert terminal_safe("line\r\nnext\rover\x7f") == "line\nnext^Mover^?"
    kept = "中文 😀 café\n\tend — “quotes” \u200d"
    assert terminal_safe(kept) == kept


def test_a_sequence_split_across_writes_is_neutralised() -> None:
    raw = io.StringIO()
    stream = SafeStream(raw)  # type: ignore[arg-type]
    for piece in ("Hi \x1b", "]52;c;ZXZpbA==", "\x07 there\x1b", "[2J", "\u009b"):
        stream.write(piece)
    assert raw.getvalue() == "Hi ^[]52;c;ZXZpbA==^G there^[[2J\ufffd"
    write_control(stream, "\r")  # the command line's own progress line may still return
    assert raw.getvalue().endswith("\r")


def test_json_output_is_terminal_safe_and_loses_nothing() -> None:
    value = {"title": f"{TITLE}{C1}{BIDI} 中文"}
    text = json_text(value)
    assert_terminal_safe(text.encode())
    assert json.loads(text) == value


# ---- chat -------------------------------------------------------------------------------------


def test_a_hostile_streamed_reply_is_printed_harmless_and_stored_as_sent(
        srv: DashScopeServer, env: dict[str, str], data_dir: Path) -> None:
    # Every sequence is cut between two deltas somewhere, ESC itself included.
    tokens = ["Hi \x1b", CLIPBOARD[1:], " there ", TITLE[:4], TITLE[4:], LINK[:20], LINK[20:], " ",
              CLEAR[:3], CLEAR[3:], C1, BIDI, BELL_BS_CR, " 中文😀\n\tend"]
    reasoning = [f"think {TITLE[:2]}", f"{TITLE[2:]}{CLEAR} hard"]
    srv.script_chat(ChatReply(tokens=tokens, reasoning_tokens=reasoning))
    result = run_bytes(["chat", "--thinking", "--show-thinking", "hello"], env)
    assert result.returncode == 0, result.stderr
    out = assert_terminal_safe(result.stdout)
    err = assert_terminal_safe(result.stderr)
    assert out.startswith("Hi ^[]52;c;ZWNobyBwd25lZA==^G there ^[]0;pwned^G")
    assert "click" in out and "gnp.exe" in out and out.endswith(" 中文😀\n\tend\n")
    assert "think ^[]0;pwned^G^[[2J^[c hard" in err

    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        stored = db.execute("SELECT content, reasoning FROM messages WHERE role = 'assistant'").fetchone()
    finally:
        db.close()
    assert stored == ("".join(tokens), "".join(reasoning))  # neutralised on screen only


def test_a_hostile_server_error_message_is_one_harmless_line(srv: DashScopeServer, env: dict[str, str]) -> None:
    srv.script_chat(ChatReply.error(400, "invalid_parameter_error", f"bad {TITLE}{CLEAR}input{C1}\nsecond"))
    result = run_bytes(["chat", "hello"], env)
    assert result.returncode == 1
    err = assert_terminal_safe(result.stderr)
    assert "bad ^[]0;pwned^G^[[2J^[cinput" in err and "second" in err
    assert err.startswith("qwen-desktop: ") and err.count("\n") == 1 and "Traceback" not in err


# ---- history ----------------------------------------------------------------------------------


def test_conversation_titles_are_harmless_on_stdout_and_kept_in_files(
        env: dict[str, str], tmp_path: Path) -> None:
    question = f"{TITLE}Question {CLEAR}问题{C1}{BIDI}"
    assert run_bytes(["chat", "-"], env, stdin=question.encode()).returncode == 0

    listing = run_bytes(["history", "list"], env)
    assert listing.returncode == 0, listing.stderr
    assert "^[]0;pwned^GQuestion ^[[2J^[c问题" in assert_terminal_safe(listing.stdout)

    as_json = run_bytes(["history", "list", "--json"], env)
    assert_terminal_safe(as_json.stdout)
    assert json.loads(as_json.stdout)[0]["title"].startswith(f"{TITLE}Question {CLEAR}问题")

    exported = run_bytes(["history", "export", "--last"], env)
    assert exported.returncode == 0, exported.stderr
    text = assert_terminal_safe(exported.stdout)
    assert "^[]0;pwned^GQuestion" in text and "Echo: " in text

    target = tmp_path / "conversation.md"
    assert run_bytes(["history", "export", "--last", "-o", str(target)], env).returncode == 0
    assert f"{TITLE}Question {CLEAR}问题".encode() in target.read_bytes()  # a file keeps the text


# ---- notes ------------------------------------------------------------------------------------


def test_note_names_headings_and_snippets_are_harmless(
        service_env: DashScopeServer, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    folder = tmp_path / f"notes{CLEAR}"
    folder.mkdir()
    evil = folder / f"evil{TITLE}{BIDI}.md"
    evil.write_text(f"# Heading {CLIPBOARD}{C1}\n\nThe approval code E-4012 {LINK} 中文😀\n", encoding="utf-8")
    (folder / f"blob{CLEAR}.txt").write_bytes(b"\x00\x01\x02" * 100)  # skipped: not text

    assert run_cli(["notes", "add", str(folder)]) == 0
    assert run_cli(["notes", "index"]) == 0
    assert run_cli(["notes", "list", "--skipped"]) == 0
    listed = capsysbinary.readouterr()
    out = assert_terminal_safe(listed.out)
    assert_terminal_safe(listed.err)
    assert "notes^[[2J^[c" in out and "blob^[[2J^[c.txt" in out

    assert run_cli(["notes", "search", "E-4012"]) == 0
    found = capsysbinary.readouterr()
    out = assert_terminal_safe(found.out)
    assert "evil^[]0;pwned^G" in out and "Heading ^[]52;c;" in out and "中文😀" in out

    assert run_cli(["notes", "search", "E-4012", "--json"]) == 0
    text = assert_terminal_safe(capsysbinary.readouterr().out)
    assert json.loads(text)[0]["path"] == str(evil)  # JSON escapes them: nothing is lost
