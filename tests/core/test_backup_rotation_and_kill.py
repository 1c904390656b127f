"""Rotation keeps what it should; SIGKILL mid-backup leaves the older backups and the data intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from desktop.core import paths
from desktop.core.backup.archive import Kind, Manifest, extract, inspect, write_archive
from desktop.core.backup.rotation import Entry, Policy, to_remove
from desktop.core.backup.service import BackupService
from desktop.core.history import HistoryStore
from tests.support.backups import fill_data, folder_state, table_rows

ROOT = Path(__file__).resolve().parents[2]


def _at(day: int, hour: int = 12) -> float:
    """A time ``day`` days before Wednesday 2026-12-02, local time."""
    return (datetime(2026, 12, 2, hour) - timedelta(days=day)).timestamp()


def test_the_policy_keeps_seven_days_four_weeks_and_the_last_safety_backups() -> None:
    entries = [Entry(Path(f"daily-{d}"), _at(d), Kind.DAILY) for d in range(60)]
    entries += [Entry(Path(f"daily-{d}-evening"), _at(d, 20), Kind.DAILY) for d in (0, 1)]
    entries += [Entry(Path(f"manual-{d}"), _at(d), Kind.MANUAL) for d in (3, 90)]
    entries += [Entry(Path(f"upgrade-{d}"), _at(d), Kind.UPGRADE) for d in range(0, 40, 5)]
    entries += [Entry(Path("restore-2"), _at(2, 9), Kind.RESTORE)]

    removed = set(to_remove(entries, Policy(keep_daily=7, keep_weekly=4, keep_safety=5)))
    kept = {e.path.name for e in entries} - {p.name for p in removed}

    days = {"daily-0-evening", "daily-1-evening", "daily-2", "daily-3", "daily-4", "daily-5", "daily-6"}
    # ISO weeks: 2026-12-02 is a Wednesday; the newest of each of the 4 latest weeks.
    weeks = {"daily-0-evening", "daily-3", "daily-10", "daily-17"}
    safety = {"restore-2", "upgrade-0", "upgrade-5", "upgrade-10", "upgrade-15"}
    assert kept == days | weeks | safety | {"manual-3", "manual-90"}
    assert "daily-0" in {p.name for p in removed}  # the morning one: the evening one is that day's
    created = {e.path: e.created for e in entries}
    ordered = to_remove(entries)
    assert ordered == sorted(ordered, key=created.__getitem__)  # oldest first


def test_the_service_removes_what_the_policy_does_not_keep(data_dir: Path) -> None:
    fill_data(conversations=1)
    service = BackupService(data_dir, policy=Policy(keep_daily=2, keep_weekly=1, keep_safety=1))
    folder = service.folder()
    made = service.create(Kind.MANUAL)  # rotates once: nothing automatic yet
    work = data_dir / "parts"
    work.mkdir()
    info = extract(made.path, work)
    files = [(p.name, work / p.name) for p in info.manifest.parts]
    for day, kind in [(9, Kind.DAILY), (3, Kind.DAILY), (2, Kind.DAILY), (1, Kind.DAILY),
                      (8, Kind.UPGRADE), (4, Kind.UPGRADE), (30, Kind.MANUAL)]:
        manifest = Manifest(_at(day), kind, 1, 6, info.manifest.history_schema, parts=info.manifest.parts)
        write_archive(folder / f"qwen-desktop-2026110{day % 10}-12000{day // 10}-{kind.value}.zip",
                      manifest, files)
    service.rotate()
    left = sorted((b.manifest.kind.value, round((_at(0) - b.manifest.created) / 86400)) for b in service.backups())
    assert left == [("before-upgrade", 4), ("daily", 1), ("daily", 2), ("manual", 0), ("manual", 30)]


_CHILD = """
import sys
from pathlib import Path
from desktop.core.backup.service import BackupService
service = BackupService(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    service.create()
"""


@pytest.mark.timeout(120)
def test_sigkill_during_a_backup_leaves_the_older_ones_and_the_data_intact(data_dir: Path) -> None:
    fill_data(conversations=20)
    store = HistoryStore(paths.history_db())
    big = store.create_conversation("a large one")
    for _ in range(40):  # text that compresses badly: each backup takes a while to write
        store.add_message(big.id, "user", os.urandom(60_000).hex())
    store.close()
    rows = table_rows(paths.history_db())
    service = BackupService(data_dir)
    older = [service.create(), service.create()]
    older_state = {b.path: b.path.read_bytes() for b in older}
    data_before = {k: v for k, v in folder_state(data_dir).items() if not k.startswith("backups")}

    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(data_dir)], cwd=ROOT,
                             stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".partial") for p in service.folder().iterdir()):
            assert time.monotonic() < deadline, "the child never started writing a backup"
            time.sleep(0.002)
        time.sleep(0.05)  # well into writing it
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    for path, content in older_state.items():
        assert path.read_bytes() == content
        work = data_dir / f"check-{path.stem}"
        work.mkdir()
        assert extract(path, work).manifest.conversations == 21
    listed = {b.path for b in service.backups()}
    assert set(older_state) <= listed and all(inspect(p) for p in listed)
    assert not any(p.name.endswith(".partial") for p in listed)
    assert table_rows(paths.history_db()) == rows
    data_after = {k: v for k, v in folder_state(data_dir).items()
                  if not k.startswith(("backups", "check-", ".backup-"))}
    assert data_after == data_before
    store = HistoryStore(paths.history_db())
    assert store.check() is None
    store.close()
    assert service.create().manifest.conversations == 21  # and the next backup works
