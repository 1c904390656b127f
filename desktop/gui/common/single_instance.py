"""One window per data directory: a second start asks the running window to come to the front
and ends, instead of opening a second window on the same settings, history and notes index.

The first start listens on a local socket (a named pipe on Windows) whose name is derived from the
data directory, so apps on two different data directories (``QWEN_DESKTOP_HOME``) run side by
side. A second start connects, sends ``show`` and ends; the first answers ``ok`` and brings its
window to the front. A crash leaves the socket file behind on Unix: when nobody answers on it, it
is removed and listened on afresh.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

SHOW = b"show"
OK = b"ok"
CONNECT_TIMEOUT_MS = 1000
# The running app may still be busy starting (its loop not yet turning): wait a little for its
# "ok", but a connection it accepted is proof enough that it runs.
ANSWER_TIMEOUT_MS = 3000
MAX_REQUEST = 256  # bytes; anything longer is no request of ours


def server_name(data_dir: Path) -> str:
    """The socket's name for a data directory: the same for every way of writing its path."""
    try:
        resolved = data_dir.resolve()
    except OSError:
        resolved = data_dir.absolute()
    digest = hashlib.sha256(os.path.normcase(str(resolved)).encode("utf-8")).hexdigest()[:24]
    return f"qwen-desktop-{digest}"


class SingleInstance(QObject):
    """The running app's end: answers a second start's ``show`` with :attr:`show_requested`."""

    show_requested = Signal()

    def __init__(self, server: QLocalServer | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = server
        if server is not None:
            server.setParent(self)
            server.newConnection.connect(self._on_server_new_connection)

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def close(self) -> None:
        """Stop answering (the window is closing); on Unix this removes the socket file."""
        if self._server is not None:
            self._server.close()

    def _on_server_new_connection(self) -> None:
        assert self._server is not None
        while (connection := self._server.nextPendingConnection()) is not None:
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)
            self._read(connection)

    def _read(self, connection: QLocalSocket) -> None:
        while connection.canReadLine():
            line = bytes(connection.readLine(MAX_REQUEST).data()).strip()
            if line == SHOW:
                connection.write(OK + b"\n")
                connection.flush()
                self.show_requested.emit()
        if connection.bytesAvailable() > MAX_REQUEST:
            connection.abort()


def claim(data_dir: Path) -> SingleInstance | None:
    """Become the one app on ``data_dir``, or return None after asking the app already running on
    it to come to the front. Never stops the app from starting: when the socket cannot be set up
    at all, the app runs without it (and says so in the log)."""
    name = server_name(data_dir)
    if _ask_to_show(name):
        return None
    server = _server()
    if _listen(server, name):
        return SingleInstance(server)
    if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
        if _ask_to_show(name):  # another start got there a moment before this one
            return None
        log.info("removing the socket a previous run left behind (%s)", name)
        QLocalServer.removeServer(name)
        if _listen(server, name):
            return SingleInstance(server)
    log.warning("cannot listen for a second start (%s): %s", name, server.errorString())
    return SingleInstance(None)


def _server() -> QLocalServer:
    server = QLocalServer()
    if sys.platform == "win32":
        # A pipe only this user may open. (Not on Unix: there Qt then makes the socket file
        # elsewhere and renames it into place, silently taking the name from a running app.)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
    return server


def _listen(server: QLocalServer, name: str) -> bool:
    if not server.listen(name):
        return False
    if os.name == "posix":
        try:  # connecting needs write permission on the socket file: this user only
            os.chmod(server.fullServerName(), 0o600)
        except OSError:
            log.warning("could not make %s private", server.fullServerName())
    return True


def _ask_to_show(name: str) -> bool:
    """Whether an app answers on ``name``; if one does, it was asked to show its window."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    _allow_to_take_focus()
    socket.write(SHOW + b"\n")
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    answered = socket.waitForReadyRead(ANSWER_TIMEOUT_MS) and bytes(socket.readAll().data()).strip() == OK
    socket.disconnectFromServer()
    if not answered and sys.stderr is not None:
        print("qwen-desktop: already running; it did not answer yet", file=sys.stderr)
    return True


def _allow_to_take_focus() -> None:
    """Windows lets only the foreground process hand the foreground on: this (just started by the
    user) one lets the running app take it."""
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY


def bring_to_front(window: QWidget) -> None:
    """Show the window again where the user left it: restored if minimized (maximized again if it
    was), raised above other windows and activated."""
    state = window.windowState()
    if state & Qt.WindowState.WindowMinimized:
        if state & Qt.WindowState.WindowMaximized:
            window.showMaximized()
        else:
            window.showNormal()
    elif not window.isVisible():
        window.show()
    window.raise_()
    window.activateWindow()
