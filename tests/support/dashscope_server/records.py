"""The scripted replies tests queue and the records the server keeps (requests, streams, files,
batches, native tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    `raw_stream` (see :meth:`raw`) replaces the whole SSE body of a streamed answer with these
    pieces, each written as one HTTP chunk after a 200 event-stream head: broken streams.
    `redirect_to` (see :meth:`redirect`) answers with that redirect status, a `location` header and
    an HTML body, as a web server or captive portal would.
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
    raw_stream: tuple[bytes, ...] | None = None
    redirect_to: str | None = None

    @classmethod
    def raw(cls, *pieces: bytes | str) -> ChatReply:
        """A streamed answer that is exactly these bytes (a str piece is sent as UTF-8): invalid
        JSON, wrong chunk shapes, invalid UTF-8. Nothing is added, not even `data: [DONE]`."""
        return cls(raw_stream=tuple(p.encode() if isinstance(p, str) else p for p in pieces))

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> ChatReply:
        """A redirect answer (307 by default) to `location`, for streamed and plain requests."""
        return cls(status=status, redirect_to=location)

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
