"""Hostile and broken files in a notes folder (issue 10): each one is skipped with a reason, and
none of them stops, hangs or leaks out of an index run.

- a file name that is not valid UTF-8 (a GBK-named file unzipped on Linux);
- a FIFO, present at scan time or swapped in between the scan and the read;
- a read that hangs (a stuck network share): bounded by a timeout, and a cancelled run (or Ctrl-C)
  does not wait for it;
- links that lead out of the notes folders;
- a .docx that unpacks to far more than it weighs (a zip bomb).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import run_cli
from desktop.core.client import QwenClient
from desktop.core.notes import index as index_module
from desktop.core.notes.bounded import CallCancelled, CallTimedOut, DaemonCalls
from desktop.core.notes.index_reading import read_file
from desktop.core.notes.reader import SKIP_MESSAGES, NoteUnreadable, SkipReason, extract_text
from desktop.core.notes.scanner import FoundFile, scan_folder
from desktop.core.notes.store_records import IndexedFile, SkippedFile
from tests.notes.conftest import make_docx, write
from tests.support.dashscope_server import DashScopeServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names, FIFOs and links")


def sent_text(srv: DashScopeServer) -> str:
    return "\n".join(text for request in srv.embedding_requests() for text in request)


def skipped_by_name(indexer: Any) -> dict[str, SkipReason]:
    return {Path(s.path).name: s.reason for s in indexer.store.skipped()}


# ---- a file name that is not valid UTF-8 ---------------------------------------------------------

GBK_FILE = b"\xb1\xa8\xcf\xfa.txt"  # 报销.txt in GBK: what a zip made on Chinese Windows unpacks to
GBK_FOLDER = b"\xd7\xca\xc1\xcf"  # 资料
SHOWN_FILE = "\\xb1\\xa8\\xcf\\xfa.txt"  # how the skipped list shows it: the bytes, escaped
SHOWN_FOLDER = "\\xd7\\xca\\xc1\\xcf"


def badly_named(folder: Path) -> None:
    """A GBK-named file and a GBK-named folder (with a note inside) in ``folder``."""
    base = os.fsencode(folder)
    try:
        fd = os.open(os.path.join(base, GBK_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:  # a file system that insists on UTF-8 names (macOS)
        pytest.skip(f"this file system refuses non-UTF-8 names: {exc}")
    with os.fdopen(fd, "wb") as out:
        out.write("差旅报销需要发票。\n".encode("gbk"))
    os.mkdir(os.path.join(base, GBK_FOLDER))
    with open(os.path.join(base, GBK_FOLDER, b"inside.md"), "wb") as out:
        out.write(b"# Inside\n\nA note in a folder with a GBK name.\n")


async def test_a_file_name_that_is_not_utf8_is_skipped_and_the_run_goes_on(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    write(notes_dir / "good.md", "# Travel\n\nThe quokka budget is approved.\n")
    badly_named(notes_dir)
    indexer = await open_indexer(client)
    report = await indexer.run([str(notes_dir)])
    assert report.chunks_embedded == 1 and report.files_skipped == 1  # (folders not counted)
    assert {s.path: (s.reason, s.is_dir) for s in indexer.store.skipped()} == {
        str(notes_dir / SHOWN_FILE): (SkipReason.BAD_NAME, False),
        str(notes_dir / SHOWN_FOLDER): (SkipReason.BAD_NAME, True),
    }
    assert "quokka" in sent_text(srv)

    again = await indexer.run([str(notes_dir)])  # a second run: stable, nothing read or removed
    assert again.files_read == 0 and again.files_removed == 0 and again.files_skipped == 1
    searcher = await open_searcher(client)
    hits = (await searcher.search("quokka", k=3)).hits
    assert hits and hits[0].file_name == "good.md"


def test_cli_index_skips_a_name_that_is_not_utf8(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(notes_dir / "good.md", "# Travel\n\nThe quokka budget is approved.\n")
    badly_named(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index"]) == 0
    err = capsys.readouterr().err
    assert "Done: 1 chunks embedded" in err and "unexpected error" not in err

    assert run_cli(["notes", "list", "--skipped"]) == 0
    out = capsys.readouterr().out
    message = SKIP_MESSAGES[SkipReason.BAD_NAME]
    assert f"skipped: {notes_dir / SHOWN_FILE}: {message}" in out
    assert f"skipped: {notes_dir / SHOWN_FOLDER}: {message}" in out

    assert run_cli(["notes", "search", "quokka", "--json", "-k", "1"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["path"] == str(notes_dir / "good.md")


# ---- FIFOs and reads that hang --------------------------------------------------------------------


@pytest.fixture
def fifos() -> Iterator[list[Path]]:
    """FIFOs a test makes; at the end any reader still blocked on one is given an end of file."""
    made: list[Path] = []
    yield made
    for path in made:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only if someone reads
        except OSError:
            continue
        os.close(fd)


async def test_a_fifo_in_the_folder_is_skipped(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, fifos: list[Path]
) -> None:
    write(notes_dir / "good.md", "# Good\n\nquokka\n")
    fifos.append(notes_dir / "pipe.txt")
    os.mkfifo(fifos[-1])
    indexer = await open_indexer(client)
    report = await asyncio.wait_for(indexer.run([str(notes_dir)]), 10)
    assert report.chunks_embedded == 1
    assert skipped_by_name(indexer) == {"pipe.txt": SkipReason.NOT_A_FILE}


async def test_a_file_replaced_by_a_fifo_after_the_scan_is_skipped(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any,
    fifos: list[Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(notes_dir / "good.md", "# Good\n\nquokka\n")
    victim = write(notes_dir / "victim.md", "# Victim\n\nwill be a pipe\n")
    real_scan = index_module.scan_folder

    def scan_then_swap(*args: Any, **kwargs: Any) -> Any:
        result = real_scan(*args, **kwargs)
        assert "victim.md" in {Path(f.path).name for f in result.files}
        victim.unlink()
        os.mkfifo(victim)
        fifos.append(victim)
        return result

    monkeypatch.setattr(index_module, "scan_folder", scan_then_swap)
    indexer = await open_indexer(client)
    started = time.monotonic()
    report = await asyncio.wait_for(indexer.run([str(notes_dir)]), 10)
    assert time.monotonic() - started < 5
    assert report.chunks_embedded == 1 and "will be a pipe" not in sent_text(srv)
    assert skipped_by_name(indexer) == {"victim.md": SkipReason.NOT_A_FILE}


def test_read_file_never_opens_a_fifo(tmp_path: Path, fifos: list[Path]) -> None:
    fifos.append(tmp_path / "pipe.md")
    os.mkfifo(fifos[-1])
    change = read_file(FoundFile(str(fifos[-1]), 10, 1), None, 10_000)
    assert isinstance(change, SkippedFile) and change.reason is SkipReason.NOT_A_FILE


class Hang:
    """Opening a file with one of ``names`` blocks, as on a stuck network share, until released."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.entered = threading.Event()
        self.release = threading.Event()

    def check(self, path: Any) -> None:
        if isinstance(path, int):
            return
        if os.path.basename(os.fsdecode(path)) in self.names:
            self.entered.set()
            self.release.wait()


