"""A loopback HTTP server that speaks DashScope's OpenAI-compatible protocol.

Standard library only, so it also runs next to a frozen build. It emulates what
`shared/reference/dashscope-api.md` describes: regions and per-region keys, streaming chat
with reasoning deltas and a `choices: []` usage chunk, DashScope error bodies, the thinking
rules, the embedding batch cap and `/models`. Tests script replies (slow streams, split
writes, mid-stream errors, dropped connections) and inspect what the client sent.

Offline embedding (reference §5) is emulated too:

- OpenAI-compatible Batch API: `/files` (multipart upload with `purpose=batch`, metadata,
  `/content`, delete) and `/batches` (create, list, retrieve, cancel). A batch moves
  validating → in_progress → finalizing → completed, one step per GET of it while
  `batch_advance_on_get` is true (deterministic tests, no clock), or when a test calls
  `advance_jobs()`. Completed batches get an output file and, for lines that failed, an error
  file; `request_counts` follow. Cancel goes cancelling → cancelled on the next step.
- Native asynchronous task API: `POST /api/v1/services/embeddings/text-embedding/text-embedding`
  with `X-DashScope-Async: enable` creates a task; `GET /api/v1/tasks/{id}` moves it PENDING →
  RUNNING → SUCCEEDED the same way, then names the result file's URL (gzip-compressed while
  `native_result_gzip` is true); `POST /api/v1/tasks/{id}/cancel` cancels a PENDING task.
- Temporary storage: `GET /api/v1/uploads?action=getPolicy&model=…` hands out an upload policy
  whose `upload_host` is this server's `/oss-upload` (a form POST, like OSS); the uploaded object is
  then addressable as `oss://{key}` by the task endpoint when the request carries
  `X-DashScope-OssResourceResolve: enable`.

The server runs its own event loop in a background thread, so synchronous tests, asyncio
tests and Qt (qasync) tests can all use it::

    with DashScopeServer() as srv:
        srv.script_chat(ChatReply(content="Hi!", chunk_delay=0.05))
        client = openai.AsyncOpenAI(base_url=srv.base_url, api_key=TEST_KEY, max_retries=0)

Command line (packaging smoke test, benchmarks)::

    python -m tests.support.dashscope_server [--port 0] [--key KEY] [--latency-ms N]
                                             [--tokens-per-second N]

prints one line `BASE_URL=http://127.0.0.1:PORT/compatible-mode/v1` and serves until
SIGTERM/SIGINT. All recorded times are `time.monotonic()` values.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import email.utils
import functools
import gzip
import hashlib
import http
import json
import math
import re
import signal
import struct
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from itertools import pairwise
from typing import Any, Self

TEST_KEY = "sk-test-0000000000000000"
HOST = "127.0.0.1"
REGIONS = ("beijing", "singapore", "us", "hongkong")
DEFAULT_REGION = "beijing"
COMPAT_PREFIX = "/compatible-mode/v1"

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
SPLIT_WRITE_PAUSE = 0.002  # seconds between the pieces of a split SSE event
LINGER_SECONDS = 2.0  # how long to swallow an unread request body before closing

DEFAULT_CHAT_MODELS: tuple[str, ...] = (
    "qwen-plus",
    "qwen-plus-latest",
    "qwen-plus-2025-07-28",
    "qwen-max",
    "qwen-max-latest",
    "qwen-flash",
    "qwen-turbo",
    "qwen-turbo-latest",
    "qwen3-max",
    "qwen3.5-plus",
    "qwen3-32b",
    "qwen3-235b-a22b",
    "qwen3-235b-a22b-instruct-2507",
    "qwen3-235b-a22b-thinking-2507",
    "qwq-plus",
    "qwq-32b",
)
EMBEDDING_MODELS: dict[str, tuple[tuple[int, ...], int, int, int]] = {
    # model: (allowed dimensions, default dimensions, max inputs per request, max tokens per input)
    "text-embedding-v4": ((2048, 1536, 1024, 768, 512, 256, 128, 64), 1024, 10, 8192),
    "text-embedding-v3": ((1024, 768, 512), 1024, 10, 8192),
    "text-embedding-v2": ((1536,), 1536, 25, 2048),
    "text-embedding-v1": ((1536,), 1536, 25, 2048),
}
OTHER_MODELS: tuple[str, ...] = (
    "qwen-vl-max",
    "qwen-vl-plus",
    "qwen-audio-turbo",
    "cosyvoice-v2",
    "paraformer-realtime-v2",
    "wanx2.1-t2i-turbo",
    "deepseek-r1",
    "deepseek-v3",
    "moonshot-kimi-k2-instruct",
)

# code -> (type, default message); types follow what DashScope sends for each code.
ERROR_DEFAULTS: dict[str, tuple[str, str]] = {
    "invalid_parameter_error": ("invalid_request_error", "Invalid parameter."),
    "InvalidParameter": ("InvalidParameter", "<400> InternalError.Algo.InvalidParameter: Invalid parameter."),
    "data_inspection_failed": ("data_inspection_failed", "Input data may contain inappropriate content."),
    "Arrearage": ("Arrearage", "Access denied, please make sure your account is in good standing."),
    "invalid_api_key": ("invalid_request_error", "Incorrect API key provided. "),
    "AccessDenied": ("AccessDenied", "Access denied."),
    "AccessDenied.Unpurchased": (
        "AccessDenied.Unpurchased",
        "Access to model denied. Please make sure you are eligible for using the model.",
    ),
    "insufficient_quota": (
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "model_not_found": ("invalid_request_error", "The model does not exist or you do not have access to it."),
    "limit_requests": ("limit_requests", "Requests rate limit exceeded, please try again later."),
    "limit_burst_rate": (
        "limit_burst_rate",
        "Request rate increased too quickly. To ensure system stability, please adjust your client "
        "logic to scale requests more smoothly over time.",
    ),
    "internal_error": (
        "internal_error",
        "An internal error has occured, please try again later or contact service support.",
    ),
    "ModelUnavailable": ("ModelUnavailable", "Model is unavailable, please try again later."),
    "ModelServingError": (
        "ModelServingError",
        "Too many requests. Your requests are being throttled due to system capacity limits.",
    ),
    "not_found": ("invalid_request_error", "Not found."),
    "method_not_allowed": ("invalid_request_error", "Method not allowed."),
    "request_too_large": ("invalid_request_error", "Request Entity Too Large"),
}
DEFAULT_CODE_FOR_STATUS: dict[int, str] = {
    400: "invalid_parameter_error",
    401: "invalid_api_key",
    403: "AccessDenied",
    404: "model_not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "limit_requests",
    500: "internal_error",
    503: "ModelUnavailable",
}


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One scripted answer to a chat request.

    `content=None` keeps the default echo text; `reasoning=None` keeps the default (generated
    reasoning when the request is in thinking mode), `reasoning=""` sends none. `tokens` /
    `reasoning_tokens` give the exact delta pieces (default: ~4-character slices).
    `error_after` / `disconnect_after` count text deltas (reasoning + content), not the role
    chunk; in a non-stream call `disconnect_after` drops the connection without an answer.
    A `status` other than 200 answers with a DashScope error body before any stream starts.
    `chunk_delay=None` uses the server's `default_chunk_delay`.
    """

    content: str | None = None
    reasoning: str | None = None
    tokens: list[str] | None = None
    reasoning_tokens: list[str] | None = None
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    chunk_delay: float | None = None  # None: the server's default_chunk_delay
    first_byte_delay: float = 0.0
    split_writes: bool = False
    batch_events_per_write: int = 1
    status: int = 200
    error_code: str | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_after: int | None = None
    disconnect_after: int | None = None

    @classmethod
    def error(
        cls, status: int, code: str | None = None, message: str | None = None, error_type: str | None = None
    ) -> ChatReply:
        """An HTTP error reply with a DashScope error body (defaults follow the status)."""
        return cls(status=status, error_code=code, error_message=message, error_type=error_type)


