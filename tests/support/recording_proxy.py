"""A tiny forwarding HTTP proxy on 127.0.0.1 that records the Proxy-Authorization it is sent.

Plain-http requests only (what a client sends a proxy for an http:// base URL: the absolute URL in
the request line), forwarded to 127.0.0.1 only, one request per connection. With ``require`` set,
a request without exactly that header is answered 407, as a real proxy would.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from types import TracebackType
from urllib.parse import urlsplit


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class _Handler(socketserver.StreamRequestHandler):
    server: RecordingProxy

    def handle(self) -> None:
        request_line = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        headers: list[tuple[str, str]] = []
        while (line := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        auth = next((v for n, v in headers if n.lower() == "proxy-authorization"), None)
        with self.server.lock:
            self.server.authorizations.append(auth)
        if self.server.require is not None and auth != self.server.require:
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            return
        method, url, version = request_line.split(" ", 2)
        target = urlsplit(url)
        assert target.hostname == "127.0.0.1", f"the test proxy forwards to 127.0.0.1 only, not {url}"
        length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
        body = self.rfile.read(length) if length else b""
        path = target.path + (f"?{target.query}" if target.query else "")
        kept = [(n, v) for n, v in headers
                if n.lower() not in ("proxy-authorization", "proxy-connection", "connection")]
        head = f"{method} {path or '/'} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept)
        head += "Connection: close\r\n\r\n"
        with socket.create_connection((target.hostname, target.port or 80), timeout=60) as upstream:
            upstream.sendall(head.encode("latin-1") + body)
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)
                self.wfile.flush()


class RecordingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, require: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.require = require
        self.authorizations: list[str | None] = []  # one per request, None when none was sent
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)
