"""The HTTP wire layer: a buffered connection that notices the client going away, the parsed
request and route types, response heads, chunked SSE writing and multipart parsing."""

from __future__ import annotations

import asyncio
import email.utils
import http
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any

from .protocol import COMPAT_PREFIX, MAX_BODY_BYTES, MAX_HEADER_BYTES, REGIONS, SPLIT_WRITE_PAUSE
from .records import ClientGone

if TYPE_CHECKING:
    from .server import DashScopeServer


def sse_event(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def split_event(event: bytes) -> list[bytes]:
    """Cut an SSE event mid "data:" prefix and mid JSON."""
    middle = max(4, len(event) // 2)
    return [piece for piece in (event[:3], event[3:middle], event[middle:]) if piece]


# --------------------------------------------------------------------------------------------
# Connection: a tiny buffered reader that can also watch for the client going away
# --------------------------------------------------------------------------------------------


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.eof = False
        self.gone = asyncio.Event()  # the client closed or reset the connection

    async def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.reader.read(65536)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self.eof = True
            self.gone.set()
            return False
        self.buffer += data
        return True

    async def read_head(self) -> bytes | None:
        """Bytes up to and including the blank line ending the headers; None on clean EOF."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buffer[: end + 4])
                del self.buffer[: end + 4]
                return head
            if len(self.buffer) > MAX_HEADER_BYTES:
                raise _HttpError(431, "headers too large")
            if not await self._fill():
                if self.buffer.strip():
                    raise _HttpError(400, "truncated request")
                return None

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not await self._fill():
                raise ClientGone()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_HEADER_BYTES:
                raise _HttpError(400, "line too long")
            if not await self._fill():
                raise ClientGone()
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    async def watch(self) -> None:
        """Read ahead until EOF so `gone` is set as soon as the client hangs up."""
        while len(self.buffer) <= MAX_BODY_BYTES and await self._fill():
            pass

    async def discard(self, size: int, timeout: float) -> None:
        """Swallow up to `size` unread bytes so closing does not reset the connection."""
        deadline = time.monotonic() + timeout
        received = len(self.buffer)
        self.buffer.clear()
        while received < size and (remaining := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(self.reader.read(1 << 20), remaining)
            except (TimeoutError, ConnectionError, OSError):
                return
            if not data:
                return
            received += len(data)

    @property
    def closing(self) -> bool:
        return self.gone.is_set() or self.writer.transport.is_closing()

    def write(self, data: bytes) -> None:
        if self.closing:
            raise ClientGone()
        self.writer.write(data)

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            self.gone.set()
            raise ClientGone() from exc

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake up (raising ClientGone) as soon as the client disconnects."""
        if self.closing:
            raise ClientGone()
        if seconds <= 0:
            await asyncio.sleep(0)
        else:
            try:
                await asyncio.wait_for(self.gone.wait(), seconds)
            except TimeoutError:
                pass
        if self.closing:
            raise ClientGone()


class _HttpError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    query: str
    version: str
    headers: dict[str, str]
    raw_body: bytes
    body: Any

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


@dataclass(slots=True)
class _Context:
    """What a route handler gets."""

    conn: _Connection
    request: _Request
    region: str
    endpoint: str
    match: re.Match[str]
    request_id: str


_Handler = Callable[["DashScopeServer", _Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]  # matched against the endpoint (path below /compatible-mode/v1)
    handler: _Handler


_REGION_PATH = re.compile(
    r"^(?:/(?P<region>" + "|".join(REGIONS) + r"))?" + re.escape(COMPAT_PREFIX) + r"(?P<endpoint>/.*)?$"
)
_NATIVE_PATH = re.compile(
    r"^(?:/(?P<region>" + "|".join(REGIONS) + r"))?/api/v1(?P<endpoint>/.*)?$"
)
_OSS_UPLOAD_PATH = "/oss-upload"
_OSS_RESULT_PATH = re.compile(r"^/oss-results/(?P<name>[A-Za-z0-9._-]+)$")


class _SseWriter:
    """Writes SSE events as HTTP chunks, honouring delays, split writes and batching."""

    def __init__(self, conn: _Connection, delay: float, split: bool, batch: int) -> None:
        self._conn = conn
        self._delay = delay
        self._split = split
        self._batch = batch
        self._pending: list[bytes] = []
        self._first = True

    async def event(self, payload: dict[str, Any] | str) -> None:
        if not self._first and self._delay > 0:
            await self.flush()
            await self._conn.pause(self._delay)
        self._first = False
        data = sse_event(payload)
        if self._split:
            for number, piece in enumerate(split_event(data)):
                if number:
                    await self._conn.pause(SPLIT_WRITE_PAUSE)
                self._conn.write(_http_chunk(piece))
                await self._conn.drain()
            return
        self._pending.append(data)
        if len(self._pending) >= self._batch:
            await self.flush()
        elif self._conn.closing:
            raise ClientGone()

    async def raw(self, data: bytes) -> None:
        """Write bytes as they are (one HTTP chunk), for streams that break the SSE rules."""
        await self.flush()
        if data:  # an empty HTTP chunk would end the body
            self._conn.write(_http_chunk(data))
            await self._conn.drain()

    async def flush(self) -> None:
        if self._pending:
            self._conn.write(_http_chunk(b"".join(self._pending)))
            self._pending.clear()
            await self._conn.drain()
            await asyncio.sleep(0)  # let the read-ahead notice a hang-up between events
        if self._conn.closing:
            raise ClientGone()

    async def finish(self) -> None:
        await self.flush()
        self._conn.write(b"0\r\n\r\n")
        await self._conn.drain()


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
        f"date: {email.utils.formatdate(usegmt=True)}",
        "server: dashscope-test",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (file name or None, content)."""
    if "multipart/form-data" not in content_type.lower():
        return {}
    message = BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields
