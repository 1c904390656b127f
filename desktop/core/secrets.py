"""The API key: environment, OS keyring, or this session only — never a file.

Precedence: ``DASHSCOPE_API_KEY`` in the environment, then a key the user chose to keep for this
session only, then the OS keyring. Only a real, encrypting OS keyring counts (:data:`REAL_BACKENDS`):
when there is none — keyrings.alt's file backends, keyring's null and fail backends count as none —
we say so (:class:`KeyringUnavailable`) and never fall back to plain text. Keyring calls can block on D-Bus:
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
from desktop.core.i18n import QT_TRANSLATE_NOOP

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


# The OS keyrings that keep a secret encrypted at rest, as "module.Class". Only these count as a
# keyring. Anything else that keyring may pick — keyrings.alt's file backends (base64 in a plain
# file, or "encrypted" with a password that may be empty), keyring's null and fail backends, a
# third-party plug-in — is treated exactly as "no keyring": nothing is stored there, nothing read.
REAL_BACKENDS: frozenset[str] = frozenset({
    "keyring.backends.SecretService.Keyring",  # GNOME Keyring, KeePassXC, ... over D-Bus
    "keyring.backends.libsecret.Keyring",  # the same Secret Service, through libsecret
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.Windows.WinVaultKeyring",  # Windows Credential Locker
    "keyring.backends.macOS.Keyring",  # macOS Keychain
})
# Test hook, empty in the app: tests/conftest.py sets it, for one test at a time, to the backends
# the tests define (an in-memory keyring, one that hangs, one that fails), so that those tests take
# the same path as a real keyring. REAL_BACKENDS itself is never changed.
TEST_BACKENDS_ACCEPTED_AS_REAL: frozenset[str] = frozenset()

_CHAINER = "keyring.backends.chainer.ChainerBackend"
_PLAINTEXT_FILE = "keyrings.alt.file.PlaintextKeyring"
_warned_plaintext: set[tuple[str, str, str]] = set()


def backend_name(backend: keyring.backend.KeyringBackend | None = None) -> str:
    backend = backend or keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _chained(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    """The members of keyring's chainer backend, highest priority first; [] for any other."""
    if backend_name(backend) != _CHAINER:
        return []
    try:
        return list(getattr(backend, "backends"))  # noqa: B009 - untyped classproperty
    except Exception:  # noqa: BLE001 - a member whose detection fails: judge the chainer alone
        log.warning("keyring: the chainer's backends could not be listed", exc_info=True)
        return []


def effective_backend(backend: keyring.backend.KeyringBackend | None = None) -> keyring.backend.KeyringBackend:
    """The backend a secret would go to: keyring's chainer writes to its highest-priority member,
    so that member is the one judged (and the one this module then talks to directly)."""
    backend = backend or keyring.get_keyring()
    members = _chained(backend)
    return members[0] if members else backend


def backend_problem(backend: keyring.backend.KeyringBackend | None = None) -> str | None:
    """Why ``backend`` (default: keyring's choice) is no real OS keyring, in plain words; None
    when it is one. May talk to D-Bus (a backend's priority checks that its service answers)."""
    target = effective_backend(backend)
    name = backend_name(target)
    if name not in REAL_BACKENDS and name not in TEST_BACKENDS_ACCEPTED_AS_REAL:
        if name.startswith("keyrings.alt."):
            return (f"{name} (from keyrings.alt) keeps passwords in a file that is not protected by "
                    "the system, not in an OS keyring")
        if name.startswith(("keyring.backends.fail.", "keyring.backends.null.", _CHAINER)):
            return f"{name} stores nothing: no OS keyring was found"
        return (f"{name} is not an OS keyring this app trusts (Secret Service, KWallet, Windows "
                "Credential Locker or macOS Keychain)")
    try:
        available = float(target.priority) > 0
    except Exception:  # noqa: BLE001 - a backend whose priority check fails is not usable
        available = False
    return None if available else f"{name} is not available here"


def backend_is_usable(backend: keyring.backend.KeyringBackend | None = None) -> bool:
    """Whether secrets can be kept in a real, encrypting OS keyring (see :data:`REAL_BACKENDS`)."""
    return backend_problem(backend) is None


# What the Settings tab says, before Save, when there is no usable keyring (context "SettingsTab":
# the tab translates them). The advice depends on the platform: see keyring_advice.
NO_KEYRING_NOTE = QT_TRANSLATE_NOOP(
    "SettingsTab", "This computer has no system keyring that Qwen Desktop can use, so the key cannot "
                   "be saved and must be pasted at each start.")
_ADVICE_LINUX = QT_TRANSLATE_NOOP(
    "SettingsTab", "Install and unlock GNOME Keyring (package gnome-keyring) or KWallet, then restart "
                   "Qwen Desktop.")
