"""Settings file, base URLs and regions, the model table, the connection check, and key redaction."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from desktop.core import settings as settings_mod
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.connection import check_connection, default_region_urls
from desktop.core.errors import ErrorKind, QwenError, redact
from desktop.core.models import DEFAULT_CHAT_MODELS, Thinking, is_chat_model, thinking_flag, thinking_mode
from desktop.core.regions import REGIONS, Region, normalise_base_url, resolve_base_url
from desktop.core.runtime import connection_config
from desktop.core.secrets import ApiKey, KeySource
from desktop.core.settings import Settings
from tests.support import dashscope_server
from tests.support.dashscope_server import TEST_KEY, DashScopeServer

BEIJING = "https://dashscope.aliyuncs.com/compatible-mode/v1"
INTL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"



# ---- settings file ---------------------------------------------------------------------------


def test_defaults_when_there_is_no_file(data_dir: Path) -> None:
    assert settings_mod.load() == Settings()
    assert list(data_dir.iterdir()) == []


def test_round_trip(data_dir: Path) -> None:
    changed = Settings().replace(
        region=Region.SINGAPORE.value, custom_base_url="http://127.0.0.1:1/v1", model="qwen3-max",
        system_prompt="用中文回答。", temperature=1.25, thinking=True, language="zh_CN", theme="dark",
        proxy_mode="manual", proxy_url="socks5://127.0.0.1:1080", notes_folders=["/a", "/b 二"],
        embedding_dimensions=512, max_file_size_mb=5.0,
    )
    settings_mod.save(changed)
    path = data_dir / "settings.json"
    assert path.is_file()
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == settings_mod.SCHEMA_VERSION
    assert "用中文回答。" in path.read_text(encoding="utf-8")  # kept readable, not \u-escaped
    assert settings_mod.load() == changed
    assert settings_mod.load(path) == changed


def test_unknown_keys_and_wrong_types_are_ignored(data_dir: Path) -> None:
    path = data_dir / "settings.json"
    path.write_text(json.dumps({
        "version": 1,
        "some_future_option": {"x": 1},
        "model": "qwen-max",
        "temperature": "hot",  # wrong type: keep the default
        "thinking": "yes",
        "notes_folders": ["/ok", 3],
        "embedding_dimensions": True,  # a bool is not an int here
        "max_file_size_mb": 7,  # an int is fine for a float
        "region": 5,
        "proxy_url": None,
    }), encoding="utf-8")
    loaded = settings_mod.load()
    defaults = Settings()
    assert loaded.model == "qwen-max"
    assert loaded.max_file_size_mb == 7.0 and isinstance(loaded.max_file_size_mb, float)
    for name in ("temperature", "thinking", "notes_folders", "embedding_dimensions", "region", "proxy_url"):
        assert getattr(loaded, name) == getattr(defaults, name), name
    assert not hasattr(loaded, "some_future_option")


@pytest.mark.parametrize("content", ["{not json", "", "\x00\x01garbage", '{"model": "qwen-max"', "[1, 2, 3]"])
def test_broken_file_without_a_good_copy_gives_defaults_and_is_kept(data_dir: Path, content: str) -> None:
    path = data_dir / "settings.json"
    path.write_text(content, encoding="utf-8")
    settings, recovery = settings_mod.load_with_recovery()
    assert settings == Settings()
    assert recovery is not None and recovery.restored_from is None
    assert recovery.kept_at is not None and recovery.kept_at.read_text(encoding="utf-8") == content
    assert recovery.kept_at.name.startswith("settings.json.broken-")
    assert not path.exists()
    settings_mod.save(Settings().replace(model="qwen-flash"))  # the app goes on saving normally
    assert settings_mod.load_with_recovery() == (Settings().replace(model="qwen-flash"), None)


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", "\x00garbage"])
def test_broken_file_is_recovered_from_the_last_good_settings(data_dir: Path, content: str) -> None:
    good = Settings().replace(model="qwen-max", notes_folders=["/home/me/notes"], system_prompt="Be brief.")
    settings_mod.save(good)
    path = data_dir / "settings.json"
    path.write_text(content, encoding="utf-8")  # damaged after the last good write
    settings, recovery = settings_mod.load_with_recovery()
    assert settings == good
    assert recovery is not None and recovery.restored_from == settings_mod.last_good_file(path)
    assert recovery.kept_at is not None and recovery.kept_at.read_text(encoding="utf-8") == content
    # A second damage a second later does not overwrite the first damaged copy.
    path.write_text("{again", encoding="utf-8")
    _, again = settings_mod.load_with_recovery()
    assert again is not None and again.kept_at != recovery.kept_at
    assert recovery.kept_at.read_text(encoding="utf-8") == content


def test_save_is_atomic_and_leaves_no_temporary_files(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for model in ("qwen-max", "qwen-turbo", "qwen-flash"):
        settings_mod.save(Settings().replace(model=model))
    assert sorted(p.name for p in data_dir.iterdir()) == ["settings.json", "settings.last-good.json"]
    before = (data_dir / "settings.json").read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        settings_mod.save(Settings().replace(model="qwen3-max"))
    assert sorted(p.name for p in data_dir.iterdir()) == ["settings.json", "settings.last-good.json"]
    assert (data_dir / "settings.json").read_bytes() == before
    assert settings_mod.load().model == "qwen-flash"


def test_settings_never_hold_the_key() -> None:
    assert not any("key" in f.name for f in dataclasses.fields(Settings))


# ---- base URLs and regions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (BEIJING, BEIJING),
        (BEIJING + "/", BEIJING),
        (BEIJING + "//", BEIJING),
        (BEIJING + "/chat/completions", BEIJING),
        (BEIJING + "/chat/completions/", BEIJING),
        (BEIJING + "/embeddings", BEIJING),
        (BEIJING + "/models", BEIJING),
        ("  " + INTL + "/  ", INTL),
        ("dashscope-intl.aliyuncs.com", INTL),
        ("https://dashscope-intl.aliyuncs.com/", INTL),
        ("https://dashscope.aliyuncs.com", BEIJING),
        ("https://dashscope.aliyuncs.com/api/v1", BEIJING),
        ("https://dashscope.aliyuncs.com/api/v1/", BEIJING),
        ("https://ws-1.cn-beijing.maas.aliyuncs.com",
         "https://ws-1.cn-beijing.maas.aliyuncs.com/compatible-mode/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/v1"),
        ("my-gateway.example.com/qwen/v1", "https://my-gateway.example.com/qwen/v1"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_base_url(pasted: str, expected: str) -> None:
    assert normalise_base_url(pasted) == expected
    assert normalise_base_url(normalise_base_url(pasted)) == expected  # idempotent


def test_resolve_base_url_regions_and_custom() -> None:
    assert resolve_base_url(Region.BEIJING) == (BEIJING, "region")
    assert resolve_base_url("singapore") == (INTL, "region")
    assert resolve_base_url(Region.US)[0] == "https://dashscope-us.aliyuncs.com/compatible-mode/v1"
    assert resolve_base_url(Region.HONG_KONG)[0] == (
        "https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1")
    assert resolve_base_url(Region.CUSTOM, "http://127.0.0.1:9/v1/chat/completions") == (
        "http://127.0.0.1:9/v1", "custom")
    assert resolve_base_url(Region.CUSTOM, "") == ("", "custom")
    assert {info.base_url for info in REGIONS.values()} == set(default_region_urls().values())


def test_environment_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:9/compatible-mode/v1/chat/completions")
    for region, custom in ((Region.BEIJING, ""), (Region.CUSTOM, "http://127.0.0.1:8/v1")):
        assert resolve_base_url(region, custom) == ("http://127.0.0.1:9/compatible-mode/v1", "environment")
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "   ")
    assert resolve_base_url(Region.BEIJING) == (BEIJING, "region")


def test_connection_config_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ApiKey("sk-test-1234567890", KeySource.KEYRING)
    settings = Settings().replace(region="singapore", proxy_mode="manual", proxy_url="http://127.0.0.1:3128")
    config = connection_config(settings, key)
    assert (config.base_url, config.api_key, config.proxy_mode, config.proxy_url) == (
        INTL, "sk-test-1234567890", "manual", "http://127.0.0.1:3128")
    assert "sk-test-1234567890" not in repr(config)
    with pytest.raises(QwenError) as caught:
        connection_config(settings, None)
    assert caught.value.kind is ErrorKind.NO_KEY
    with pytest.raises(QwenError):
        connection_config(Settings().replace(region="custom", custom_base_url=""), key)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:7/compatible-mode/v1/")
    assert connection_config(settings, key).base_url == "http://127.0.0.1:7/compatible-mode/v1"


# ---- models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        ("qwen-plus", Thinking.HYBRID_OFF),
        ("qwen-plus-latest", Thinking.HYBRID_OFF),
        ("qwen-plus-2025-07-28", Thinking.HYBRID_OFF),
        ("qwen-flash", Thinking.HYBRID_OFF),
        ("qwen-turbo", Thinking.HYBRID_OFF),
        ("qwen3-max", Thinking.HYBRID_OFF),
        ("qwen3-32b", Thinking.HYBRID_ON),
        ("qwen3-235b-a22b", Thinking.HYBRID_ON),
        ("qwen3.5-plus", Thinking.HYBRID_ON),
        ("qwq-plus", Thinking.ONLY),
        ("qwq-32b", Thinking.ONLY),
        ("qwen3-235b-a22b-thinking-2507", Thinking.ONLY),
        ("qwen-max", Thinking.NONE),
        ("qwen-max-latest", Thinking.NONE),
        ("qwen3-235b-a22b-instruct-2507", Thinking.NONE),
    ],
)
def test_thinking_table(model: str, mode: Thinking) -> None:
    assert thinking_mode(model) is mode
    hybrid = mode in (Thinking.HYBRID_OFF, Thinking.HYBRID_ON)
    assert thinking_flag(model, True) is (True if hybrid else None)
    assert thinking_flag(model, False) is (False if hybrid else None)


def test_thinking_table_agrees_with_the_server() -> None:
    for model in dashscope_server.DEFAULT_CHAT_MODELS:
        assert thinking_mode(model).value == dashscope_server.thinking_mode(model), model


@pytest.mark.parametrize("model", [*DEFAULT_CHAT_MODELS, "qwen3-32b", "qwen3.5-plus", "qwen-plus-latest",
                                   "deepseek-r1", "deepseek-v3", "moonshot-kimi-k2-instruct"])
def test_chat_models(model: str) -> None:
    assert is_chat_model(model)


@pytest.mark.parametrize("model", [
    "text-embedding-v4", "text-embedding-v1", "gte-rerank-v2", "cosyvoice-v2", "paraformer-realtime-v2",
    "sambert-zhichu-v1", "wanx2.1-t2i-turbo", "qwen-audio-turbo", "qwen-tts", "qwen-omni-turbo",
    "qwen-mt-plus", "qwen-vl-ocr", "flux-schnell", "stable-diffusion-xl", "some-unknown-thing",
])
def test_not_chat_models(model: str) -> None:
    assert not is_chat_model(model)


# ---- the connection check --------------------------------------------------------------------


def region_urls(srv: DashScopeServer) -> dict[Region, str]:
    return {region: srv.region_base_url(region.value) for region in REGIONS}


async def test_connection_check_ok_lists_chat_models(srv: DashScopeServer) -> None:
    config = ConnectionConfig(base_url=srv.region_base_url("beijing"), api_key=TEST_KEY)
    report = await check_connection(config, other_regions=region_urls(srv))
    assert report.ok and report.error is None and report.key_region is None
    assert "qwen-plus" in report.models and "text-embedding-v4" not in report.models


async def test_connection_check_finds_the_keys_region(srv: DashScopeServer) -> None:
    intl_key = "sk-intl-key-5555"
    srv.region_keys["singapore"] = {intl_key}
    for region in ("beijing", "us", "hongkong"):
        srv.region_keys[region] = {TEST_KEY}
    config = ConnectionConfig(base_url=srv.region_base_url("beijing"), api_key=intl_key)
    report = await check_connection(config, other_regions=region_urls(srv))
    assert not report.ok
    assert report.error is not None and report.error.kind is ErrorKind.AUTH
    assert report.key_region is Region.SINGAPORE
    tried = [r.region for r in srv.requests]
    assert tried[0] == "beijing" and "singapore" in tried
    assert tried.count("beijing") == 1  # the configured region is not tried twice
    assert intl_key not in str(report.error) and intl_key not in report.error.details()


async def test_connection_check_with_a_key_of_no_region(srv: DashScopeServer) -> None:
    config = ConnectionConfig(base_url=srv.region_base_url("us"), api_key="sk-nobody-0000")
    report = await check_connection(config, other_regions=region_urls(srv))
    assert not report.ok and report.key_region is None
    assert report.error is not None and report.error.kind is ErrorKind.AUTH
    assert sorted(r.region for r in srv.requests) == sorted(r.value for r in REGIONS)


async def test_connection_check_without_other_regions_tries_only_one(srv: DashScopeServer) -> None:
    config = ConnectionConfig(base_url=srv.base_url, api_key="sk-nobody-0000")
    report = await check_connection(config)
    assert report.error is not None and report.error.kind is ErrorKind.AUTH
    assert len(srv.requests) == 1


async def test_connection_check_tells_a_proxy_failure_apart(srv: DashScopeServer) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        config = ConnectionConfig(base_url=srv.region_base_url("beijing"), api_key="sk-nobody-0000",
                                  proxy_mode="manual", proxy_url=proxy_url)
        report = await check_connection(config, other_regions=region_urls(srv))
    assert report.error is not None and report.error.kind is ErrorKind.PROXY
    assert report.key_region is None and srv.requests == []


# ---- keys never leak -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-abcdef1234567890 rejected", "key sk-…7890 rejected"),
        ("Bearer sk-1a2b3c4d5e6f_-XYZW.", "Bearer sk-…XYZW."),
        ("two: sk-aaaaaaaa1111 and sk-bbbbbbbb2222", "two: sk-…1111 and sk-…2222"),
        ("no key here, sk-123 is too short", "no key here, sk-123 is too short"),
        ("risk-assessment is not a key", "risk-assessment is not a key"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_error_details_are_redacted() -> None:
    error = QwenError(ErrorKind.UNKNOWN, "failed with Authorization: Bearer sk-secret-9876543210",
                      request_id="rid-1")
    for text in (str(error), error.details(), error.summary(), repr(error), error.detail):
        assert "sk-secret-9876543210" not in text
    assert "sk-…3210" in error.details()


async def test_wrong_key_never_appears_in_the_error(srv: DashScopeServer) -> None:
    wrong = "sk-wrong-key-ABCDEFGH12345678"
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=wrong)) as client:
        with pytest.raises(QwenError) as caught:
            async for _ in client.stream_chat([{"role": "user", "content": "hi"}], model="qwen-plus"):
                pass
        with pytest.raises(QwenError) as caught_models:
            await client.list_models()
    for error in (caught.value, caught_models.value):
        assert error.kind is ErrorKind.AUTH
        for text in (str(error), error.details(), repr(error), error.message, str(error.args)):
            assert wrong not in text and "ABCDEFGH12345678" not in text
    assert srv.requests[0].headers["authorization"] == f"Bearer {wrong}"  # it was really sent
