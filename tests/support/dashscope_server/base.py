"""The server's shared state and settings, request reading and response writing; the route
mixins (chat, embeddings, batches, native) and `DashScopeServer` build on it."""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from typing import Any

from .connection import _Connection, _HttpError, _parse_json, _Request, _head
from .protocol import (
    DEFAULT_CHAT_MODELS,
    DEFAULT_CODE_FOR_STATUS,
    LINGER_SECONDS,
    MAX_BODY_BYTES,
    TEST_KEY,
    error_body,
    new_request_id,
)
from .records import (
    BatchRecord,
    ChatReply,
    ClientGone,
    EmbeddingReply,
    NativeTaskRecord,
    RecordedRequest,
    StoredFile,
    StreamRecord,
)


class _ServerBase:
    """State and HTTP plumbing of `DashScopeServer`.

    Settings below may be changed from any thread while the server runs.
    """

    def __init__(self, port: int = 0) -> None:
        self.valid_keys: set[str] = {TEST_KEY}
        self.region_keys: dict[str, set[str]] = {}
        self.known_models: set[str] = set(DEFAULT_CHAT_MODELS)
        self.latency: float = 0.0  # seconds before any response
        self.default_chunk_delay: float = 0.0  # between SSE events of unscripted replies
        self.max_input_tokens: int | None = None  # chat context limit (approximate tokens)
        self.embedding_cap: int | None = None  # overrides the per-model input cap
        self.embedding_latency: float = 0.0  # seconds per embeddings request
        self.shuffle_embeddings: bool = False  # answer `data` out of index order
        # Offline embedding (batches and native tasks):
        self.batch_advance_on_get: bool = True  # each GET of a batch / task moves it one step
        self.batch_max_lines: int = 50_000  # per input file
        self.batch_max_bytes: int = 500 * 1000 * 1000  # per input file (MAX_BODY_BYTES caps uploads)
        self.batch_unsupported_models: set[str] = set()  # 404 "not supported by the Batch API"
        self.batch_validation_error: str | None = None  # new batches fail validation with this
        self.batch_fail_texts: set[str] = set()  # inputs containing one of these fail (error file)
        self.native_result_gzip: bool = True  # native results as .txt.gz (else plain .txt)

        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.Condition()
        self._chat_script: collections.deque[ChatReply] = collections.deque()
        self._embedding_script: collections.deque[EmbeddingReply] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._streams: list[StreamRecord] = []
        self._connections_opened = 0
        self._open_connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._files: dict[str, StoredFile] = {}
        self._batches: dict[str, BatchRecord] = {}
        self._native_tasks: dict[str, NativeTaskRecord] = {}
        self._upload_policies: dict[str, str] = {}  # signature -> upload_dir
        self._oss_objects: dict[str, bytes] = {}  # key -> content
        self._oss_results: dict[str, bytes] = {}  # name -> content

    # ---- HTTP parsing ---------------------------------------------------------------------

    async def _read_request(self, conn: _Connection) -> _Request | None:
        head = await conn.read_head()
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _HttpError(400, "bad request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _HttpError(400, "bad header line")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        path, _, query = target.partition("?")
        raw_body = await self._read_body(conn, headers)
        return _Request(method.upper(), path, query, version, headers, raw_body, _parse_json(raw_body))

    async def _read_body(self, conn: _Connection, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._read_chunked_body(conn)
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _HttpError(400, "bad content-length") from None
        if length > MAX_BODY_BYTES:
            await self._send_error(conn, 413, None, keep_alive=False)
            await conn.discard(length, LINGER_SECONDS)
            raise ClientGone()
        return await conn.read_exactly(length) if length > 0 else b""

    async def _read_chunked_body(self, conn: _Connection) -> bytes:
        body = bytearray()
        while True:
            size_line = await conn.read_line()
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _HttpError(400, "bad chunk size") from None
            if size == 0:
                while await conn.read_line():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                await self._send_error(conn, 413, None, keep_alive=False)
                raise ClientGone()
            body += await conn.read_exactly(size)
            await conn.read_line()

    # ---- response writing -----------------------------------------------------------------

    async def _send(
        self,
        conn: _Connection,
        status: int,
        body: bytes,
        request_id: str,
        *,
        content_type: str | None = "application/json",
        keep_alive: bool = True,
    ) -> bool:
        headers = {"content-length": str(len(body)), "x-request-id": request_id}
        if content_type:
            headers["content-type"] = content_type
        if not keep_alive:
            headers["connection"] = "close"
        conn.write(_head(status, headers) + body)
        await conn.drain()
        return keep_alive

    async def _send_json(self, conn: _Connection, status: int, payload: Any, request_id: str) -> bool:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return await self._send(conn, status, body, request_id)

    async def _send_error(
        self,
        conn: _Connection,
        status: int,
        code: str | None,
        *,
        message: str | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        keep_alive: bool = True,
    ) -> bool:
        request_id = request_id or new_request_id()
        code = code or DEFAULT_CODE_FOR_STATUS.get(status, "invalid_parameter_error")
        payload = error_body(code, message, error_type, request_id)
        body = json.dumps(payload, ensure_ascii=False).encode()
        return await self._send(conn, status, body, request_id, keep_alive=keep_alive)
