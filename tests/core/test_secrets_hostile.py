"""Hostile and broken input around the API key and the keyring: never a crash, a hang or a leak.

A key pasted with invisible characters, quotes or full-width letters; a key that cannot go into an
HTTP header; a keyring that never answers; secrets of any shape in logs and error details.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import keyring
import keyring.backend
import pytest

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError, redact, register_secret
from desktop.core.runtime import Session
from desktop.core.secrets import (
    ENV_KEY,
    SERVICE,
    USERNAME,
    KeyringUnavailable,
    KeySource,
    KeyStore,
    clean_key,
)
from desktop.core.settings import Settings
from tests.support.dashscope_server import TEST_KEY, DashScopeServer


class HangingKeyring(keyring.backend.KeyringBackend):
    """A Secret Service that never answers (a locked collection whose unlock prompt nobody sees)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def _hang(self) -> None:
        self.calls += 1
        self.release.wait(60)

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()


keyring.backend.KeyringBackend._classes.discard(HangingKeyring)  # type: ignore[attr-defined]


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


# ---- what a paste or a pipe really delivers ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("\ufeffsk-0123456789abcdef", "sk-0123456789abcdef"),  # a BOM from a Windows pipe or file
        ("sk-0123\u200b456789abcdef", "sk-0123456789abcdef"),  # a zero-width space from a web page
        ("\u2060sk-0123456789abcdef\u200d", "sk-0123456789abcdef"),
        ("  sk-0123456789abcdef\r\n", "sk-0123456789abcdef"),  # CRLF line end
        ("\u00a0sk-0123456789abcdef\u3000", "sk-0123456789abcdef"),  # no-break / ideographic spaces
        ('"sk-0123456789abcdef"', "sk-0123456789abcdef"),  # copied from a .env file
        ("'sk-0123456789abcdef'", "sk-0123456789abcdef"),
        ("ｓｋ－０１２３４５６７８９ａｂｃｄｅｆ", "sk-0123456789abcdef"),  # full-width input method
    ],
)
def test_a_pasted_key_is_cleaned(typed: str, key: str) -> None:
    assert clean_key(typed) == key


@pytest.mark.parametrize(
    ("typed", "what"),
    [
        ("sk-0123 456789abcdef", "space"),
        ("sk-0123\n456789abcdef", "line break"),
        ("sk-0123\t456789abcdef", "tab"),
        ("sk-0123\x00456789abcdef", "control character"),
        ("sk-0123é456789abcdef", "U+00E9"),
        ("sk-密钥0123456789abcdef", "U+5BC6"),
        ("sk-" + "a" * 5000, "longer than"),
    ],
)
def test_a_key_that_cannot_be_sent_is_refused_with_the_reason(typed: str, what: str) -> None:
    with pytest.raises(QwenError) as refused:
        clean_key(typed)
    assert refused.value.kind is ErrorKind.INVALID_KEY
    assert what in refused.value.detail
    assert typed not in str(refused.value) and "456789abcdef" not in str(refused.value)


def test_an_empty_key_after_cleaning_is_no_key() -> None:
    with pytest.raises(QwenError) as refused:
        clean_key("\ufeff \u200b ''")
    assert refused.value.kind is ErrorKind.NO_KEY


def test_the_keystore_keeps_only_clean_keys(memory_keyring) -> None:
    store = KeyStore()
    store.save("\ufeffsk-0123\u200b456789abcdef\r\n")
    assert memory_keyring.passwords == {(SERVICE, USERNAME): "sk-0123456789abcdef"}

    with pytest.raises(QwenError) as refused:
        store.save("sk-0123 456789abcdef")
    assert refused.value.kind is ErrorKind.INVALID_KEY
    assert memory_keyring.passwords == {(SERVICE, USERNAME): "sk-0123456789abcdef"}  # not replaced

    with pytest.raises(QwenError):
        store.use_for_session("sk-0123\n456789abcdef")
    assert store.get() is not None and store.get().source is KeySource.KEYRING  # type: ignore[union-attr]


def test_a_key_stored_by_hand_with_junk_is_read_clean(memory_keyring) -> None:
    memory_keyring.passwords[(SERVICE, USERNAME)] = "\ufeffsk-0123456789abcdef\n"
    key = KeyStore().get()
    assert key is not None and key.value == "sk-0123456789abcdef"


