"""KeyStore against the real system keyring: a Secret Service (gnome-keyring under tests/run.sh).

tests/run.sh sets QWEN_TEST_REAL_KEYRING=1, which makes a missing Secret Service a failure. Without
it (plain `pytest` on a developer machine) the test skips when there is none.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import keyring
import keyring.errors
import pytest

from desktop.core import paths
from desktop.core.secrets import (
    USERNAME,
    KeySource,
    KeyStore,
    backend_is_usable,
    backend_name,
    effective_backend,
)

pytestmark = pytest.mark.real_keyring

FAKE_KEY = "sk-test-real-keyring-0001"
REQUIRED = os.environ.get("QWEN_TEST_REAL_KEYRING") == "1"


def require_secret_service() -> None:
    usable = backend_is_usable()
    # With keyrings.alt installed (the test extra has it) keyring picks its chainer, whose first
    # member is the Secret Service: that is where the key goes.
    module = type(effective_backend()).__module__
    if REQUIRED:
        assert usable, f"no usable keyring backend ({backend_name()}); is a Secret Service running?"
        assert module == "keyring.backends.SecretService", f"backend is {backend_name()}"
    elif not usable or module != "keyring.backends.SecretService":
        pytest.skip(f"no Secret Service keyring here ({backend_name()}); "
                    "tests/run.sh provides one (QWEN_TEST_REAL_KEYRING=1)")


def test_key_round_trips_through_secret_service(data_dir: Path) -> None:
    require_secret_service()
    assert paths.data_dir() == data_dir
    service = f"qwen-desktop-test-{uuid.uuid4().hex}"
    try:
        KeyStore(service=service).save(FAKE_KEY)

        reread = KeyStore(service=service)  # a new store: nothing cached in memory
        key = reread.get()
        assert key is not None
        assert key.source == KeySource.KEYRING
        assert key.value == FAKE_KEY

        for path in data_dir.rglob("*"):
            if path.is_file():
                assert FAKE_KEY.encode() not in path.read_bytes(), f"key written to {path}"

        reread.delete()
        assert KeyStore(service=service).get() is None
        assert keyring.get_password(service, USERNAME) is None
    finally:
        try:  # never leave the fake key behind, whatever failed above
            keyring.delete_password(service, USERNAME)
        except keyring.errors.KeyringError:
            pass
