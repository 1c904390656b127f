"""Backups: round trip, refusals that change nothing, no secret in any byte, start-up backups."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from desktop import __version__
from desktop.core import paths
from desktop.core.appcontext import AppContext
from desktop.core.backup.archive import BackupRefused, Kind, Refusal, extract, inspect
from desktop.core.backup.prefs import load_prefs, save_prefs
from desktop.core.backup.service import BackupService, RestoreFailed
from desktop.core.history import SCHEMA_VERSION, HistoryStore
from desktop.core.settings import Settings
from tests.support.backups import as_older_history, fill_data, folder_state, table_rows

KEY = "sk-FAKE-backup-test-key-not-real"
PROXY_PASSWORD = "pr0xy-Pa55word!"


class Holder:
    def __init__(self) -> None:
        self.settings = Settings()


def service(secrets: tuple[str, ...] = ()) -> BackupService:
    return BackupService(paths.data_dir(), lambda: secrets)


async def test_round_trip_brings_everything_back_byte_identical(data_dir: Path, tmp_path: Path) -> None:
    fill_data(conversations=8, messages=6)
    rows = table_rows(paths.history_db())
    settings_before = json.loads(paths.settings_file().read_text("utf-8"))
    prices = (data_dir / "prices.json").read_bytes()
    limits = (data_dir / "model_limits.json").read_bytes()

    info = service().create()
    assert info.manifest.conversations == 8 and info.manifest.messages == 48
    assert info.manifest.history_schema == SCHEMA_VERSION and info.manifest.app_version == __version__
    kept = tmp_path / "kept.zip"
    shutil.copy(info.path, kept)
    shutil.rmtree(data_dir)  # a new computer: nothing there
    paths.data_dir()

    holder = Holder()
    restored = await service().restore(kept, holder=holder)

    assert table_rows(paths.history_db()) == rows  # every message, every field, byte for byte
    assert holder.settings.model == "qwen-max" and holder.settings.system_prompt == "只用中文回答。"
    assert holder.settings.notes_folders == ["/home/me/notes"] and holder.settings.embedding_dimensions == 512
    assert holder.settings.temperature == settings_before["temperature"] == 1.3
    assert holder.settings.language == "zh_CN"
    assert (data_dir / "prices.json").read_bytes() == prices
    assert (data_dir / "model_limits.json").read_bytes() == limits
    assert restored.safety is not None and restored.safety.manifest.kind is Kind.RESTORE
    store = HistoryStore(paths.history_db())
    assert [c.message_count for c in store.conversations()] == [6] * 8
    store.close()


async def test_restore_into_an_open_history_is_seen_by_its_connection(data_dir: Path) -> None:
    fill_data(conversations=2)
    info = service().create()
    live = HistoryStore(paths.history_db())
    extra = live.create_conversation("written after the backup")
    live.add_message(extra.id, "user", "gone after the restore")
    await service().restore(info.path, holder=Holder())
    assert [c.title for c in live.conversations()] == ["会议纪要 1 — notes", "会议纪要 0 — notes"]
    live.add_message(live.conversations()[0].id, "user", "the store still works")
    live.close()
    backups = service().backups()
    before = next(b for b in backups if b.manifest.kind is Kind.RESTORE)
    assert before.manifest.conversations == 3  # the replaced state, with the extra conversation


def test_the_key_and_the_proxy_password_are_in_no_byte_of_a_backup(data_dir: Path) -> None:
    fill_data(conversations=2)
    store = HistoryStore(paths.history_db())
    store._db.execute("PRAGMA secure_delete=OFF")  # as in the SQLite Python ships on Windows
    leak = store.create_conversation(f"my key is {KEY}")
    store.add_message(leak.id, "user", f"why does {KEY} fail?")
    message = store.add_message(leak.id, "user", f"proxy pw {PROXY_PASSWORD} " * 300)
    store.delete_message(message.id)  # its text stays in the free space of the live database
    store.close()
    assert PROXY_PASSWORD.encode() in paths.history_db().read_bytes()
    settings = json.loads(paths.settings_file().read_text("utf-8"))
    settings.update(proxy_mode="manual", proxy_url=f"http://alice:{PROXY_PASSWORD}@proxy.corp:8080")
    paths.settings_file().write_text(json.dumps(settings), "utf-8")

    info = service((KEY, PROXY_PASSWORD)).create(with_index=True)

    raw = info.path.read_bytes()
    with zipfile.ZipFile(info.path) as zf:
        contents = [zf.read(name) for name in zf.namelist()]
    for blob in [raw, *contents]:
        for secret in (KEY, PROXY_PASSWORD):
            for encoded in (secret.encode(), secret.encode("utf-16-le")):
                assert encoded not in blob
    saved = json.loads(zipfile.ZipFile(info.path).read("settings.json"))
    assert saved["proxy_url"] == "http://alice@proxy.corp:8080"


def test_the_environment_key_is_kept_out_through_the_app_context(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    store = HistoryStore(paths.history_db())
    store.add_message(store.create_conversation("x").id, "user", f"pasted {KEY}")
    store.close()
    context = AppContext.create()
    assert context.backups is not None
    info = context.backups.create()
    context.history.close()
    with zipfile.ZipFile(info.path) as zf:
        assert all(KEY.encode() not in zf.read(n) for n in zf.namelist())
        db = data_dir / "check.sqlite3"
        db.write_bytes(zf.read("history.sqlite3"))
    content = sqlite3.connect(db).execute("SELECT content FROM messages").fetchone()[0]
    assert content == "pasted [secret removed]"


def _tampered(original: Path, target: Path, **changes: object) -> Path:
    """A copy of the backup with its manifest changed."""
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest.update(changes)
                data = json.dumps(manifest).encode()
            dst.writestr(item.filename, data)
    return target


def _flip_history_byte(original: Path, target: Path) -> Path:
    """The backup with one byte of the history database changed (the zip itself rebuilt, so only
    the manifest's checksum can tell)."""
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = bytearray(src.read(item.filename))
            if item.filename == "history.sqlite3":
                data[5000] ^= 0xFF
            dst.writestr(item.filename, bytes(data))
    return target


def _bad_files(good: Path, tmp: Path) -> dict[str, tuple[Path, Refusal]]:
    raw = good.read_bytes()
    middle = bytearray(raw)
    for i in range(len(raw) // 3, len(raw) // 3 + 64):
        middle[i] ^= 0x5A
    (tmp / "bitrot.zip").write_bytes(bytes(middle))
    (tmp / "truncated.zip").write_bytes(raw[: len(raw) // 2])
    (tmp / "empty.zip").write_bytes(b"")
    (tmp / "notes.txt").write_text("今天的会议纪要", "utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else"}))
        zf.writestr("history.sqlite3", b"x")
    (tmp / "foreign.zip").write_bytes(buffer.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8\xff")
    (tmp / "photos.zip").write_bytes(buffer.getvalue())
    return {
        "bit rot in the middle": (tmp / "bitrot.zip", Refusal.DAMAGED),
        "a changed database byte": (_flip_history_byte(good, tmp / "flipped.zip"), Refusal.DAMAGED),
        "truncated": (tmp / "truncated.zip", Refusal.TRUNCATED),
        "empty": (tmp / "empty.zip", Refusal.NOT_OURS),
        "a text file": (tmp / "notes.txt", Refusal.NOT_OURS),
        "another program's zip": (tmp / "foreign.zip", Refusal.NOT_OURS),
        "a zip of photos": (tmp / "photos.zip", Refusal.NOT_OURS),
        "a newer app": (_tampered(good, tmp / "newer-app.zip", app_version="99.0.0"), Refusal.NEWER),
        "a newer format": (_tampered(good, tmp / "newer-format.zip", format_version=2), Refusal.NEWER),
        "a newer history": (_tampered(good, tmp / "newer-schema.zip", history_schema=SCHEMA_VERSION + 1),
                            Refusal.NEWER),
        "a broken manifest": (_tampered(good, tmp / "broken-manifest.zip", counts="many"), Refusal.DAMAGED),
    }


async def test_bad_files_are_refused_and_nothing_changes(data_dir: Path, tmp_path: Path) -> None:
    fill_data(conversations=3)
    good = service().create().path
    tmp = tmp_path / "bad"
    tmp.mkdir()
    # A backup whose central directory survived but whose history entry is gone: cut short.
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tmp / "missing.zip", "w") as dst:
        dst.writestr("manifest.json", src.read("manifest.json"))
    cases = _bad_files(good, tmp)
    cases["a part missing"] = (tmp / "missing.zip", Refusal.DAMAGED)
    before = folder_state(data_dir)
    for label, (path, reason) in cases.items():
        holder = Holder()
        with pytest.raises(BackupRefused) as refused:
            await service().restore(path, holder=holder)
        assert refused.value.reason is reason, label
        assert "Nothing was changed" in refused.value.message
        assert holder.settings == Settings(), label
        assert folder_state(data_dir) == before, label  # no file changed, no backup taken, no leftovers


def test_extract_checks_every_part(data_dir: Path, tmp_path: Path) -> None:
    fill_data(conversations=1)
    good = service().create().path
    flipped = _flip_history_byte(good, tmp_path / "flipped.zip")
    assert inspect(flipped).manifest.conversations == 1  # the manifest alone looks fine
    (tmp_path / "out").mkdir()
    with pytest.raises(BackupRefused) as refused:
        extract(flipped, tmp_path / "out")
    assert refused.value.reason is Refusal.DAMAGED


def test_an_older_history_is_backed_up_before_its_migration(data_dir: Path) -> None:
    fill_data(conversations=2)
    save_prefs(data_dir, load_prefs(data_dir).replace(last_version=__version__))
    as_older_history(paths.history_db(), 2)  # as the previous version left it

    context = AppContext.create()
    context.history.close()

    backups = service().backups()
    assert [b.manifest.kind for b in backups] == [Kind.MIGRATION]
    assert backups[0].manifest.history_schema == 2 and backups[0].manifest.conversations == 2
    db = sqlite3.connect(paths.history_db())
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # then it migrated
    db.close()


def test_another_version_that_ran_last_means_a_backup_first_once(data_dir: Path) -> None:
    fill_data(conversations=1)
    save_prefs(data_dir, load_prefs(data_dir).replace(last_version="0.0.1"))
    AppContext.create().history.close()
    AppContext.create().history.close()  # the same version again: no second backup
    backups = service().backups()
    assert [b.manifest.kind for b in backups] == [Kind.UPGRADE]
    assert backups[0].manifest.app_version == "0.0.1"  # the version whose data it is
    assert load_prefs(data_dir).last_version == __version__


def test_a_first_start_records_the_version_without_a_backup(data_dir: Path) -> None:
    AppContext.create().history.close()
    assert service().backups() == []
    assert load_prefs(data_dir).last_version == __version__


def test_the_daily_backup_is_made_once_a_day(data_dir: Path) -> None:
    fill_data(conversations=1)
    assert service().daily() is not None
    assert service().daily() is None
    assert [b.manifest.kind for b in service().backups()] == [Kind.DAILY]


def test_backups_go_to_the_chosen_folder_and_are_private(data_dir: Path, tmp_path: Path) -> None:
    chosen = tmp_path / "OneDrive" / "Qwen backups"
    save_prefs(data_dir, load_prefs(data_dir).replace(folder=str(chosen)))
    info = service().create()
    assert info.path.parent == chosen
    assert (info.path.stat().st_mode & 0o077) == 0
    assert service().backups()[0].path == info.path


async def test_a_backup_of_an_older_history_is_migrated_as_it_is_restored(data_dir: Path) -> None:
    fill_data(conversations=2)
    as_older_history(paths.history_db(), 2)  # the history as version 2 of the schema had it
    old = service().create()
    assert old.manifest.history_schema == 2
    store = HistoryStore(paths.history_db())  # this version migrates the live one
    store.delete_conversation(store.conversations()[0].id)
    store.close()

    await service().restore(old.path, holder=Holder())

    db = sqlite3.connect(paths.history_db())
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 2
    assert db.execute("SELECT name FROM sqlite_master WHERE name='removed_usage'").fetchone() is not None
    db.close()


async def test_a_restore_that_fails_midway_says_where_the_state_before_is(data_dir: Path) -> None:
    fill_data(conversations=2)
    notes = sqlite3.connect(data_dir / "notes.sqlite3")
    notes.execute("CREATE TABLE meta(key TEXT, value TEXT)")
    notes.commit()
    notes.close()
    backup = service().create(with_index=True)
    assert backup.manifest.with_index
    store = HistoryStore(paths.history_db())
    store.create_conversation("after the backup")
    store.close()
    rows = table_rows(paths.history_db())
    (data_dir / "notes.sqlite3").unlink()
    (data_dir / "notes.sqlite3").mkdir()  # something the index cannot replace
    (data_dir / "notes.sqlite3" / "x").write_text("x")

    context = AppContext.create()
    try:
        with pytest.raises(RestoreFailed) as failed:
            await service().restore(backup.path, holder=context.session, notes=context.notes)
    finally:
        await context.aclose()
    assert failed.value.safety.manifest.kind is Kind.RESTORE
    assert failed.value.safety.manifest.conversations == 3
    assert table_rows(paths.history_db()) == rows  # the index goes first: nothing else was replaced