@dataclass(frozen=True, slots=True)
class EmbeddingReply:
    """One scripted outcome for an embeddings request: wait `delay`, then answer normally
    (status 200) or with a DashScope error body."""

    status: int = 200
    code: str | None = None
    message: str | None = None
    error_type: str | None = None
    delay: float = 0.0

    @classmethod
    def error(
        cls, status: int, code: str | None = None, message: str | None = None, delay: float = 0.0
    ) -> EmbeddingReply:
        return cls(status=status, code=code, message=message, delay=delay)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None when absent / not JSON
    raw_body: bytes
    region: str | None  # None for paths outside the compatible-mode API
    endpoint: str | None  # path below /compatible-mode/v1, e.g. "/chat/completions"
    time: float  # time.monotonic()


@dataclass(slots=True)
class StreamRecord:
    """Lifecycle of one streamed chat response, updated live by the server thread."""

    request_id: str
    model: str
    started_at: float  # when the request was accepted (before any delay)
    ended_at: float | None = None
    chunks_sent: int = 0  # chat.completion.chunk events written (role, deltas, finish, usage)
    text_chunks_sent: int = 0  # reasoning/content deltas written
    client_disconnected: bool = False
    outcome: str = "streaming"  # completed | error_event | server_disconnect | client_disconnect | shutdown

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


BATCH_STEPS = ("validating", "in_progress", "finalizing", "completed")
NATIVE_STEPS = ("PENDING", "RUNNING", "SUCCEEDED")
NATIVE_EMBEDDING_MODELS: dict[str, tuple[str, int, int]] = {
    # model: (the live model whose vectors it shares, dimensions, max tokens per line)
    "text-embedding-async-v2": ("text-embedding-v2", 1536, 2048),
    "text-embedding-async-v1": ("text-embedding-v1", 1536, 2048),
}
NATIVE_MAX_LINES = 100_000


@dataclass(slots=True)
class StoredFile:
    """A file uploaded to `/files` or produced by a batch."""

    id: str
    filename: str
    purpose: str  # "batch" for uploads, "batch_output" for results
    data: bytes
    created_at: int


@dataclass(slots=True)
class BatchRecord:
    """One batch as the server sees it (inspect with `DashScopeServer.batches`)."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    model: str
    lines: list[dict[str, Any]]
    created_at: int
    status: str = "validating"
    times: dict[str, int] = field(default_factory=dict)  # in_progress_at, completed_at, ...
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    errors: list[dict[str, Any]] | None = None
    cancel_requested: bool = False


@dataclass(slots=True)
class NativeTaskRecord:
    """One native asynchronous embedding task (inspect with `DashScopeServer.native_tasks`)."""

    id: str
    model: str
    texts: list[str]
    text_type: str | None
    submitted_at: float
    status: str = "PENDING"
    result_name: str | None = None
    code: str | None = None
    message: str | None = None
    tokens: int = 0


class ClientGone(Exception):
    """The client closed the connection while the server was still answering."""


# --------------------------------------------------------------------------------------------
# Protocol helpers (pure functions)
# --------------------------------------------------------------------------------------------


def approx_tokens(text: str) -> int:
    """A crude token estimate: two characters per token, at least one."""
    return max(1, math.ceil(len(text) / 2))


def split_tokens(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_body(
    code: str,
    message: str | None = None,
    error_type: str | None = None,
    request_id: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    default_type, default_message = ERROR_DEFAULTS.get(code, ("invalid_request_error", code))
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": error_type or default_type,
            "param": param,
            "code": code,
        },
        "id": f"chatcmpl-{uuid.uuid4()}",
        "request_id": request_id or new_request_id(),
    }


def message_text(content: Any) -> str:
    """Text of a message `content`: a string or a list of OpenAI content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def thinking_mode(model: str) -> str:
    """'none', 'hybrid_off', 'hybrid_on' or 'only' (see the reference's capability list)."""
    if model.startswith("qwq") or "-thinking" in model:
        return "only"
    if model.startswith("qwen-max") or "-instruct" in model:
        return "none"
    if re.match(r"qwen3(\.\d+)?-\d", model) or re.match(r"qwen3\.\d+-", model):
        return "hybrid_on"
    return "hybrid_off"


