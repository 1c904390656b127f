"""The API key: environment, OS keyring, or this session only — never a file.

Precedence: ``DASHSCOPE_API_KEY`` in the environment, then a key the user chose to keep for this
session only, then the OS keyring. When no keyring backend works we say so
(:class:`KeyringUnavailable`) and never fall back to plain text. Keyring calls can block on D-Bus:
the window runs them in an executor, and each call gives up after a timeout (a locked collection
whose unlock prompt nobody sees never answers), so neither face waits forever.

Whatever the key comes from — a paste, a pipe, the environment, a keyring entry made by hand — it
goes through :func:`clean_key`: invisible characters, quotes and full-width letters are undone, and
a key that cannot go into an HTTP header is refused with the reason, before any request.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import keyring
import keyring.backend
import keyring.errors

from desktop.core.errors import ErrorKind, QwenError, mask, register_secret

ENV_KEY = "DASHSCOPE_API_KEY"
SERVICE = "qwen-desktop"
USERNAME = "dashscope-api-key"
MAX_KEY_LENGTH = 1024  # DashScope keys are ~35 characters; anything far longer is a wrong paste
KEYRING_TIMEOUT = 30.0  # seconds; long enough to type a password into an unlock prompt

log = logging.getLogger(__name__)
_T = TypeVar("_T")


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
    return mask(key)


_QUOTES = ('"', "'", "“", "”", "‘", "’", "`")


def _describe_character(char: str) -> str:
    if char == " ":
        return "a space"
    if char in "\r\n\u2028\u2029\x85":
        return "a line break"
    if char == "\t":
        return "a tab"
    if unicodedata.category(char).startswith("C") or char == "\x7f":
        return f"a control character (U+{ord(char):04X})"
    if char.isspace():
        return f"a space character (U+{ord(char):04X})"
    return f"the character U+{ord(char):04X}"


def clean_key(text: str) -> str:
    """The key the user meant, from what a paste or a pipe delivered; refused if it cannot be sent.

    Undoes what copying does to a key: surrounding white space and quotes, byte order marks and
    zero-width characters anywhere, full-width letters from an input method (NFKC). A key that still
    holds anything but visible ASCII would fail in the HTTP header (or smuggle in another header),
    so it is refused: ``QwenError(INVALID_KEY)`` naming the character, never the key. An empty one
    is ``NO_KEY``. The key returned is registered with the redaction of logs and error details.
    """
    if len(text) > 4 * MAX_KEY_LENGTH:
        raise QwenError(ErrorKind.INVALID_KEY, f"the key is longer than {MAX_KEY_LENGTH} characters")
    key = unicodedata.normalize("NFKC", text)
    key = "".join(c for c in key if unicodedata.category(c) != "Cf")  # BOM, zero-width, joiners
    key = key.strip()
    while len(key) >= 2 and key[0] in _QUOTES and key[-1] in _QUOTES:
        key = key[1:-1].strip()
    if not key:
        raise QwenError(ErrorKind.NO_KEY, "the key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise QwenError(ErrorKind.INVALID_KEY, f"the key is longer than {MAX_KEY_LENGTH} characters")
    bad = next((c for c in key if not "!" <= c <= "~"), None)
    if bad is not None:
        raise QwenError(ErrorKind.INVALID_KEY, f"the key contains {_describe_character(bad)}")
    register_secret(key)
    return key


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
    """Reads and writes the API key. Blocking (keyring may talk to D-Bus): call off the UI thread.

    Every keyring call runs in a daemon thread and is given ``timeout`` seconds. One that does not
    answer in time raises :class:`KeyringUnavailable`; until it has ended, later calls fail at once
    instead of piling up more stuck threads (a daemon thread also never keeps the app from exiting).
    """

    def __init__(self, service: str = SERVICE, username: str = USERNAME, *,
                 timeout: float = KEYRING_TIMEOUT) -> None:
        self._service = service
        self._username = username
        self._session_key: str | None = None
        self.timeout = timeout
        self._stuck: threading.Thread | None = None

    def get(self) -> ApiKey | None:
        """The key in use; ``QwenError`` (INVALID_KEY, KEYRING) when it cannot be had."""
        env = os.environ.get(ENV_KEY, "")
        if env.strip():
            try:
                return ApiKey(clean_key(env), KeySource.ENVIRONMENT)
            except QwenError as error:
                raise QwenError(error.kind, f"{ENV_KEY}: {error.detail}") from None
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
        value = self._call(self._read)
        if value is None or not value.strip():
            return None
        try:
            return clean_key(value)
        except QwenError as error:
            raise QwenError(error.kind, f"the key in the keyring: {error.detail}") from None

    def _read(self) -> str | None:
        if not backend_is_usable():
            return None
        try:
            return keyring.get_password(self._service, self._username)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed: %s", type(exc).__name__)
            return None

    def save(self, key: str) -> None:
        key = clean_key(key)
        self._call(self._write, key)
        self._session_key = None

    def _write(self, key: str) -> None:
        if not backend_is_usable():
            raise KeyringUnavailable(backend_name())
        try:
            keyring.set_password(self._service, self._username, key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None

    def use_for_session(self, key: str) -> None:
        """Keep the key in memory only, for when no keyring works. An empty key forgets it."""
        self._session_key = clean_key(key) if key.strip() else None

    def delete(self) -> None:
        self._session_key = None
        self._call(self._delete)

    def _delete(self) -> None:
        if not backend_is_usable():
            return
        try:
            keyring.delete_password(self._service, self._username)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None

    def _call(self, work: Callable[..., _T], *args: object) -> _T:
        """``work(*args)`` in a daemon thread, given ``timeout`` seconds (backend detection, too,
        may talk to D-Bus)."""
        if self._stuck is not None:
            if self._stuck.is_alive():
                raise KeyringUnavailable("the keyring has not answered an earlier request yet")
            self._stuck = None
        outcome: list[_T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(work(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=run, name="keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            self._stuck = worker
            log.warning("the keyring did not answer within %g s", self.timeout)
            raise KeyringUnavailable(f"the keyring did not answer within {self.timeout:g} s")
        if failure:
            raise failure[0]
        return outcome[0]
