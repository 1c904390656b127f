"""Building a connection from settings, key and environment — shared by the window and the CLI."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.proxy_password import ProxyPasswordStore, split_password, with_password
from desktop.core.regions import resolve_base_url
from desktop.core.secrets import ApiKey, KeyringUnavailable, KeyStore
from desktop.core.settings import Settings
from desktop.core.settings_store import SettingsStore


log = logging.getLogger(__name__)


def connection_config(settings: Settings, key: ApiKey | None,
                      proxy_password: str | None = None) -> ConnectionConfig:
    """The connection to make. The proxy password (kept in the keyring, never in the settings) is
    put into the proxy address here, and only here."""
    if key is None or not key.value:
        raise QwenError(ErrorKind.NO_KEY)
    base_url, _source = resolve_base_url(settings.region, settings.custom_base_url)
    if not base_url:
        raise QwenError(ErrorKind.NOT_FOUND, "no base URL configured")
    proxy_url = with_password(settings.proxy_url, proxy_password or "")
    return ConnectionConfig(base_url=base_url, api_key=key.value, proxy_mode=settings.proxy_mode,
                            proxy_url=proxy_url)


@dataclass(frozen=True, slots=True)
class _Secrets:
    """What one read of the keyring found (made in a worker thread, taken over by the caller)."""

    key: ApiKey | None
    proxy_password: str | None
    # The proxy address as the settings had it with a password, and as it is without: the
    # password has just been moved to the keyring, so the settings are to drop it.
    moved_from: str | None = None
    moved_to: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"_Secrets(key={self.key!r}, proxy_password={'***' if self.proxy_password else None})"


class Session:
    """The live connection state shared by the window's tabs: settings, key, and one client.

    The client is created lazily inside the running loop and replaced when the settings or key
    change. Reading the key may block (keyring over D-Bus): await :meth:`refresh_key`.
    """

    def __init__(self, settings: Settings, key_store: KeyStore, store: SettingsStore | None = None, *,
                 proxy_passwords: ProxyPasswordStore | None = None) -> None:
        # With a store, every assignment to ``settings`` is applied at once and written later by
        # the store's one writer thread (debounced); without one, settings live in memory only.
        self.store = store
        self._settings = store.value if store is not None else settings
        self.key_store = key_store
        self.key: ApiKey | None = None
        self.key_error: QwenError | None = None  # why the key could not be read (keyring broken)
        self.proxy_passwords = proxy_passwords or ProxyPasswordStore(timeout=key_store.timeout)
        self.proxy_password: str | None = None  # read with the key; goes into the proxy address
        self._client: QwenClient | None = None
        self._client_config: ConnectionConfig | None = None
        self._retired: list[QwenClient] = []

    @property
    def settings(self) -> Settings:
        return self.store.value if self.store is not None else self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        if self.store is not None:
            self.store.update(value)
        else:
            self._settings = value

    def load_key(self) -> ApiKey | None:
        """Read the key and the proxy password (may block); raises QwenError when the keyring
        cannot be read. A proxy password still in the settings moves to the keyring."""
        try:
            secrets = self._read_secrets(self.settings)
        except QwenError as error:
            self.key, self.key_error = None, error
            raise
        return self._take(secrets)

    async def refresh_key(self) -> ApiKey | None:
        """As :meth:`load_key`, reading in a worker thread and taking the result over on the
        caller's (the UI's) thread, so nothing on that thread sees the key change under it."""
        try:
            secrets = await asyncio.to_thread(self._read_secrets, self.settings)
        except QwenError as error:
            self.key, self.key_error = None, error
            raise
        return self._take(secrets)

    def _take(self, secrets: _Secrets) -> ApiKey | None:
        self.key, self.key_error = secrets.key, None
        self.proxy_password = secrets.proxy_password
        if secrets.moved_to is not None and self.settings.proxy_url == secrets.moved_from:
            self.settings = self.settings.replace(proxy_url=secrets.moved_to)  # written by the store
        return self.key

    def _read_secrets(self, settings: Settings) -> _Secrets:
        """Blocking: the key, then the proxy password (a worker thread, or the command line)."""
        key = self.key_store.get()
        address, in_settings = split_password(settings.proxy_url)
        if in_settings:  # a settings file from before the password went to the keyring
            try:
                self.proxy_passwords.save(in_settings)
            except KeyringUnavailable as exc:
                log.warning("the proxy password stays in the settings file: no system keyring to move "
                            "it to (%s)", exc.detail)
                return _Secrets(key, None)  # the address in the settings still holds it
            log.info("the proxy password was moved from the settings file to the system keyring")
            return _Secrets(key, in_settings, settings.proxy_url, address)
        try:
            password = self.proxy_passwords.get()
        except KeyringUnavailable as exc:
            log.warning("the proxy password could not be read from the keyring (%s)", exc.detail)
            password = None
        return _Secrets(key, password)

    async def save_proxy_password(self, password: str) -> bool:
        """Keep the proxy password: in the keyring (True), or, with no real keyring, for this
        session only (False) — never in a file. Blocking work runs in a worker thread."""
        try:
            await asyncio.to_thread(self.proxy_passwords.save, password)
            stored = True
        except KeyringUnavailable:
            self.proxy_passwords.use_for_session(password)
            stored = False
        self.proxy_password = password
        return stored

    async def forget_proxy_password(self) -> None:
        """Delete it from the keyring and from memory; KeyringUnavailable if the keyring fails."""
        self.proxy_password = None
        await asyncio.to_thread(self.proxy_passwords.delete)

    def config(self) -> ConnectionConfig:
        if self.key is None and self.key_error is not None:
            raise QwenError(self.key_error.kind, self.key_error.detail)
        return connection_config(self.settings, self.key, self.proxy_password)

    def client(self) -> QwenClient:
        config = self.config()
        if self._client is None or config != self._client_config:
            if self._client is not None:
                self._retired.append(self._client)
            self._client = QwenClient(config)
            self._client_config = config
        return self._client

    async def aclose(self) -> None:
        if self.store is not None:
            await asyncio.to_thread(self.store.close)  # what was typed last reaches the disk
        clients = [*self._retired, *([self._client] if self._client else [])]
        self._client = None
        self._retired.clear()
        for client in clients:
            await client.aclose()
