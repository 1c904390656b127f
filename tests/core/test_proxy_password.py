"""The proxy password lives in the keyring, not in settings.json, and still reaches the proxy.

Requests go through a real forwarding proxy on 127.0.0.1 (tests/support/recording_proxy.py) that
records the Proxy-Authorization header and answers 407 without the right one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import quote

import keyring
import keyring.backends.null
import pytest

from desktop.core import paths
from desktop.core import settings as settings_mod
from desktop.core.appcontext import AppContext
from desktop.core.proxy_password import PROXY_USERNAME, split_password, with_password
from desktop.core.secrets import SERVICE
from desktop.core.settings import Settings
from tests.support.dashscope_server import TEST_KEY, DashScopeServer
from tests.support.recording_proxy import RecordingProxy, basic

PASSWORD = "pr0xy-S3cret/#@x"  # characters that must be percent-encoded in a URL


def files_holding(directory: Path, secret: str) -> list[Path]:
    forms = {secret.encode(), quote(secret, safe="").encode()}
    return [p for p in directory.rglob("*") if p.is_file() and any(f in p.read_bytes() for f in forms)]


@pytest.mark.parametrize(("url", "address", "password"), [
    ("http://alice:hunter2@proxy:8080", "http://alice@proxy:8080", "hunter2"),
    ("alice:hunter2@proxy:8080", "alice@proxy:8080", "hunter2"),  # no scheme, as IT writes it
    (f"http://alice:{quote(PASSWORD, safe='')}@proxy:8080", "http://alice@proxy:8080", PASSWORD),
    ("http://alice:pa/ss#w@rd@proxy:8080/", "http://alice@proxy:8080/", "pa/ss#w@rd"),  # unencoded
    ("http://alice:hunter2@[::1", "http://alice@[::1", "hunter2"),  # broken, still split
    ("socks5://bob:pw@127.0.0.1:1080", "socks5://bob@127.0.0.1:1080", "pw"),
    ("http://alice@proxy:8080", "http://alice@proxy:8080", ""),
    ("http://proxy:8080", "http://proxy:8080", ""),
    ("", "", ""),
])
def test_split_and_put_back(url: str, address: str, password: str) -> None:
    assert split_password(url) == (address, password)
    if password:
        assert split_password(with_password(address, password)) == (address, password)


def test_with_password_replaces_and_adds() -> None:
    assert with_password("http://alice:old@proxy:8080", "new") == "http://alice:new@proxy:8080"
    assert with_password("http://proxy:8080", "pw") == "http://:pw@proxy:8080"
    assert with_password("http://alice@proxy:8080", "") == "http://alice@proxy:8080"


def _settings_with(srv: DashScopeServer, proxy_url: str) -> None:
    settings_mod.save(Settings(region="custom", custom_base_url=srv.base_url, proxy_mode="manual",
                               proxy_url=proxy_url))


async def test_a_password_in_the_settings_moves_to_the_keyring_and_still_reaches_the_proxy(
        srv: DashScopeServer, memory_keyring, data_dir: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    with RecordingProxy(require=basic("alice", PASSWORD)) as proxy:
        _settings_with(srv, f"http://alice:{quote(PASSWORD, safe='')}@127.0.0.1:{proxy.port}")
        context = AppContext.create()
        try:
            context.session.load_key()
            assert memory_keyring.passwords[(SERVICE, PROXY_USERNAME)] == PASSWORD
            assert context.session.settings.proxy_url == f"http://alice@127.0.0.1:{proxy.port}"
            assert await context.session.client().list_models()
        finally:
            await context.aclose()  # writes the settings
        assert proxy.authorizations == [basic("alice", PASSWORD)]
    saved = json.loads(paths.settings_file().read_text(encoding="utf-8"))
    assert saved["proxy_url"] == f"http://alice@127.0.0.1:{proxy.port}"
    assert files_holding(data_dir, PASSWORD) == []

    # The next start reads it from the keyring again.
    context = AppContext.create()
    try:
        context.session.load_key()
        assert context.session.proxy_password == PASSWORD
        assert split_password(context.session.config().proxy_url) == (saved["proxy_url"], PASSWORD)
    finally:
        await context.aclose()


async def test_without_a_keyring_the_password_stays_where_it_was_and_the_log_says_so(
        srv: DashScopeServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    keyring.set_keyring(keyring.backends.null.Keyring())
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    with RecordingProxy(require=basic("alice", "hunter2-proxy")) as proxy:
        url = f"http://alice:hunter2-proxy@127.0.0.1:{proxy.port}"
        _settings_with(srv, url)
        context = AppContext.create()
        try:
            with caplog.at_level(logging.INFO):
                context.session.load_key()
            assert context.session.settings.proxy_url == url  # not lost
            assert await context.session.client().list_models()
        finally:
            await context.aclose()
        assert proxy.authorizations == [basic("alice", "hunter2-proxy")]
    assert "stays in the settings file" in caplog.text
    assert "hunter2-proxy" not in caplog.text