@pytest.fixture
def hang(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hang]:
    stuck = Hang()
    real_os_open, real_open = os.open, builtins.open

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        stuck.check(path)
        return real_os_open(path, *args, **kwargs)

    def py_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        stuck.check(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", py_open)
    yield stuck
    stuck.release.set()


def reading_pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("notes-read_") and t.is_alive()]


async def test_a_hung_read_is_skipped_after_the_timeout_and_retried_next_time(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, hang: Hang
) -> None:
    write(notes_dir / "good.md", "# Good\n\nquokka\n")
    write(notes_dir / "stuck.md", "# Stuck\n\nwallaby\n")
    hang.names.add("stuck.md")
    indexer = await open_indexer(client, read_timeout=0.5)
    started = time.monotonic()
    report = await asyncio.wait_for(indexer.run([str(notes_dir)]), 10)
    assert time.monotonic() - started < 5
    assert report.chunks_embedded == 1 and "wallaby" not in sent_text(srv)
    assert skipped_by_name(indexer) == {"stuck.md": SkipReason.TIMED_OUT}

    hang.release.set()  # the share answers again: the next run reads the file
    again = await indexer.run([str(notes_dir)])
    assert again.files_read == 1 and again.chunks_embedded == 1 and "wallaby" in sent_text(srv)
    assert skipped_by_name(indexer) == {}


