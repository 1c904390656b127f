"""The proxy's password: in the OS keyring (or this session's memory), never in the settings file.

The settings keep the proxy address without its password (``http://alice@proxy.corp:8080``); the
password is a second keyring entry under the app's service, and goes back into the address only
when a connection is built (:func:`with_password`). Without a real OS keyring it is kept for the
session only, in memory. Keyring calls block and are timed out like the API key's
(:class:`desktop.core.secrets.KeyringEntry`).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from desktop.core.errors import register_secret
from desktop.core.secrets import KEYRING_TIMEOUT, SERVICE, KeyringEntry

PROXY_USERNAME = "proxy-password"

_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.\-]*://")


def _parts(url: str) -> tuple[str, str, str]:
    """``(scheme://, user info, host and the rest)`` of a proxy address; user info is "" without
    an ``@``. Plain string work, so that a broken address gives up its password too."""
    scheme = _SCHEME.match(url)
    head = scheme.group(0) if scheme else ""
    rest = url[len(head):]
    # A proxy address has no path worth the name: the user info runs to the last "@", which keeps
    # a password with an unencoded "/" or "#" in one piece.
    userinfo, at, hostport = rest.rpartition("@")
    return (head, userinfo, hostport) if at else (head, "", rest)


def split_password(url: str) -> tuple[str, str]:
    """``(the address without its password, the password)``; the password is percent-decoded,
    and "" when the address holds none. The user name stays in the address."""
    head, userinfo, hostport = _parts(url)
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return url, ""
    return f"{head}{user}@{hostport}", unquote(password)


def with_password(url: str, password: str) -> str:
    """The address with ``password`` in it (replacing one it holds), for building a connection."""
    if not password or not url.strip():
        return url
    head, userinfo, hostport = _parts(url)
    user = userinfo.partition(":")[0]
    return f"{head}{user}:{quote(password, safe='')}@{hostport}"


class ProxyPasswordStore(KeyringEntry):
    """The proxy password in the OS keyring, or for this session only when there is none."""

    def __init__(self, service: str = SERVICE, username: str = PROXY_USERNAME, *,
                 timeout: float = KEYRING_TIMEOUT) -> None:
        super().__init__(service, username, timeout=timeout)
        self._session_password: str | None = None

    def get(self) -> str | None:
        """This session's password, else the keyring's; :class:`KeyringUnavailable` on a timeout."""
        password = self._session_password or self.read() or None
        if password:
            register_secret(password)
        return password

    def save(self, password: str) -> None:
        """Into the keyring; :class:`KeyringUnavailable` when there is no real one."""
        register_secret(password)
        self.write(password)
        self._session_password = None

    def use_for_session(self, password: str) -> None:
        """Keep the password in memory only; an empty one forgets it."""
        if password:
            register_secret(password)
        self._session_password = password or None

    def delete(self) -> None:
        self._session_password = None
        self.erase()
