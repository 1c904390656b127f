"""`DashScopeServer`: the route tables and dispatch, start/close in a background thread with its
own event loop, scripting, inspection and `/models`."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any, Self

from .batches import _FileBatchRoutes
from .chat import _ChatRoutes
from .connection import _NATIVE_PATH, _OSS_RESULT_PATH, _OSS_UPLOAD_PATH, _REGION_PATH, _Connection
from .connection import _Context, _HttpError, _Request, _Route
from .native import _NativeRoutes
from .protocol import (
    COMPAT_PREFIX,
    DEFAULT_REGION,
    EMBEDDING_MODELS,
    HOST,
    MAX_HEADER_BYTES,
    OTHER_MODELS,
    REGIONS,
    _model_object,
    _native_error,
    new_request_id,
)
from .ratelimit import _RateLimits
from .services import _ServiceRoutes, is_native_embedding
from .records import BatchRecord, ChatReply, ClientGone, EmbeddingReply, NativeTaskRecord, RecordedRequest
from .records import StoredFile, StreamRecord
from .websearch import SEARCH_ENDPOINT, _SearchRoutes


class DashScopeServer(_ChatRoutes, _FileBatchRoutes, _NativeRoutes, _SearchRoutes, _ServiceRoutes, _RateLimits):
    """DashScope-compatible loopback server running in a background thread.

    Settings (see `_ServerBase.__init__`) may be changed from any thread while the server runs.
    """

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self._native_routes: list[_Route] = [
            _Route(
                "POST",
                re.compile(r"^/services/embeddings/text-embedding/text-embedding$"),
                DashScopeServer._handle_native_embedding,
            ),
            _Route("GET", re.compile(r"^/tasks/(?P<task>[^/]+)$"), DashScopeServer._handle_native_task),
            _Route(
                "POST", re.compile(r"^/tasks/(?P<task>[^/]+)/cancel$"), DashScopeServer._handle_native_cancel
            ),
            _Route("GET", re.compile(r"^/uploads$"), DashScopeServer._handle_upload_policy),
            _Route("POST", re.compile("^" + re.escape(SEARCH_ENDPOINT) + "$"),
                   DashScopeServer._handle_native_generation),
            _Route("POST", re.compile(r"^/services/rerank/text-rerank/text-rerank$"), DashScopeServer._handle_rerank),
            _Route("POST", re.compile(r"^/services/aigc/multimodal-generation/generation$"),
                   DashScopeServer._handle_ocr),
        ]
        self._services_init()
        self._routes: list[_Route] = [
            _Route("POST", re.compile(r"^/chat/completions$"), DashScopeServer._handle_chat),
            _Route("POST", re.compile(r"^/embeddings$"), DashScopeServer._handle_embeddings),
            _Route("GET", re.compile(r"^/models$"), DashScopeServer._handle_models),
            _Route("GET", re.compile(r"^/models/(?P<model>[^/]+)$"), DashScopeServer._handle_model),
            _Route("POST", re.compile(r"^/files$"), DashScopeServer._handle_file_upload),
            _Route("GET", re.compile(r"^/files/(?P<file>[^/]+)$"), DashScopeServer._handle_file_info),
            _Route("DELETE", re.compile(r"^/files/(?P<file>[^/]+)$"), DashScopeServer._handle_file_delete),
            _Route("GET", re.compile(r"^/files/(?P<file>[^/]+)/content$"), DashScopeServer._handle_file_content),
            _Route("POST", re.compile(r"^/batches$"), DashScopeServer._handle_batch_create),
            _Route("GET", re.compile(r"^/batches$"), DashScopeServer._handle_batch_list),
            _Route("GET", re.compile(r"^/batches/(?P<batch>[^/]+)$"), DashScopeServer._handle_batch_get),
            _Route("POST", re.compile(r"^/batches/(?P<batch>[^/]+)/cancel$"), DashScopeServer._handle_batch_cancel),
        ]

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> DashScopeServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="dashscope-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise self._startup_error
        return self

    def close(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or not thread.is_alive():
            return
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # loop already closed
                pass
        thread.join(timeout=10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + COMPAT_PREFIX

    def region_base_url(self, region: str) -> str:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}")
        return f"{self.root_url}/{region}{COMPAT_PREFIX}"

    # ---- scripting ------------------------------------------------------------------------

    def script_chat(self, *replies: ChatReply) -> None:
        """Queue replies, consumed one per valid chat request (then the default echo)."""
        with self._lock:
            self._chat_script.extend(replies)

    def script_embeddings(self, *replies: EmbeddingReply) -> None:
        with self._lock:
            self._embedding_script.extend(replies)

    def reset(self) -> None:
        """Forget scripts and recordings (settings stay)."""
        with self._lock:
            self._chat_script.clear()
            self._embedding_script.clear()
            self._search_script.clear()
            self._requests.clear()
            self._streams.clear()

    # ---- inspection -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def streams(self) -> list[StreamRecord]:
        with self._lock:
            return list(self._streams)

    @property
    def connections_opened(self) -> int:
        return self._connections_opened

    @property
    def open_connections(self) -> int:
        return len(self._open_connections)

    def chat_requests(self) -> list[Any]:
        return [r.body for r in self.requests if r.endpoint == "/chat/completions"]

    def embedding_requests(self) -> list[list[str]]:
        """The inputs of every embeddings request, each as a list of strings."""
        inputs: list[list[str]] = []
        for request in self.requests:
            if request.endpoint == "/embeddings" and isinstance(request.body, dict):
                value = request.body.get("input")
                inputs.append([value] if isinstance(value, str) else list(value or []))
            elif is_native_embedding(request):  # the same service through the native endpoint
                inputs.append(list(request.body["input"]["texts"]))
        return inputs

    @property
    def batches(self) -> list[BatchRecord]:
        """Every batch created, oldest first (live objects: read, do not change)."""
        with self._lock:
            return list(self._batches.values())

    @property
    def native_tasks(self) -> list[NativeTaskRecord]:
        with self._lock:
            return list(self._native_tasks.values())

    @property
    def files(self) -> dict[str, StoredFile]:
        """Files held by `/files` (uploads and batch results), by id."""
        with self._lock:
            return dict(self._files)

    @property
    def oss_objects(self) -> dict[str, bytes]:
        """Objects uploaded to the temporary-storage stand-in, by key."""
        with self._lock:
            return dict(self._oss_objects)

    def advance_jobs(self, steps: int = 1) -> None:
        """Move every unfinished batch and native task `steps` steps on (for tests that switch
        `batch_advance_on_get` off and decide themselves when the service makes progress)."""
        with self._lock:
            for _ in range(steps):
                for batch in self._batches.values():
                    self._advance_batch(batch)
                for task in self._native_tasks.values():
                    self._advance_native(task)

    def wait_for_stream_start(self, timeout: float = 5.0, index: int | None = None) -> StreamRecord:
        """Wait until stream number `index` (default: the next new one) has started."""
        with self._lock:
            wanted = len(self._streams) if index is None else index
            if not self._lock.wait_for(lambda: len(self._streams) > wanted, timeout):
                raise TimeoutError(f"stream {wanted} did not start within {timeout} s")
            return self._streams[wanted]

    def wait_for_stream_end(self, timeout: float = 5.0, index: int = -1) -> StreamRecord:
        """Wait until the stream at `index` (default: the latest) has ended; return it."""

        def ended() -> bool:
            try:
                return self._streams[index].ended
            except IndexError:
                return False

        with self._lock:
            if not self._lock.wait_for(ended, timeout):
                raise TimeoutError(f"stream {index} did not end within {timeout} s")
            return self._streams[index]

    async def wait_for_stream_end_async(self, timeout: float = 5.0, index: int = -1) -> StreamRecord:
        """The same, without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for_stream_end, timeout, index)

    # ---- thread and loop ------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
        finally:
            self._ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            self._on_connection, HOST, self._requested_port, limit=MAX_HEADER_BYTES
        )
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for conn in list(self._open_connections):
                conn.writer.transport.abort()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()
            for _ in range(3):  # let transports run connection_lost and close their sockets
                await asyncio.sleep(0)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = _Connection(reader, writer)
        self._tasks.add(task)
        self._open_connections.add(conn)
        self._connections_opened += 1
        try:
            await self._serve_connection(conn)
        except (ClientGone, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # server shutdown
        finally:
            self._open_connections.discard(conn)
            self._tasks.discard(task)
            if writer.transport.is_closing() or conn.gone.is_set():
                writer.transport.abort()
            else:
                writer.close()

    async def _serve_connection(self, conn: _Connection) -> None:
        while True:
            try:
                request = await self._read_request(conn)
            except _HttpError as exc:
                await self._send_error(conn, exc.status, None, message=str(exc), keep_alive=False)
                return
            if request is None:
                return
            keep_alive = await self._dispatch(conn, request)
            if not keep_alive or not request.keep_alive:
                return

    # ---- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, conn: _Connection, request: _Request) -> bool:
        """Answer one request; return False when the connection must close."""
        request_id = new_request_id()
        compat = _REGION_PATH.match(request.path)
        region = (compat.group("region") or DEFAULT_REGION) if compat else None
        endpoint = (compat.group("endpoint") or "/") if compat else None
        self._record(request, region, endpoint)
        if self.latency > 0:
            await asyncio.sleep(self.latency)

        if request.path == _OSS_UPLOAD_PATH or _OSS_RESULT_PATH.match(request.path):
            # The stand-in for Alibaba Cloud OSS: no DashScope key; the policy / URL is the permission.
            await self._handle_oss(conn, request, request_id)
            return not conn.closing
        if native := _NATIVE_PATH.match(request.path):
            native_endpoint = native.group("endpoint") or "/"
            route, match, _ = self._find_route(request.method, native_endpoint, self._native_routes)
            if route is None or match is None:  # what the real service does for the OpenAI client
                await self._send(conn, 404, b"", request_id, content_type=None)
                return True
            native_region = native.group("region") or DEFAULT_REGION
            if not self._authorized(request, native_region):
                await self._send_json(conn, 401, _native_error("InvalidApiKey", "Invalid API-key provided.",
                                                               request_id), request_id)
                return True
            await route.handler(self, _Context(conn, request, native_region, native_endpoint, match, request_id))
            return not conn.closing
        if compat is None or region is None or endpoint is None:
            return await self._send_error(
                conn, 404, "not_found", request_id=request_id, message=f"Path {request.path} not found."
            )
        route, match, method_allowed = self._find_route(request.method, endpoint)
        if route is None or match is None:
            if method_allowed:
                return await self._send_error(conn, 405, "method_not_allowed", request_id=request_id)
            return await self._send_error(
                conn, 404, "not_found", request_id=request_id, message=f"Path {request.path} not found."
            )
        if not self._authorized(request, region):
            return await self._send_error(conn, 401, "invalid_api_key", request_id=request_id)
        context = _Context(conn, request, region, endpoint, match, request_id)
        if await self._within_rate_limit(context):
            await route.handler(self, context)
        return not conn.closing

    def _find_route(
        self, method: str, endpoint: str, routes: list[_Route] | None = None
    ) -> tuple[_Route | None, re.Match[str] | None, bool]:
        path_matched = False
        for route in self._routes if routes is None else routes:
            match = route.pattern.match(endpoint)
            if match is None:
                continue
            path_matched = True
            if route.method == method:
                return route, match, True
        return None, None, path_matched

    def _authorized(self, request: _Request, region: str) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        keys = self.region_keys.get(region, self.valid_keys)
        return scheme.lower() == "bearer" and key.strip() in keys

    def _record(self, request: _Request, region: str | None, endpoint: str | None) -> None:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=dict(request.headers),
            body=request.body,
            raw_body=request.raw_body,
            region=region,
            endpoint=endpoint,
            time=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)

    # ---- /models --------------------------------------------------------------------------

    def model_ids(self) -> list[str]:
        return sorted(self.known_models) + list(EMBEDDING_MODELS) + list(OTHER_MODELS)

    async def _handle_models(self, ctx: _Context) -> None:
        data = [_model_object(model) for model in self.model_ids()]
        await self._send_json(ctx.conn, 200, {"object": "list", "data": data}, ctx.request_id)

    async def _handle_model(self, ctx: _Context) -> None:
        model = ctx.match.group("model")
        if model not in self.model_ids():
            await self._send_error(
                ctx.conn,
                404,
                "model_not_found",
                request_id=ctx.request_id,
                message=f"The model `{model}` does not exist or you do not have access to it.",
            )
            return
        await self._send_json(ctx.conn, 200, _model_object(model), ctx.request_id)
