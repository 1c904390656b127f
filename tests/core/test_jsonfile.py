"""The one way the app writes its JSON files: atomic, durable, and harmless when it fails."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from desktop.core import jsonfile, settings as settings_mod
from desktop.core.jsonfile import read_json, write_json
from desktop.core.limits import ModelLimits
from desktop.core.pricing import PriceTable
from desktop.core.settings import Settings

OLD = {"models": {"qwen-plus": {"input": 0.8, "output": 2.0}}}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own (tmp_path also holds the test's data directory)."""
    path = tmp_path / "files"
    path.mkdir()
    return path


def test_written_content_reads_back_and_no_temporary_file_stays(folder: Path) -> None:
    target = folder / "deep" / "er" / "prices.json"  # missing folders are made
    data = {"note": "通义千问", "models": {"qwen-max": {"input": 2.4, "output": 9.6}}, "n": [1, None]}
    write_json(target, data)
    assert read_json(target) == data
    assert "通义千问" in target.read_text(encoding="utf-8")  # readable when edited by hand
    assert sorted(p.name for p in target.parent.iterdir()) == ["prices.json"]


def test_a_second_write_replaces_the_first(folder: Path) -> None:
    target = folder / "settings.json"
    write_json(target, OLD)
    write_json(target, {"models": {}})
    assert read_json(target) == {"models": {}}
    assert [p.name for p in folder.iterdir()] == ["settings.json"]


def test_a_value_that_is_not_json_leaves_the_old_file(folder: Path) -> None:
    target = folder / "model_limits.json"
    write_json(target, OLD)
    before = target.read_bytes()
    with pytest.raises(TypeError):
        write_json(target, {"models": {"qwen-plus": object()}})
    assert target.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["model_limits.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_disk_failure_midway_leaves_the_old_file_and_no_temporary_one(
    folder: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = folder / "settings.json"
    write_json(target, OLD)
    before = target.read_bytes()

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonfile.os, failing, disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_json(target, {"models": {}})
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["settings.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX directories are fsynced")
def test_the_file_and_then_its_directory_are_fsynced(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(jsonfile.os, "fsync", recording_fsync)
    write_json(folder / "prices.json", OLD)
    assert synced == ["file", "dir"]


def test_reading_says_what_is_wrong(folder: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json(folder / "missing.json")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError):
        read_json(folder / "broken.json")
    (folder / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(ValueError):
        read_json(folder / "latin1.json")


# ---- the three files that use it -------------------------------------------------------------------


def test_settings_prices_and_limits_are_written_through_it(folder: Path) -> None:
    settings_mod.save(Settings().replace(model="qwen-flash"), folder / "settings.json")
    assert settings_mod.load(folder / "settings.json").model == "qwen-flash"

    PriceTable(folder / "prices.json")  # writes the defaults for the user to edit
    assert "qwen-plus" in json.loads((folder / "prices.json").read_text(encoding="utf-8"))["models"]

    ModelLimits(folder / "model_limits.json").learn_limit("qwen-plus", 30_000, 1_000)
    assert ModelLimits(folder / "model_limits.json").learned_limit("qwen-plus") == 30_000

    assert sorted(p.name for p in folder.iterdir()) == ["model_limits.json", "prices.json", "settings.json",
                                                      "settings.last-good.json"]


def test_an_unwritable_place_costs_prices_and_limits_nothing_but_the_file(folder: Path) -> None:
    blocker = folder / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    limits = ModelLimits(blocker / "model_limits.json")
    limits.learn_limit("qwen-plus", 30_000, 1_000)  # logged, not raised
    assert limits.learned_limit("qwen-plus") == 30_000
    prices = PriceTable(blocker / "prices.json")
    assert prices.price("qwen-plus") is not None
    with pytest.raises(OSError):  # the settings' writer logs it; a direct save says it failed
        settings_mod.save(Settings(), blocker / "settings.json")


def test_damaged_files_are_read_the_way_each_owner_wants(folder: Path) -> None:
    for name in ("settings.json", "prices.json", "model_limits.json"):
        (folder / name).write_text("{damaged", encoding="utf-8")
    assert settings_mod.load(folder / "settings.json") == Settings()
    assert len(list(folder.glob("settings.json.broken-*"))) == 1  # kept for inspection
    assert PriceTable(folder / "prices.json").price("qwen-plus") is not None  # the defaults
    assert ModelLimits(folder / "model_limits.json").learned_limit("qwen-plus") is None