async def test_cancelling_a_run_while_a_read_hangs_returns_at_once(
    srv: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any, hang: Hang
) -> None:
    for i in range(5):
        write(notes_dir / f"note{i}.md", f"# Note {i}\n\ntext {i}\n")
    write(notes_dir / "stuck.md", "# Stuck\n\nwallaby\n")
    hang.names.add("stuck.md")
    indexer = await open_indexer(client)  # the default timeout: far longer than this test
    task = asyncio.ensure_future(indexer.run([str(notes_dir)]))
    assert await asyncio.to_thread(hang.entered.wait, 10), "the read never started"
    assert await cancel_and_close(task, indexer) < 2


async def test_cancelling_a_run_while_the_scan_hangs_returns_at_once(
    client: QwenClient, notes_dir: Path, open_indexer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(notes_dir / "note.md", "# Note\n\ntext\n")
    entered, release = threading.Event(), threading.Event()
    real_scan = index_module.scan_folder

    def hung_scan(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait()
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(index_module, "scan_folder", hung_scan)
    indexer = await open_indexer(client)
    task = asyncio.ensure_future(indexer.run([str(notes_dir)]))
    try:
        assert await asyncio.to_thread(entered.wait, 10), "the scan never started"
        assert await cancel_and_close(task, indexer) < 2
    finally:
        release.set()


async def cancel_and_close(task: asyncio.Future[Any], indexer: Any) -> float:
    """Cancel the run, close the indexer, wait until the reading pool is free: the seconds it took."""
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    await asyncio.wait_for(indexer.close(), 5)
    # The reading pool lets go of the stuck work too, so nothing (the end of the process) waits.
    while reading_pool_threads() and time.monotonic() - started < 5:
        await asyncio.sleep(0.05)
    assert reading_pool_threads() == []
    return time.monotonic() - started


def test_stuck_calls_are_let_go_and_do_not_pile_up() -> None:
    calls = DaemonCalls(max_stuck=2)
    release = threading.Event()
    try:
        assert calls.call(lambda: 7, timeout=5) == 7
        with pytest.raises(ZeroDivisionError):
            calls.call(lambda: 1 // 0, timeout=5)
        for _ in range(2):
            with pytest.raises(CallTimedOut):
                calls.call(release.wait, timeout=0.05)
        started = time.monotonic()
        with pytest.raises(CallTimedOut):  # two are stuck already: refused without waiting
            calls.call(lambda: 7, timeout=5)
        assert time.monotonic() - started < 0.05
        stop = threading.Event()
        threading.Timer(0.1, stop.set).start()
        with pytest.raises(CallCancelled):
            DaemonCalls().call(release.wait, timeout=None, stop=stop)
        assert time.monotonic() - started < 1
    finally:
        release.set()
    deadline = time.monotonic() + 5  # the stuck ones return: calls are taken again
    while True:
        try:
            assert calls.call(lambda: 8, timeout=5) == 8
            break
        except CallTimedOut:
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_ctrl_c_stops_notes_index_while_a_read_hangs(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(notes_dir / "good.md", "# Good\n\nquokka\n")
    write(notes_dir / "stuck.md", "# Stuck\n\nwallaby\n")
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.notes.hang_worker", "stuck.md"],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()  # the worker says when the read is stuck
        assert line.strip() == "stuck", worker.communicate(timeout=10)
        worker.send_signal(signal.SIGINT)
        try:  # the read hangs for ever: stopping at all is the behaviour (a shared machine is slow)
            worker.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail("notes index did not stop on Ctrl-C while a read hung")
        assert worker.returncode == 130, worker.communicate()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
        if worker.stdout:
            worker.stdout.close()
        if worker.stderr:
            worker.stderr.close()


# ---- links that lead out of the notes folders -----------------------------------------------------


async def test_links_out_of_the_notes_folders_are_skipped(
    srv: DashScopeServer, client: QwenClient, tmp_path: Path, notes_dir: Path,
    open_indexer: Any, open_searcher: Any,
) -> None:
    private = tmp_path / "private"
    write(private / "secret.md", "# Secret\n\nThe zanzibarcode password.\n")
    write(private / "docs" / "more.md", "# More\n\nzanzibarcode again.\n")
    other = tmp_path / "other"  # a second notes folder
    write(other / "shared.md", "# Shared\n\nkiwi\n")
    write(notes_dir / "own.md", "# Own\n\nquokka\n")
    write(notes_dir / "sub" / "real.md", "# Real\n\nwombat\n")
    os.symlink(private / "secret.md", notes_dir / "secret.md")
    os.symlink(private / "docs", notes_dir / "docs")
    os.symlink(private, notes_dir / "sub" / "deeper")
    os.symlink(notes_dir / "sub" / "real.md", notes_dir / "alias.md")  # inside the folder: followed
    os.symlink(other / "shared.md", notes_dir / "from-other.md")  # into another notes folder: followed

    indexer = await open_indexer(client)
    await indexer.run([str(notes_dir), str(other)])
    assert "zanzibarcode" not in sent_text(srv)
    skipped = {s.path: (s.reason, s.is_dir) for s in indexer.store.skipped()}
    assert skipped == {
        str(notes_dir / "secret.md"): (SkipReason.OUTSIDE_FOLDERS, False),
        str(notes_dir / "docs"): (SkipReason.OUTSIDE_FOLDERS, True),
        str(notes_dir / "sub" / "deeper"): (SkipReason.OUTSIDE_FOLDERS, True),
    }
    searcher = await open_searcher(client)
    assert (await searcher.search("zanzibarcode", keyword_only=True)).hits == ()
    files = {h.path for h in (await searcher.search("wombat", keyword_only=True)).hits}
    assert files == {str(notes_dir / "sub" / "real.md"), str(notes_dir / "alias.md")}
    files = {h.path for h in (await searcher.search("kiwi", keyword_only=True)).hits}
    assert str(notes_dir / "from-other.md") in files


def test_scan_checks_links_against_every_allowed_folder(tmp_path: Path) -> None:
    root, other = tmp_path / "notes", tmp_path / "other"
    write(other / "a.md", "a")
    os.symlink(other / "a.md", write(root / "x.md", "x").with_name("link.md"))
    alone = scan_folder(root, max_file_size=1000)
    assert {Path(s.path).name: s.reason for s in alone.skipped} == {"link.md": SkipReason.OUTSIDE_FOLDERS}
    both = scan_folder(root, max_file_size=1000, allowed=[str(root), str(other)])
    assert {Path(f.path).name for f in both.files} == {"x.md", "link.md"} and both.skipped == []


# ---- a zip bomb .docx -------------------------------------------------------------------------------


def docx_bomb(path: Path, unpacked: int) -> Path:
    """A .docx-shaped zip whose word/document.xml unpacks to ``unpacked`` bytes of spaces, written
    in chunks so that this test never holds it in memory."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"/>')
        with zf.open("word/document.xml", "w") as out:
            out.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                      b'wordprocessingml/2006/main"><w:body>')
            for _ in range(unpacked // len(chunk)):
                out.write(chunk)
            out.write(b"</w:body></w:document>")
    return path


def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 300 << 20)
    data = bomb.read_bytes()
    assert len(data) < 3 << 20  # a few MB on disk, well under the size limit
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(NoteUnreadable) as info:
            extract_text(bomb, data)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert info.value.reason is SkipReason.TOO_LARGE_UNPACKED
    assert peak < 100 << 20
    st = bomb.stat()
    change = read_file(FoundFile(str(bomb), st.st_size, st.st_mtime_ns), None, 20 << 20)
    assert isinstance(change, SkippedFile) and change.reason is SkipReason.TOO_LARGE_UNPACKED


def test_a_docx_that_compresses_absurdly_well_is_refused(tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "small-bomb.docx", 40 << 20)  # under the size cap, ~1000:1
    with pytest.raises(NoteUnreadable) as info:
        extract_text(bomb, bomb.read_bytes())
    assert info.value.reason is SkipReason.TOO_LARGE_UNPACKED


def test_an_ordinary_docx_is_still_read(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "plain.docx", "标题", ["".join(f"第{i}句话。" for i in range(2000)), "第二段。"])
    st = path.stat()
    change = read_file(FoundFile(str(path), st.st_size, st.st_mtime_ns), None, 20 << 20)
    assert isinstance(change, IndexedFile) and "第二段" in "".join(c.text for c in change.chunks)