async def test_a_broken_environment_key_is_refused_before_any_request(
        srv: DashScopeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = "mysecretvalue\nX-Injected: 1"  # no sk- prefix, so the generic redaction misses it
    monkeypatch.setenv(ENV_KEY, broken)
    session = Session(Settings(region="custom", custom_base_url=srv.base_url), KeyStore())
    with pytest.raises(QwenError) as caught:
        await session.refresh_key()
    assert caught.value.kind is ErrorKind.INVALID_KEY
    assert ENV_KEY in caught.value.detail and "line break" in caught.value.detail
    with pytest.raises(QwenError) as again:
        session.client()
    for error in (caught.value, again.value):
        for text in (str(error), error.details(), repr(error)):
            assert "mysecretvalue" not in text
    assert srv.requests == []


async def test_a_full_width_key_from_the_environment_works(
        srv: DashScopeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in TEST_KEY)
    monkeypatch.setenv(ENV_KEY, f"\ufeff{full_width}\u200b")
    key = KeyStore().get()
    assert key is not None and key.value == TEST_KEY
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=key.value, proxy_mode="none")) as c:
        assert await c.list_models()


# ---- a keyring that never answers -------------------------------------------------------------


def test_a_keyring_that_never_answers_does_not_hang(data_dir: Path) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    store = KeyStore(timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(KeyringUnavailable) as on_save:
            store.save("sk-0123456789abcdef")
        with pytest.raises(KeyringUnavailable) as on_read:
            store.get()
        with pytest.raises(KeyringUnavailable):
            store.delete()
        elapsed = time.monotonic() - started
    finally:
        backend.release.set()
    assert elapsed < 30  # far below the backend's own hang of a minute per call
    assert "did not answer" in on_save.value.detail
    assert on_read.value.kind is ErrorKind.KEYRING
    assert backend.calls == 1  # later calls did not pile up more stuck threads behind the first
    assert files_under(data_dir) == []


def test_the_keyring_is_used_again_once_it_answers(memory_keyring) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    store = KeyStore(timeout=0.3)
    with pytest.raises(KeyringUnavailable):
        store.get()
    backend.release.set()
    keyring.set_keyring(memory_keyring)
    deadline = time.monotonic() + 30
    while True:  # the stuck call ends once released; then the store works again
        try:
            store.save("sk-0123456789abcdef")
            break
        except KeyringUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert store.get() is not None


def test_a_session_with_a_hanging_keyring_reports_the_keyring(data_dir: Path) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    session = Session(Settings(), KeyStore(timeout=0.3))
    try:
        with pytest.raises(KeyringUnavailable):
            session.load_key()
        with pytest.raises(QwenError) as caught:
            session.config()
    finally:
        backend.release.set()
    assert caught.value.kind is ErrorKind.KEYRING


# ---- redaction of secrets of any shape --------------------------------------------------------


def test_a_key_in_use_is_redacted_whatever_its_shape() -> None:
    odd = "Z9yX8wV7uT6sR5qP"  # an older or custom key without the sk- prefix
    register_secret(odd)
    text = redact(f"failed: {odd} and b'Bearer {odd}' and {odd!r}")
    assert odd not in text
    assert "…R5qP" in text


def test_keys_pass_through_the_keystore_into_redaction(memory_keyring) -> None:
    odd = "k.E.y-with-dots.0042"
    KeyStore().save(odd)
    assert odd not in redact(f"Illegal header value b'Bearer {odd}'")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
        ("{'Authorization': 'Bearer abcdefghijklmnop1234'}", "abcdefghijklmnop1234"),
        ("proxy http://alice:hunter2hunter2@proxy.corp:8080 refused", "hunter2hunter2"),
        ("socks5://bob:p%40ss%3Aw0rd@127.0.0.1:1080", "p%40ss%3Aw0rd"),
        ("api_key=abcdefghijklmnop1234&x=1", "abcdefghijklmnop1234"),
        ('{"api_key": "abcdefghijklmnop1234"}', "abcdefghijklmnop1234"),
    ],
)
def test_credentials_of_any_shape_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redaction_keeps_what_support_needs() -> None:
    text = "HTTP 401 for https://dashscope.aliyuncs.com/compatible-mode/v1 [request id abc-123]"
    assert redact(text) == text
    assert redact("http://alice:secretpass@proxy:8080") == "http://alice:***@proxy:8080"


def test_a_bad_proxy_address_is_a_proxy_error_without_its_password() -> None:
    for proxy in ("http://user:hunter2secret@[::1", "ftp://user:hunter2secret@proxy:8080",
                  "http://user:hunter2secret@proxy:port"):
        with pytest.raises(QwenError) as caught:
            QwenClient(ConnectionConfig(base_url="http://127.0.0.1:9/v1", api_key="sk-test-0000000000",
                                        proxy_mode="manual", proxy_url=proxy))
        assert caught.value.kind is ErrorKind.PROXY, proxy
        assert "hunter2secret" not in str(caught.value) + caught.value.details()