def embedding_vector(text: str, model: str, dimensions: int) -> list[float]:
    """A deterministic, L2-normalised vector from hashed words and character 1-/2-grams.

    Texts sharing words or characters get a higher cosine similarity; the model name seeds
    the hash, so vectors of different models are not comparable (as in reality).
    """
    vector = [0.0] * dimensions
    for feature, weight in _features(text.lower()):
        bucket, sign = _feature_slot(model, dimensions, feature)
        vector[bucket] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def _features(text: str) -> Iterator[tuple[str, float]]:
    for char in text:
        if not char.isspace():
            yield "c:" + char, 0.5
    for first, second in pairwise(text):
        yield "b:" + first + second, 1.0
    for word in re.findall(r"\w+", text):
        yield "w:" + word, 2.0


@functools.lru_cache(maxsize=1 << 16)
def _feature_slot(model: str, dimensions: int, feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(f"{model}|{feature}".encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "little")
    return number % dimensions, (1.0 if (number >> 63) & 1 else -1.0)


def encode_base64_floats(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


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


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class DashScopeServer:
    """DashScope-compatible loopback server running in a background thread.

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
        ]
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

    # ---- /chat/completions ----------------------------------------------------------------

    async def _handle_chat(self, ctx: _Context) -> None:
        body = ctx.request.body
        problem = self._chat_problem(body)
        if problem is not None:
            status, code, message = problem
            await self._send_error(ctx.conn, status, code, message=message, request_id=ctx.request_id)
            return
        with self._lock:
            reply = self._chat_script.popleft() if self._chat_script else ChatReply()
        if body.get("stream"):
            await self._stream_chat(ctx, body, reply)
        else:
            await self._answer_chat(ctx, body, reply)

    def _chat_problem(self, body: Any) -> tuple[int, str, str] | None:
        """The (status, code, message) DashScope would reject this request with, if any."""
        if not isinstance(body, dict):
            return 400, "invalid_parameter_error", "Request body is not valid JSON."
        model = body.get("model")
        if not isinstance(model, str) or model not in self.known_models:
            return (
                404,
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: messages must not be empty",
            )
        temperature = body.get("temperature")
        if isinstance(temperature, (int, float)) and not 0 <= temperature < 2:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: Temperature should be in [0.0, 2.0)",
            )
        top_p = body.get("top_p")
        if isinstance(top_p, (int, float)) and not 0 < top_p <= 1:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: Range of top_p should be (0.0, 1.0]",
            )
        problem = _thinking_problem(model, body)
        if problem is not None:
            return problem
        if self.max_input_tokens is not None and _prompt_tokens(messages) > self.max_input_tokens:
            return (
                400,
                "invalid_parameter_error",
                "<400> InternalError.Algo.InvalidParameter: "
                f"Range of input length should be [1, {self.max_input_tokens}]",
            )
        return None

    def _plan(self, body: dict[str, Any], reply: ChatReply) -> _ChatPlan:
        """Decide the reasoning/content pieces, finish reason and usage of a reply."""
        model = body["model"]
        thinking = _thinking_enabled(model, body)
        user_text = last_user_text(body["messages"])
        content_pieces = (
            list(reply.tokens)
            if reply.tokens is not None
            else split_tokens(reply.content if reply.content is not None else f"Echo: {user_text}")
        )
        if reply.reasoning_tokens is not None:
            reasoning_pieces = list(reply.reasoning_tokens)
        elif reply.reasoning is not None:
            reasoning_pieces = split_tokens(reply.reasoning)
        elif thinking:
            reasoning_pieces = split_tokens(f"The user wrote {user_text!r}. I will echo it back.")
        else:
            reasoning_pieces = []
        budget = body.get("thinking_budget")
        if isinstance(budget, int) and budget >= 0:
            reasoning_pieces = reasoning_pieces[:budget]
        finish_reason = reply.finish_reason
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens >= 0 and len(content_pieces) > max_tokens:
            content_pieces = content_pieces[:max_tokens]
            finish_reason = "length"
        usage = (
            reply.usage
            if reply.usage is not None
            else _usage(
                _prompt_tokens(body["messages"]),
                len(content_pieces),
                len(reasoning_pieces),
                with_reasoning=thinking or bool(reasoning_pieces),
            )
        )
        return _ChatPlan(
            chat_id=f"chatcmpl-{uuid.uuid4()}",
            model=model,
            created=int(time.time()),
            thinking_shape=thinking or bool(reasoning_pieces),
            reasoning=reasoning_pieces,
            content=content_pieces,
            finish_reason=finish_reason,
            usage=usage,
        )

    async def _reply_error_if_scripted(self, ctx: _Context, reply: ChatReply) -> bool:
        if reply.status == 200:
            return False
        await self._send_error(
            ctx.conn,
            reply.status,
            reply.error_code,
            message=reply.error_message,
            error_type=reply.error_type,
            request_id=ctx.request_id,
        )
        return True

    async def _answer_chat(self, ctx: _Context, body: dict[str, Any], reply: ChatReply) -> None:
        await asyncio.sleep(reply.first_byte_delay)
        if await self._reply_error_if_scripted(ctx, reply):
            return
        if reply.disconnect_after is not None:
            ctx.conn.writer.transport.abort()
            raise ClientGone()
        plan = self._plan(body, reply)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        if plan.reasoning:
            message["reasoning_content"] = "".join(plan.reasoning)
        payload = {
            "choices": [
                {"message": message, "finish_reason": plan.finish_reason, "index": 0, "logprobs": None}
            ],
            "object": "chat.completion",
            "usage": plan.usage,
            "created": plan.created,
            "system_fingerprint": None,
            "model": plan.model,
            "id": plan.chat_id,
        }
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    async def _stream_chat(self, ctx: _Context, body: dict[str, Any], reply: ChatReply) -> None:
        record = StreamRecord(request_id=ctx.request_id, model=body["model"], started_at=time.monotonic())
        self._add_stream(record)
        watcher = asyncio.create_task(ctx.conn.watch())
        outcome = "shutdown"
        try:
            await ctx.conn.pause(reply.first_byte_delay)
            if await self._reply_error_if_scripted(ctx, reply):
                outcome = "http_error"
                return
            outcome = await self._write_stream(ctx, body, reply, record)
        except ClientGone:
            outcome = "client_disconnect"
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            self._end_stream(record, outcome)

    async def _write_stream(
        self, ctx: _Context, body: dict[str, Any], reply: ChatReply, record: StreamRecord
    ) -> str:
        plan = self._plan(body, reply)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        delay = reply.chunk_delay if reply.chunk_delay is not None else self.default_chunk_delay
        writer = _SseWriter(ctx.conn, delay, reply.split_writes, max(1, reply.batch_events_per_write))
        ctx.conn.write(
            _head(
                200,
                {
                    "content-type": "text/event-stream;charset=UTF-8",
                    "transfer-encoding": "chunked",
                    "x-request-id": ctx.request_id,
                    "cache-control": "no-cache",
                },
            )
        )
        await ctx.conn.drain()

        async def send_chunk(
            delta: dict[str, Any] | None,
            finish_reason: str | None = None,
            usage: dict[str, Any] | None = None,
        ) -> None:
            await writer.event(plan.chunk(delta, finish_reason, usage))
            record.chunks_sent += 1
            self._notify()

        await send_chunk(
            {"role": "assistant", "content": None, "reasoning_content": ""}
            if plan.thinking_shape
            else {"role": "assistant", "content": ""}
        )
        for kind, piece in plan.text_deltas():
            if reply.error_after is not None and record.text_chunks_sent >= reply.error_after:
                await writer.event(_stream_error(reply, ctx.request_id))
                await writer.finish()
                return "error_event"
            if reply.disconnect_after is not None and record.text_chunks_sent >= reply.disconnect_after:
                await writer.flush()
                ctx.conn.writer.transport.abort()
                return "server_disconnect"
            if kind == "reasoning":
                await send_chunk({"content": None, "reasoning_content": piece})
            elif plan.thinking_shape:
                await send_chunk({"content": piece, "reasoning_content": None})
            else:
                await send_chunk({"content": piece})
            record.text_chunks_sent += 1
        if reply.error_after is not None:
            await writer.event(_stream_error(reply, ctx.request_id))
            await writer.finish()
            return "error_event"
        if reply.disconnect_after is not None:
            await writer.flush()
            ctx.conn.writer.transport.abort()
            return "server_disconnect"
        await send_chunk({"content": ""}, plan.finish_reason)
        if include_usage:
            await send_chunk(None, usage=plan.usage)
        await writer.event("[DONE]")
        await writer.finish()
        return "completed"

    def _add_stream(self, record: StreamRecord) -> None:
        with self._lock:
            self._streams.append(record)
            self._lock.notify_all()

    def _end_stream(self, record: StreamRecord, outcome: str) -> None:
        with self._lock:
            record.outcome = outcome
            record.client_disconnected = outcome == "client_disconnect"
            record.ended_at = time.monotonic()
            self._lock.notify_all()

    def _notify(self) -> None:
        with self._lock:
            self._lock.notify_all()

    # ---- /embeddings ----------------------------------------------------------------------

    async def _handle_embeddings(self, ctx: _Context) -> None:
        with self._lock:
            scripted = self._embedding_script.popleft() if self._embedding_script else EmbeddingReply()
        await asyncio.sleep(self.embedding_latency + scripted.delay)
        if scripted.status != 200:
            await self._send_error(
                ctx.conn,
                scripted.status,
                scripted.code,
                message=scripted.message,
                error_type=scripted.error_type,
                request_id=ctx.request_id,
            )
            return
        result = self._embed(ctx.request.body)
        if isinstance(result, tuple):
            status, code, message = result
            await self._send_error(ctx.conn, status, code, message=message, request_id=ctx.request_id)
            return
        result["id"] = ctx.request_id
        result["request_id"] = ctx.request_id
        await self._send_json(ctx.conn, 200, result, ctx.request_id)

    def _embed(self, body: Any) -> dict[str, Any] | tuple[int, str, str]:
        """The response payload, or (status, code, message) of the error DashScope would send."""
        invalid = "<400> InternalError.Algo.InvalidParameter: "
        if not isinstance(body, dict):
            return 400, "InvalidParameter", invalid + "Request body is not valid JSON."
        model = body.get("model")
        if model not in EMBEDDING_MODELS:
            return (
                404,
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
            )
        allowed_dims, default_dims, model_cap, max_tokens = EMBEDDING_MODELS[model]
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return (
                400,
                "InvalidParameter",
                invalid + "Value error, contents is neither str nor list of str.: input.contents",
            )
        cap = self.embedding_cap if self.embedding_cap is not None else model_cap
        if len(texts) > cap:
            return (
                400,
                "InvalidParameter",
                invalid + "Value error, batch size is invalid, "
                f"it should not be larger than {cap}.: input.contents",
            )
        if any(not text or approx_tokens(text) > max_tokens for text in texts):
            return 400, "InvalidParameter", invalid + f"Range of input length should be [1, {max_tokens}]"
        dimensions = body.get("dimensions", default_dims)
        if dimensions is None:
            dimensions = default_dims
        if not isinstance(dimensions, int) or dimensions not in allowed_dims:
            choices = ", ".join(str(d) for d in allowed_dims)
            return (
                400,
                "InvalidParameter",
                invalid + f"Value error, dimension should be one of [{choices}]: parameters.dimension",
            )
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            return (
                400,
                "InvalidParameter",
                invalid + "Value error, encoding_format should be float or base64.",
            )
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(text, model, dimensions)
            value: Any = encode_base64_floats(vector) if encoding == "base64" else vector
            data.append({"object": "embedding", "index": index, "embedding": value})
        if self.shuffle_embeddings:
            data.reverse()
        tokens = sum(approx_tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


    # ---- /files (OpenAI-compatible Batch API) ----------------------------------------------

    def _new_file(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile(f"file-batch-{uuid.uuid4().hex[:24]}", filename, purpose, data, int(time.time()))
        with self._lock:
            self._files[stored.id] = stored
        return stored

    @staticmethod
    def _file_object(stored: StoredFile) -> dict[str, Any]:
        return {
            "id": stored.id,
            "object": "file",
            "bytes": len(stored.data),
            "created_at": stored.created_at,
            "filename": stored.filename,
            "purpose": stored.purpose,
            "status": "processed",
            "status_details": None,
        }

    async def _handle_file_upload(self, ctx: _Context) -> None:
        fields = parse_multipart(ctx.request.headers.get("content-type", ""), ctx.request.raw_body)
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        upload = fields.get("file")
        problem: str | None = None
        if purpose != "batch":
            problem = f"Invalid purpose: {purpose!r}. Only 'batch' is supported."
        elif upload is None or not upload[1]:
            problem = "No file was uploaded."
        elif len(upload[1]) > self.batch_max_bytes:
            problem = f"File size exceeds the limit of {self.batch_max_bytes} bytes."
        else:
            problem = self._batch_file_problem(upload[1])
        if problem is not None:
            await self._send_error(ctx.conn, 400, "invalid_parameter_error", message=problem,
                                   request_id=ctx.request_id)
            return
        assert upload is not None
        stored = self._new_file(upload[0] or "input.jsonl", "batch", upload[1])
        await self._send_json(ctx.conn, 200, self._file_object(stored), ctx.request_id)

    def _batch_file_problem(self, data: bytes) -> str | None:
        lines = [line for line in data.split(b"\n") if line.strip()]
        if len(lines) > self.batch_max_lines:
            return f"The file has {len(lines)} lines; at most {self.batch_max_lines} are allowed."
        ids: set[str] = set()
        models: set[str] = set()
        for number, raw in enumerate(lines, start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                return f"Line {number} is not valid JSON."
            if not isinstance(line, dict) or not isinstance(line.get("body"), dict):
                return f"Line {number} has no request body."
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in ids:
                return f"Line {number}: custom_id is missing or not unique."
            ids.add(custom_id)
            if line.get("method") != "POST" or line.get("url") not in ("/v1/embeddings", "/v1/chat/completions"):
                return f"Line {number}: unsupported method or url."
            models.add(str(line["body"].get("model")))
        if len(models) > 1:
            return "All requests in one file must use the same model."
        return None

    async def _handle_file_info(self, ctx: _Context) -> None:
        with self._lock:
            stored = self._files.get(ctx.match.group("file"))
        if stored is None:
            await self._send_error(ctx.conn, 404, "not_found", message="File not found.", request_id=ctx.request_id)
            return
        await self._send_json(ctx.conn, 200, self._file_object(stored), ctx.request_id)

    async def _handle_file_delete(self, ctx: _Context) -> None:
        file_id = ctx.match.group("file")
        with self._lock:
            stored = self._files.pop(file_id, None)
        if stored is None:
            await self._send_error(ctx.conn, 404, "not_found", message="File not found.", request_id=ctx.request_id)
            return
        await self._send_json(ctx.conn, 200, {"id": file_id, "object": "file", "deleted": True}, ctx.request_id)

    async def _handle_file_content(self, ctx: _Context) -> None:
        with self._lock:
            stored = self._files.get(ctx.match.group("file"))
        if stored is None:
            await self._send_error(ctx.conn, 404, "not_found", message="File not found.", request_id=ctx.request_id)
            return
        await self._send(ctx.conn, 200, stored.data, ctx.request_id, content_type="application/octet-stream")

    # ---- /batches ----------------------------------------------------------------------------

    async def _handle_batch_create(self, ctx: _Context) -> None:
        body = ctx.request.body if isinstance(ctx.request.body, dict) else {}
        with self._lock:
            stored = self._files.get(str(body.get("input_file_id")))
        endpoint = body.get("endpoint")
        window = str(body.get("completion_window") or "")
        hours = _window_hours(window)
        if stored is None or stored.purpose != "batch":
            await self._send_error(ctx.conn, 404, "not_found", message="The input file was not found.",
                                   request_id=ctx.request_id)
            return
        if endpoint not in ("/v1/embeddings", "/v1/chat/completions") or hours is None or not 24 <= hours <= 336:
            await self._send_error(ctx.conn, 400, "invalid_parameter_error",
                                   message="endpoint or completion_window is invalid.", request_id=ctx.request_id)
            return
        lines = [json.loads(line) for line in stored.data.split(b"\n") if line.strip()]
        if any(line.get("url") != endpoint for line in lines):
            await self._send_error(ctx.conn, 400, "invalid_parameter_error",
                                   message="The url of every line must match the batch endpoint.",
                                   request_id=ctx.request_id)
            return
        model = str(lines[0]["body"].get("model")) if lines else ""
        if model in self.batch_unsupported_models:
            await self._send_error(ctx.conn, 404, "model_not_supported",
                                   message=f"The provided model `{model}` is not supported by the Batch API.",
                                   request_id=ctx.request_id)
            return
        batch = BatchRecord(
            id=f"batch_{uuid.uuid4()}", input_file_id=stored.id, endpoint=str(endpoint), completion_window=window,
            model=model, lines=lines, created_at=int(time.time()),
        )
        batch.counts["total"] = len(lines)
        with self._lock:
            self._batches[batch.id] = batch
            payload = self._batch_object(batch)
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    async def _handle_batch_list(self, ctx: _Context) -> None:
        with self._lock:
            data = [self._batch_object(b) for b in reversed(list(self._batches.values()))]
        await self._send_json(ctx.conn, 200, {"object": "list", "data": data, "has_more": False}, ctx.request_id)

    async def _handle_batch_get(self, ctx: _Context) -> None:
        with self._lock:
            batch = self._batches.get(ctx.match.group("batch"))
            if batch is not None:
                if self.batch_advance_on_get:
                    self._advance_batch(batch)
                payload = self._batch_object(batch)
        if batch is None:
            await self._send_error(ctx.conn, 404, "not_found", message="Batch not found.", request_id=ctx.request_id)
            return
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    async def _handle_batch_cancel(self, ctx: _Context) -> None:
        with self._lock:
            batch = self._batches.get(ctx.match.group("batch"))
            status = batch.status if batch is not None else None
            if batch is not None and status in ("validating", "in_progress", "finalizing"):
                batch.status = "cancelling"
                batch.cancel_requested = True
                batch.times["cancelling_at"] = int(time.time())
            payload = self._batch_object(batch) if batch is not None else None
        if batch is None:
            await self._send_error(ctx.conn, 404, "not_found", message="Batch not found.", request_id=ctx.request_id)
            return
        if status not in ("validating", "in_progress", "finalizing", "cancelling"):
            await self._send_error(ctx.conn, 400, "invalid_parameter_error",
                                   message=f"Cannot cancel a batch with status {status}.", request_id=ctx.request_id)
            return
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    def _advance_batch(self, batch: BatchRecord) -> None:
        """One step of a batch's life (call with the lock held)."""
        now = int(time.time())
        if batch.status == "cancelling":
            batch.status = "cancelled"
            batch.times["cancelled_at"] = now
            return
        if batch.status not in BATCH_STEPS or batch.status == "completed":
            return
        if batch.status == "validating" and self.batch_validation_error is not None:
            batch.status = "failed"
            batch.times["failed_at"] = now
            batch.errors = [{"code": "invalid_request", "message": self.batch_validation_error,
                             "param": None, "line": None}]
            return
        batch.status = BATCH_STEPS[BATCH_STEPS.index(batch.status) + 1]
        batch.times[f"{batch.status}_at"] = now
        if batch.status == "completed":
            self._run_batch(batch)

    def _run_batch(self, batch: BatchRecord) -> None:
        outputs: list[bytes] = []
        failures: list[bytes] = []
        for line in batch.lines:
            request_id = new_request_id()
            custom_id = line["custom_id"]
            texts = line["body"].get("input")
            texts = [texts] if isinstance(texts, str) else texts or []
            if any(marker in text for marker in self.batch_fail_texts for text in texts if isinstance(text, str)):
                result: dict[str, Any] | tuple[int, str, str] = (500, "internal_error",
                                                                  ERROR_DEFAULTS["internal_error"][1])
            elif batch.endpoint == "/v1/embeddings":
                result = self._embed(line["body"])
            else:
                result = (400, "invalid_parameter_error", "Only embedding batches are emulated.")
            if isinstance(result, tuple):
                status, code, message = result
                record = {"id": f"batch_req_{uuid.uuid4().hex}", "custom_id": custom_id,
                          "response": {"status_code": status, "request_id": request_id,
                                       "body": error_body(code, message, request_id=request_id)},
                          "error": {"code": code, "message": message}}
                failures.append(json.dumps(record, ensure_ascii=False).encode())
                continue
            result["id"] = request_id
            record = {"id": f"batch_req_{uuid.uuid4().hex}", "custom_id": custom_id,
                      "response": {"status_code": 200, "request_id": request_id, "body": result},
                      "error": None}
            outputs.append(json.dumps(record, ensure_ascii=False).encode())
        batch.counts = {"total": len(batch.lines), "completed": len(outputs), "failed": len(failures)}
        if outputs:
            batch.output_file_id = self._new_file(f"{batch.id}_output.jsonl", "batch_output",
                                                  b"\n".join(outputs) + b"\n").id
        if failures:
            batch.error_file_id = self._new_file(f"{batch.id}_error.jsonl", "batch_output",
                                                 b"\n".join(failures) + b"\n").id

    @staticmethod
    def _batch_object(batch: BatchRecord) -> dict[str, Any]:
        times = {f"{name}_at": batch.times.get(f"{name}_at") for name in (
            "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")}
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "model": batch.model,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id,
            "completion_window": batch.completion_window,
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.created_at,
            "expires_at": batch.created_at + (_window_hours(batch.completion_window) or 24) * 3600,
            **times,
            "request_counts": dict(batch.counts),
            "metadata": None,
        }

    # ---- native asynchronous embedding tasks (/api/v1) -------------------------------------

    async def _handle_upload_policy(self, ctx: _Context) -> None:
        query = dict(pair.partition("=")[::2] for pair in ctx.request.query.split("&") if pair)
        if query.get("action") != "getPolicy" or not query.get("model"):
            await self._send_json(ctx.conn, 400, _native_error(
                "InvalidParameter", "action=getPolicy and model are required.", ctx.request_id), ctx.request_id)
            return
        signature = uuid.uuid4().hex
        upload_dir = f"dashscope-instant/{uuid.uuid4().hex}/{time.strftime('%Y-%m-%d')}/{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._upload_policies[signature] = upload_dir
        data = {
            "policy": base64.b64encode(json.dumps({"dir": upload_dir}).encode()).decode(),
            "signature": signature,
            "upload_dir": upload_dir,
            "upload_host": self.root_url + _OSS_UPLOAD_PATH,
            "expire_in_seconds": 300,
            "max_file_size_mb": 100,
            "capacity_limit_mb": 999_999_999,
            "oss_access_key_id": "LTAI-test-access-key",
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
        await self._send_json(ctx.conn, 200, {"request_id": ctx.request_id, "data": data}, ctx.request_id)

    async def _handle_oss(self, conn: _Connection, request: _Request, request_id: str) -> None:
        if request.method == "POST" and request.path == _OSS_UPLOAD_PATH:
            fields = parse_multipart(request.headers.get("content-type", ""), request.raw_body)
            value = {name: data.decode("utf-8", "replace") for name, (filename, data) in fields.items()
                     if filename is None}
            upload = fields.get("file")
            with self._lock:
                upload_dir = self._upload_policies.get(value.get("Signature", ""))
            key = value.get("key", "")
            if (upload_dir is None or not value.get("policy") or not value.get("OSSAccessKeyId")
                    or not key.startswith(upload_dir + "/") or upload is None):
                await self._send(conn, 403, b"<Error><Code>AccessDenied</Code></Error>", request_id,
                                 content_type="application/xml")
                return
            with self._lock:
                self._oss_objects[key] = upload[1]
            status = 200 if value.get("success_action_status") == "200" else 204
            await self._send(conn, status, b"", request_id, content_type=None)
            return
        match = _OSS_RESULT_PATH.match(request.path)
        with self._lock:
            data = self._oss_results.get(match.group("name")) if match and request.method == "GET" else None
        if data is None:
            await self._send(conn, 404, b"<Error><Code>NoSuchKey</Code></Error>", request_id,
                             content_type="application/xml")
            return
        await self._send(conn, 200, data, request_id, content_type="application/octet-stream")

    async def _handle_native_embedding(self, ctx: _Context) -> None:
        headers = ctx.request.headers
        body = ctx.request.body if isinstance(ctx.request.body, dict) else {}
        model = str(body.get("model"))
        url = str((body.get("input") or {}).get("url") or "")

        async def refuse(status: int, code: str, message: str) -> None:
            await self._send_json(ctx.conn, status, _native_error(code, message, ctx.request_id), ctx.request_id)

        if model not in NATIVE_EMBEDDING_MODELS:
            await refuse(400, "InvalidParameter", f"Model not exist or not supported in async mode: {model}")
            return
        if headers.get("x-dashscope-async", "").lower() != "enable":
            await refuse(403, "AccessDenied", "current user api does not support synchronous calls")
            return
        if not url.startswith("oss://"):
            await refuse(400, "InvalidParameter", "The input url is not accessible.")
            return
        if headers.get("x-dashscope-ossresourceresolve", "").lower() != "enable":
            await refuse(400, "InvalidParameter", "The oss:// url cannot be resolved without "
                                                  "X-DashScope-OssResourceResolve: enable.")
            return
        with self._lock:
            data = self._oss_objects.get(url[len("oss://"):])
        if data is None:
            await refuse(400, "InvalidParameter", "The input url is not accessible.")
            return
        texts = data.decode("utf-8", "replace").splitlines()
        if len(texts) > NATIVE_MAX_LINES:
            await refuse(400, "InvalidParameter", f"The file has more than {NATIVE_MAX_LINES} lines.")
            return
        text_type = (body.get("parameters") or {}).get("text_type")
        task = NativeTaskRecord(str(uuid.uuid4()), model, texts, text_type, time.time())
        with self._lock:
            self._native_tasks[task.id] = task
        await self._send_json(ctx.conn, 200, {"request_id": ctx.request_id,
                                              "output": {"task_id": task.id, "task_status": task.status}},
                              ctx.request_id)

    async def _handle_native_task(self, ctx: _Context) -> None:
        with self._lock:
            task = self._native_tasks.get(ctx.match.group("task"))
            if task is not None and self.batch_advance_on_get:
                self._advance_native(task)
            payload = self._native_task_object(task, ctx.request_id) if task is not None else None
        if payload is None:
            # The real service answers unknown ids with status UNKNOWN rather than 404.
            payload = {"request_id": ctx.request_id,
                       "output": {"task_id": ctx.match.group("task"), "task_status": "UNKNOWN"}}
        await self._send_json(ctx.conn, 200, payload, ctx.request_id)

    async def _handle_native_cancel(self, ctx: _Context) -> None:
        with self._lock:
            task = self._native_tasks.get(ctx.match.group("task"))
            cancelled = task is not None and task.status == "PENDING"
            if cancelled and task is not None:
                task.status = "CANCELED"
        if not cancelled:
            await self._send_json(ctx.conn, 400, _native_error(
                "UnsupportedOperation",
                "Failed to cancel the task, please confirm if the task is in PENDING status.",
                ctx.request_id), ctx.request_id)
            return
        await self._send_json(ctx.conn, 200, {"request_id": ctx.request_id}, ctx.request_id)

    def _advance_native(self, task: NativeTaskRecord) -> None:
        if task.status not in NATIVE_STEPS or task.status == "SUCCEEDED":
            return
        task.status = NATIVE_STEPS[NATIVE_STEPS.index(task.status) + 1]
        if task.status == "SUCCEEDED":
            self._run_native(task)

    def _run_native(self, task: NativeTaskRecord) -> None:
        live_model, dimensions, max_tokens = NATIVE_EMBEDDING_MODELS[task.model]
        lines: list[bytes] = []
        for index, text in enumerate(task.texts):
            tokens = approx_tokens(text)
            if any(marker in text for marker in self.batch_fail_texts):
                output: dict[str, Any] = {"code": 500, "message": "InternalError", "text_index": index}
                tokens = 0
            elif not text.strip() or tokens > max_tokens:
                output = {"code": 400, "message": f"Range of input length should be [1, {max_tokens}]",
                          "text_index": index}
                tokens = 0
            else:
                # The async model shares the vectors of its live counterpart (the client relies on it).
                output = {"code": 200, "message": "Success", "text_index": index,
                          "embedding": embedding_vector(text, live_model, dimensions)}
            task.tokens += tokens
            lines.append(json.dumps({"output": output, "usage": {"total_tokens": tokens}}).encode())
        data = b"\n".join(lines) + b"\n"
        name = f"{task.id}.txt.gz" if self.native_result_gzip else f"{task.id}.txt"
        self._oss_results[name] = gzip.compress(data) if self.native_result_gzip else data
        task.result_name = name

    def _native_task_object(self, task: NativeTaskRecord, request_id: str) -> dict[str, Any]:
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": task.status,
            "submit_time": time.strftime("%Y-%m-%d %H:%M:%S.000", time.localtime(task.submitted_at)),
        }
        if task.status == "SUCCEEDED" and task.result_name:
            output["url"] = f"{self.root_url}/oss-results/{task.result_name}?Expires=9999999999&Signature=test"
        if task.code:
            output["code"], output["message"] = task.code, task.message
        payload: dict[str, Any] = {"request_id": request_id, "output": output}
        if task.status == "SUCCEEDED":
            payload["usage"] = {"total_tokens": task.tokens}
        return payload


# --------------------------------------------------------------------------------------------
# Streaming plumbing
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _ChatPlan:
    chat_id: str
    model: str
    created: int
    thinking_shape: bool
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    usage: dict[str, Any]

    def text_deltas(self) -> Iterable[tuple[str, str]]:
        yield from (("reasoning", piece) for piece in self.reasoning)
        yield from (("content", piece) for piece in self.content)

    def chunk(
        self, delta: dict[str, Any] | None, finish_reason: str | None, usage: dict[str, Any] | None
    ) -> dict[str, Any]:
        choices = (
            []
            if delta is None
            else [{"delta": delta, "finish_reason": finish_reason, "index": 0, "logprobs": None}]
        )
        return {
            "choices": choices,
            "object": "chat.completion.chunk",
            "usage": usage,
            "created": self.created,
            "system_fingerprint": None,
            "model": self.model,
            "id": self.chat_id,
        }


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


def _model_object(model: str) -> dict[str, Any]:
    owner = "deepseek" if model.startswith("deepseek") else "system"
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": owner}


def _thinking_enabled(model: str, body: dict[str, Any]) -> bool:
    mode = thinking_mode(model)
    if mode == "only":
        return True
    if mode == "none":
        return False
    flag = body.get("enable_thinking")
    return bool(flag) if flag is not None else mode == "hybrid_on"


def _thinking_problem(model: str, body: dict[str, Any]) -> tuple[int, str, str] | None:
    mode = thinking_mode(model)
    flag = body.get("enable_thinking")
    if mode == "none" and "enable_thinking" in body:
        return (
            400,
            "InvalidParameter.NotSupportEnableThinking",
            ("<400> InternalError.Algo.InvalidParameter: The model does not support enable_thinking."),
        )
    if mode == "only" and flag is False:
        return (
            400,
            "invalid_parameter_error",
            "The value of the enable_thinking parameter is restricted to True.",
        )
    if not body.get("stream"):
        if mode == "only":
            return (
                400,
                "invalid_parameter_error",
                "This model only support stream mode, "
                "please enable the stream parameter to access the model. ",
            )
        if _thinking_enabled(model, body):
            return (
                400,
                "invalid_parameter_error",
                "parameter.enable_thinking must be set to false for non-streaming calls",
            )
    return None


def _native_error(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The native API's error body (no "error" wrapper, unlike compatible mode)."""
    return {"request_id": request_id, "code": code, "message": message}


def _window_hours(window: str) -> int | None:
    match = re.fullmatch(r"(\d+)([hd])", window)
    if match is None:
        return None
    return int(match.group(1)) * (24 if match.group(2) == "d" else 1)


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


def _prompt_tokens(messages: list[Any]) -> int:
    return sum(approx_tokens(message_text(m.get("content"))) + 4 for m in messages if isinstance(m, dict))


def _usage(prompt: int, completion: int, reasoning: int, *, with_reasoning: bool) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion + reasoning,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if with_reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _stream_error(reply: ChatReply, request_id: str) -> dict[str, Any]:
    code = reply.error_code or "data_inspection_failed"
    default_type, default_message = ERROR_DEFAULTS.get(code, ("invalid_request_error", code))
    if code == "data_inspection_failed" and reply.error_message is None:
        default_message = "Output data may contain inappropriate content."
    return {
        "error": {
            "message": reply.error_message if reply.error_message is not None else default_message,
            "type": reply.error_type or default_type,
            "param": None,
            "code": code,
        },
        "request_id": request_id,
    }


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DashScope-compatible loopback server for tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", action="append", help="valid API key (repeatable; default TEST_KEY)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every response")
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=0.0,
        help="stream speed of unscripted replies (0 = as fast as possible)",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = DashScopeServer(port=args.port)
    if args.key:
        server.valid_keys = set(args.key)
    server.latency = args.latency_ms / 1000
    if args.tokens_per_second > 0:
        server.default_chunk_delay = 1 / args.tokens_per_second
    with server:
        print(f"BASE_URL={server.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
