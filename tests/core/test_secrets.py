"""KeyStore against the in-memory keyring that conftest installs for every test."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from desktop.core.errors import ErrorKind, QwenError
from desktop.core.secrets import (
    ENV_KEY,
    SERVICE,
    USERNAME,
    ApiKey,
    KeyringUnavailable,
    KeySource,
    KeyStore,
    backend_is_usable,
    backend_name,
    mask_key,
)

KEYRING_KEY = "sk-test-keyring-1111"
SESSION_KEY = "sk-test-session-2222"
ENV_VALUE = "sk-test-environment-3333"


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that looks fine but fails every call, like a Secret Service that went away."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("gone")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("gone")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringError("gone")


keyring.backend.KeyringBackend._classes.discard(BrokenKeyring)  # type: ignore[attr-defined]


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def test_no_key_anywhere() -> None:
    store = KeyStore()
    assert store.get() is None
    assert store.source() is KeySource.NONE


def test_environment_beats_session_and_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyStore()
    store.save(KEYRING_KEY)
    store.use_for_session(SESSION_KEY)
    monkeypatch.setenv(ENV_KEY, f"  {ENV_VALUE}\n")

    assert store.get() == ApiKey(ENV_VALUE, KeySource.ENVIRONMENT)

    monkeypatch.delenv(ENV_KEY)
    assert store.get() == ApiKey(SESSION_KEY, KeySource.SESSION)

    store.use_for_session("")
    assert store.get() == ApiKey(KEYRING_KEY, KeySource.KEYRING)


def test_blank_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    KeyStore().save(KEYRING_KEY)
    monkeypatch.setenv(ENV_KEY, "   ")
    assert KeyStore().source() is KeySource.KEYRING


def test_session_key_stays_in_memory(memory_keyring, data_dir: Path) -> None:
    store = KeyStore()
    store.use_for_session(f" {SESSION_KEY} ")

    assert store.get() == ApiKey(SESSION_KEY, KeySource.SESSION)
    assert memory_keyring.passwords == {}
    assert files_under(data_dir) == []
    assert KeyStore().get() is None  # another store (a restart) does not see it


def test_save_and_delete(memory_keyring) -> None:
    store = KeyStore()
    store.save(f"  {KEYRING_KEY}\n")
    assert memory_keyring.passwords == {(SERVICE, USERNAME): KEYRING_KEY}
    assert KeyStore().get() == ApiKey(KEYRING_KEY, KeySource.KEYRING)

    store.delete()
    assert memory_keyring.passwords == {}
    assert KeyStore().get() is None
    store.delete()  # deleting nothing is fine


def test_save_replaces_the_session_key() -> None:
    store = KeyStore()
    store.use_for_session(SESSION_KEY)
    store.save(KEYRING_KEY)
    assert store.get() == ApiKey(KEYRING_KEY, KeySource.KEYRING)


def test_delete_also_forgets_the_session_key() -> None:
    store = KeyStore()
    store.use_for_session(SESSION_KEY)
    store.delete()
    assert store.get() is None


def test_empty_key_is_refused(memory_keyring) -> None:
    with pytest.raises(QwenError) as refused:
        KeyStore().save("  \n")
    assert refused.value.kind is ErrorKind.NO_KEY
    assert memory_keyring.passwords == {}


def test_service_and_username_are_used(memory_keyring) -> None:
    KeyStore(service="other-service", username="other-user").save(KEYRING_KEY)
    assert memory_keyring.passwords == {("other-service", "other-user"): KEYRING_KEY}
    assert KeyStore().get() is None


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk-0123456789abcdef", "sk-…cdef"),
        ("  sk-0123456789abcdef\n", "sk-…cdef"),
        ("0123456789abcdef", "…cdef"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_key(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_api_key_never_shows_the_key() -> None:
    secret = "sk-0123456789abcdef"
    api_key = ApiKey(secret, KeySource.KEYRING)
    for text in (repr(api_key), str(api_key), f"{api_key}", repr([api_key]), repr({"k": api_key})):
        assert secret not in text
        assert "0123456789" not in text
    assert "sk-…cdef" in repr(api_key)
    assert "keyring" in repr(api_key)


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()])
def test_no_usable_keyring_means_no_save_and_no_plaintext(backend, data_dir: Path) -> None:
    keyring.set_keyring(backend)
    assert not backend_is_usable()
    store = KeyStore()

    with pytest.raises(KeyringUnavailable) as caught:
        store.save(KEYRING_KEY)

    assert caught.value.kind is ErrorKind.KEYRING
    assert KEYRING_KEY not in str(caught.value)
    assert caught.value.detail == backend_name()  # says which backend, for the details view
    assert files_under(data_dir) == []
    assert store.get() is None
    store.delete()  # nothing to delete, and no error

    store.use_for_session(SESSION_KEY)  # what the window offers instead
    assert store.get() == ApiKey(SESSION_KEY, KeySource.SESSION)
    assert files_under(data_dir) == []


def test_failing_keyring_is_reported_not_bypassed(data_dir: Path) -> None:
    keyring.set_keyring(BrokenKeyring())
    store = KeyStore()
    assert backend_is_usable()

    with pytest.raises(KeyringUnavailable):
        store.save(KEYRING_KEY)
    with pytest.raises(KeyringUnavailable):
        store.delete()
    assert store.get() is None  # a failed read is "no key", not a crash
    assert files_under(data_dir) == []
