"""The API key: environment, OS keyring, or this session only — never a file.

Precedence: ``DASHSCOPE_API_KEY`` in the environment, then a key the user chose to keep for this
session only, then the OS keyring. When no keyring backend works we say so
(:class:`KeyringUnavailable`) and never fall back to plain text. Keyring calls can block on D-Bus:
the window runs them in an executor.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from enum import StrEnum

import keyring
import keyring.backend
import keyring.errors

from desktop.core.errors import ErrorKind, QwenError

ENV_KEY = "DASHSCOPE_API_KEY"
SERVICE = "qwen-desktop"
USERNAME = "dashscope-api-key"

log = logging.getLogger(__name__)


class KeySource(StrEnum):
    ENVIRONMENT = "environment"
    SESSION = "session"
    KEYRING = "keyring"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ApiKey:
    value: str
    source: KeySource

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return f"ApiKey(source={self.source.value!r}, value={mask_key(self.value)!r})"

    __str__ = __repr__


class KeyringUnavailable(QwenError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(ErrorKind.KEYRING, detail)


def mask_key(key: str) -> str:
    """``sk-…abcd``: enough to recognise a key, not enough to use it."""
    key = key.strip()
    if not key:
        return ""
    return ("sk-…" if key.startswith("sk-") else "…") + key[-4:]


def backend_is_usable(backend: keyring.backend.KeyringBackend | None = None) -> bool:
    backend = backend or keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose priority check fails is not usable
        return False


def backend_name(backend: keyring.backend.KeyringBackend | None = None) -> str:
    backend = backend or keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


class KeyStore:
    """Reads and writes the API key. Blocking (keyring may talk to D-Bus): call off the UI thread."""

    def __init__(self, service: str = SERVICE, username: str = USERNAME) -> None:
        self._service = service
        self._username = username
        self._session_key: str | None = None

    def get(self) -> ApiKey | None:
        env = os.environ.get(ENV_KEY, "").strip()
        if env:
            return ApiKey(env, KeySource.ENVIRONMENT)
        if self._session_key:
            return ApiKey(self._session_key, KeySource.SESSION)
        stored = self.get_stored()
        if stored:
            return ApiKey(stored, KeySource.KEYRING)
        return None

    def source(self) -> KeySource:
        key = self.get()
        return key.source if key else KeySource.NONE

    def get_stored(self) -> str | None:
        if not backend_is_usable():
            return None
        try:
            value = keyring.get_password(self._service, self._username)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed: %s", type(exc).__name__)
            return None
        return value.strip() if value else None

    def save(self, key: str) -> None:
        key = key.strip()
        if not key:
            raise QwenError(ErrorKind.NO_KEY, "the key to store is empty")
        if not backend_is_usable():
            raise KeyringUnavailable(backend_name())
        try:
            keyring.set_password(self._service, self._username, key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None
        self._session_key = None

    def use_for_session(self, key: str) -> None:
        """Keep the key in memory only, for when no keyring works."""
        self._session_key = key.strip() or None

    def delete(self) -> None:
        self._session_key = None
        if not backend_is_usable():
            return
        try:
            keyring.delete_password(self._service, self._username)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None
