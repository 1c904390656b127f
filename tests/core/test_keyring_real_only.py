"""Only a real, encrypting OS keyring counts as a keyring.

keyrings.alt (Debian and Ubuntu ship it as python3-keyrings.alt) registers backends that keep
passwords base64-encoded in a plain file. With no Secret Service, keyring picks one of them; the
app must then behave exactly as with no keyring at all: store nothing, read nothing, say so.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import keyring
import keyring.backends.chainer
import keyring.backends.null
import keyrings.alt.file
import pytest

from desktop.cli.output import EXIT_AUTH
from desktop.core import secrets
from desktop.core.secrets import (
    SERVICE,
    USERNAME,
    REAL_BACKENDS,
    KeyringUnavailable,
    KeySource,
    KeyStore,
    backend_is_usable,
    backend_problem,
)
from desktop.selftest.checks import CheckFailed, check_keyring
from tests.conftest import MemoryKeyring
from tests.test_cli import base_env, qwen

KEY = "sk-plaintext-must-never-0042"


def traces_of_the_key(directory: Path) -> list[Path]:
    """Files under ``directory`` that hold the key, as it is or base64-encoded (keyrings.alt)."""
    encoded = base64.b64encode(KEY.encode())
    return [path for path in directory.rglob("*")
            if path.is_file() and (KEY.encode() in path.read_bytes() or encoded in path.read_bytes())]


@pytest.fixture
def plaintext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> keyrings.alt.file.PlaintextKeyring:
    """keyrings.alt's plain-file backend, its file under tmp_path, installed as the keyring."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    backend = keyrings.alt.file.PlaintextKeyring()
    backend.file_path = str(tmp_path / "xdg-data" / "python_keyring" / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    return backend


def test_a_plaintext_file_backend_is_no_keyring(plaintext, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert plaintext.priority > 0  # keyring itself would happily use it
    assert not backend_is_usable()
    problem = backend_problem()
    assert problem is not None and "keyrings.alt" in problem and "file" in problem
    store = KeyStore()
    with pytest.raises(KeyringUnavailable):
        store.save(KEY)
    assert traces_of_the_key(tmp_path) == []
    assert store.get() is None
    store.use_for_session(KEY)  # what the window offers instead: memory only
    key = store.get()
    assert key is not None and key.source is KeySource.SESSION
    assert traces_of_the_key(tmp_path) == []


def test_a_key_left_in_a_plaintext_file_is_not_used_and_is_said(  # type: ignore[no-untyped-def]
        plaintext, caplog: pytest.LogCaptureFixture) -> None:
    plaintext.set_password(SERVICE, USERNAME, KEY)  # written there by an older version, or by hand
    with caplog.at_level(logging.WARNING, logger="desktop.core.secrets"):
        assert KeyStore().get() is None
    assert "plain file" in caplog.text and "not used" in caplog.text
    assert KEY not in caplog.text


def test_key_set_with_a_plaintext_backend_refuses_and_key_status_says_none(tmp_path: Path,
                                                                           data_dir: Path) -> None:
    env = base_env(data_dir, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                   XDG_DATA_HOME=str(tmp_path / "xdg-data"))
    result = qwen(["key", "set"], env, stdin=KEY + "\n")
    assert result.returncode == EXIT_AUTH, result.stderr
    assert "no system keyring is available" in result.stderr
    assert "saved" not in result.stdout.lower()
    assert traces_of_the_key(tmp_path) == []

    status = qwen(["key", "status"], env)
    assert not status.stdout.startswith("keyring"), status.stdout
    assert status.stdout.startswith("none")


def test_a_chainer_is_judged_by_the_member_the_key_would_go_to(  # type: ignore[no-untyped-def]
        plaintext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chainer = keyring.backends.chainer.ChainerBackend()
    memory = MemoryKeyring()
    keyring.set_keyring(chainer)

    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [plaintext])
    assert not backend_is_usable()
    with pytest.raises(KeyringUnavailable):
        KeyStore().save(KEY)
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [plaintext, memory])
    assert not backend_is_usable()  # the plain file comes first: the key would go there

    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [memory, plaintext])
    assert backend_is_usable()
    KeyStore().save(KEY)
    assert memory.passwords == {(SERVICE, USERNAME): KEY}
    assert traces_of_the_key(tmp_path) == []


def test_a_chainer_never_falls_back_to_the_plain_file_when_reading(  # type: ignore[no-untyped-def]
        plaintext, monkeypatch: pytest.MonkeyPatch) -> None:
    plaintext.set_password(SERVICE, USERNAME, KEY)
    memory = MemoryKeyring()  # the real keyring holds no key
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [memory, plaintext])
    keyring.set_keyring(keyring.backends.chainer.ChainerBackend())
    assert keyring.get_password(SERVICE, USERNAME) == KEY  # what keyring's own chainer would do
    assert KeyStore().get() is None


def test_the_self_test_fails_a_plaintext_backend_with_a_plain_reason(plaintext) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CheckFailed) as caught:
        check_keyring()
    reason = str(caught.value)
    assert "keyrings.alt.file.PlaintextKeyring" in reason
    assert "file" in reason and "not in an OS keyring" in reason


def test_the_test_backends_are_trusted_only_through_the_test_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(name.startswith("tests.") for name in REAL_BACKENDS)
    assert backend_is_usable(MemoryKeyring())  # the conftest hook, for this test
    monkeypatch.setattr(secrets, "TEST_BACKENDS_ACCEPTED_AS_REAL", frozenset())
    assert not backend_is_usable(MemoryKeyring())  # the app's own check: not a known OS keyring
    assert not backend_is_usable(keyring.backends.null.Keyring())
