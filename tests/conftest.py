"""Test isolation for every test: its own data directory, no API key or proxy from the environment,
and an in-memory keyring, except for tests marked ``real_keyring``, which get the system's own
backend (a Secret Service that tests/run.sh starts)."""

from __future__ import annotations

import os

# Before anything imports Qt: no display needed, and pytest-qt must pick PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyside6"
if not os.environ.get("XDG_RUNTIME_DIR"):  # else Qt warns, and Qt warnings fail tests
    import atexit
    import shutil
    import tempfile

    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qwen-tests-runtime-")  # mode 0700
    atexit.register(shutil.rmtree, os.environ["XDG_RUNTIME_DIR"], ignore_errors=True)

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest

from desktop.core import secrets
from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.paths import ENV_HOME
from tests.support.dashscope_server import TEST_KEY, DashScopeServer

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, for one test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("no such password") from None


# keyring registers every backend class it sees; take this one out again so that it never joins the
# system's own backend detection (where it would also make keyring prefer its "chainer" backend).
keyring.backend.KeyringBackend._classes.discard(MemoryKeyring)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "qwen-desktop-home"
    home.mkdir()
    monkeypatch.setenv(ENV_HOME, str(home))
    for name in list(os.environ):
        if name.startswith("DASHSCOPE_"):  # DASHSCOPE_API_KEY, DASHSCOPE_BASE_URL, ...
            monkeypatch.delenv(name)
    for name in _PROXY_VARS:  # tests talk to 127.0.0.1 only, never through a proxy
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return home


@pytest.fixture
def data_dir(_isolated_environment: Path) -> Path:
    """The test's own data directory (``QWEN_DESKTOP_HOME``), empty at the start."""
    return _isolated_environment


def _backends_defined_by_tests() -> frozenset[str]:
    """"module.Class" of every keyring backend a test module defines (MemoryKeyring, HangingKeyring...)."""
    names: set[str] = set()
    todo = [keyring.backend.KeyringBackend]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("tests."):
                names.add(f"{sub.__module__}.{sub.__qualname__}")
    return frozenset(names)


@pytest.fixture(autouse=True)
def _keyring_backend(request: pytest.FixtureRequest,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[keyring.backend.KeyringBackend]:
    # The app trusts only real OS keyrings (secrets.REAL_BACKENDS). The backends the tests write
    # stand in for one, through the module's test hook, for this test only; keyrings.alt's and
    # keyring's own non-keyrings stay refused, as in the app.
    monkeypatch.setattr(secrets, "TEST_BACKENDS_ACCEPTED_AS_REAL", _backends_defined_by_tests())
    previous = keyring.get_keyring()
    if request.node.get_closest_marker("real_keyring"):
        keyring.core.init_backend()  # what the app would pick on this machine
    else:
        keyring.set_keyring(MemoryKeyring())
    try:
        yield keyring.get_keyring()
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(_keyring_backend: keyring.backend.KeyringBackend) -> MemoryKeyring:
    """The in-memory backend installed for this test (its ``passwords`` dict can be inspected)."""
    if not isinstance(_keyring_backend, MemoryKeyring):
        pytest.fail("memory_keyring cannot be used in a test marked real_keyring")
    return _keyring_backend


@pytest.fixture
def srv() -> Iterator[DashScopeServer]:
    """A DashScope-compatible server on 127.0.0.1 for this test."""
    with DashScopeServer() as server:
        yield server


@pytest.fixture
async def client(srv: DashScopeServer) -> AsyncIterator[QwenClient]:
    """Our real client, talking to the test's loopback server (never through a proxy)."""
    async with QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="none")) as c:
        yield c


@pytest.fixture
def service_env(srv: DashScopeServer, monkeypatch: pytest.MonkeyPatch) -> DashScopeServer:
    """What a command-line run needs to reach the loopback server: key and base URL in the
    environment, retries and batch polls that wait milliseconds."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", srv.base_url)
    monkeypatch.setenv("QWEN_DESKTOP_RETRY_SCALE", "0.001")
    monkeypatch.setenv("QWEN_DESKTOP_POLL_SCALE", "0")  # ask the service again at once
    return srv