_ADVICE_WINDOWS = QT_TRANSLATE_NOOP(
    "SettingsTab", "Windows Credential Manager did not answer; restart Windows.")
_ADVICE_MACOS = QT_TRANSLATE_NOOP(
    "SettingsTab", "The macOS Keychain did not answer; log out and log in again.")


def keyring_advice(platform: str) -> str:
    """How to get a usable keyring on ``platform`` (a ``sys.platform`` value), in English; the
    window translates it (context "SettingsTab"). Windows and macOS always have their credential
    store, so there it did not answer; elsewhere (Linux, the BSDs) one has to be installed."""
    if platform.startswith(("win32", "cygwin")):
        return _ADVICE_WINDOWS
    if platform.startswith("darwin"):
        return _ADVICE_MACOS
    return _ADVICE_LINUX


class KeyringEntry:
    """One secret in the OS keyring, under ``service`` and ``username``. Blocking (keyring may talk
    to D-Bus): call off the UI thread.

    Every keyring call runs in a daemon thread and is given ``timeout`` seconds. One that does not
    answer in time raises :class:`KeyringUnavailable`; until it has ended, later calls fail at once
    instead of piling up more stuck threads (a daemon thread also never keeps the app from exiting).
    Only a real OS keyring is used (:func:`backend_is_usable`), and it is talked to directly, never
    through keyring's chainer, which would read from and fall back to any other backend.
    """

    def __init__(self, service: str, username: str, *, timeout: float = KEYRING_TIMEOUT) -> None:
        self._service = service
        self._username = username
        self.timeout = timeout
        self._stuck: threading.Thread | None = None

    def read(self) -> str | None:
        """The stored value, or None (nothing stored, no real keyring, or the read failed)."""
        return self._call(self._read)

    def write(self, value: str) -> None:
        """Store ``value``; :class:`KeyringUnavailable` when there is no real keyring."""
        self._call(self._write, value)

    def erase(self) -> None:
        self._call(self._delete)

    def _read(self) -> str | None:
        chosen = keyring.get_keyring()
        value: str | None = None
        if backend_is_usable(chosen):
            try:
                value = effective_backend(chosen).get_password(self._service, self._username)
            except keyring.errors.KeyringError as exc:
                log.warning("keyring read failed: %s", type(exc).__name__)
        if value is None:
            self._warn_if_in_a_plain_file(chosen)
        return value

    def _warn_if_in_a_plain_file(self, chosen: keyring.backend.KeyringBackend) -> None:
        """A secret left in keyrings.alt's plain-text file is not used; say so (never the secret).
        Only that backend is looked into: reading it asks nothing (its encrypted sibling would
        prompt for a password on the console)."""
        for member in _chained(chosen) or [chosen]:
            name = backend_name(member)
            if name != _PLAINTEXT_FILE or (name, self._service, self._username) in _warned_plaintext:
                continue
            try:
                found = member.get_password(self._service, self._username)
            except Exception:  # noqa: BLE001 - only a warning depends on it
                continue
            if found:
                _warned_plaintext.add((name, self._service, self._username))
                log.warning("a %s for %s is stored in %s, a plain file that is not an OS keyring; it "
                            "is not used. Save it again once an OS keyring is available, and delete "
                            "it from that file", self._username, self._service, name)

    def _write(self, value: str) -> None:
        chosen = keyring.get_keyring()
        problem = backend_problem(chosen)
        if problem is not None:
            log.info("keyring: not storing the %s: %s", self._username, problem)
            raise KeyringUnavailable(backend_name(effective_backend(chosen)))
        try:
            effective_backend(chosen).set_password(self._service, self._username, value)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(type(exc).__name__) from None

    def _delete(self) -> None:
        chosen = keyring.get_keyring()
        if not backend_is_usable(chosen):
            return
        try:
            effective_backend(chosen).delete_password(self._service, self._username)
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


class KeyStore(KeyringEntry):
    """Reads and writes the API key: the environment, this session's key, or the OS keyring."""

    def __init__(self, service: str = SERVICE, username: str = USERNAME, *,
                 timeout: float = KEYRING_TIMEOUT) -> None:
        super().__init__(service, username, timeout=timeout)
        self._session_key: str | None = None

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
        value = self.read()
        if value is None or not value.strip():
            return None
        try:
            return clean_key(value)
        except QwenError as error:
            raise QwenError(error.kind, f"the key in the keyring: {error.detail}") from None

    def save(self, key: str) -> None:
        key = clean_key(key)
        self.write(key)
        self._session_key = None

    def use_for_session(self, key: str) -> None:
        """Keep the key in memory only, for when no keyring works. An empty key forgets it."""
        self._session_key = clean_key(key) if key.strip() else None

    def delete(self) -> None:
        self._session_key = None
        self.erase()
