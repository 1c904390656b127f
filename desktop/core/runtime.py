"""Building a connection from settings, key and environment — shared by the window and the CLI."""

from __future__ import annotations

import asyncio

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.regions import resolve_base_url
from desktop.core.secrets import ApiKey, KeyStore
from desktop.core.settings import Settings
from desktop.core.settings_store import SettingsStore


def connection_config(settings: Settings, key: ApiKey | None) -> ConnectionConfig:
    if key is None or not key.value:
        raise QwenError(ErrorKind.NO_KEY)
    base_url, _source = resolve_base_url(settings.region, settings.custom_base_url)
    if not base_url:
        raise QwenError(ErrorKind.NOT_FOUND, "no base URL configured")
    return ConnectionConfig(base_url=base_url, api_key=key.value, proxy_mode=settings.proxy_mode,
                            proxy_url=settings.proxy_url)


class Session:
    """The live connection state shared by the window's tabs: settings, key, and one client.

    The client is created lazily inside the running loop and replaced when the settings or key
    change. Reading the key may block (keyring over D-Bus): await :meth:`refresh_key`.
    """

    def __init__(self, settings: Settings, key_store: KeyStore, store: SettingsStore | None = None) -> None:
        # With a store, every assignment to ``settings`` is applied at once and written later by
        # the store's one writer thread (debounced); without one, settings live in memory only.
        self.store = store
        self._settings = store.value if store is not None else settings
        self.key_store = key_store
        self.key: ApiKey | None = None
        self.key_error: QwenError | None = None  # why the key could not be read (keyring broken)
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
        """Read the key (may block); raises QwenError when the keyring cannot be read."""
        try:
            self.key = self.key_store.get()
        except QwenError as error:
            self.key, self.key_error = None, error
            raise
        self.key_error = None
        return self.key

    async def refresh_key(self) -> ApiKey | None:
        """Read the key in a worker thread and take it over on the caller's (the UI's) thread, so
        nothing on that thread sees the key change under it. Raises as :meth:`load_key`."""
        try:
            key = await asyncio.to_thread(self.key_store.get)
        except QwenError as error:
            self.key, self.key_error = None, error
            raise
        self.key, self.key_error = key, None
        return key

    def config(self) -> ConnectionConfig:
        if self.key is None and self.key_error is not None:
            raise QwenError(self.key_error.kind, self.key_error.detail)
        return connection_config(self.settings, self.key)

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
