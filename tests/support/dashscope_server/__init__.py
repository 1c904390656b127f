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

Layout of this package (everything is importable from `tests.support.dashscope_server`):
`records` (scripted replies, recorded requests/streams/files/batches/tasks), `protocol` (DashScope
constants and pure helpers), `connection` (HTTP wire layer), `base` (shared state, request reading,
response writing), `chat`, `embeddings`, `batches` (files + batches), `native` (async tasks, upload
policy, OSS stand-in), `websearch` (the native generation endpoint with web search and sources:
`SearchReply`, `script_search`, `search_requests`), `ratelimit` (a per-minute request limit),
`server` (`DashScopeServer`), `cli` (`main`, run by `__main__`).
"""

from __future__ import annotations

from .cli import main
from .connection import parse_multipart, split_event, sse_event
from .embeddings import embedding_vector, encode_base64_floats
from .protocol import (
    BATCH_STEPS,
    COMPAT_PREFIX,
    DEFAULT_CHAT_MODELS,
    DEFAULT_CODE_FOR_STATUS,
    DEFAULT_REGION,
    EMBEDDING_MODELS,
    ERROR_DEFAULTS,
    HOST,
    LINGER_SECONDS,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    NATIVE_EMBEDDING_MODELS,
    NATIVE_MAX_LINES,
    NATIVE_STEPS,
    OTHER_MODELS,
    REGIONS,
    SPLIT_WRITE_PAUSE,
    TEST_KEY,
    approx_tokens,
    error_body,
    last_user_text,
    message_text,
    new_request_id,
    split_tokens,
    thinking_mode,
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
from .server import DashScopeServer
from .websearch import DEFAULT_SOURCES, SEARCH_ENDPOINT, SearchReply, native_block

__all__ = [
    "BATCH_STEPS",
    "COMPAT_PREFIX",
    "DEFAULT_CHAT_MODELS",
    "DEFAULT_CODE_FOR_STATUS",
    "DEFAULT_REGION",
    "DEFAULT_SOURCES",
    "EMBEDDING_MODELS",
    "ERROR_DEFAULTS",
    "HOST",
    "LINGER_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "NATIVE_EMBEDDING_MODELS",
    "NATIVE_MAX_LINES",
    "NATIVE_STEPS",
    "OTHER_MODELS",
    "REGIONS",
    "SEARCH_ENDPOINT",
    "SPLIT_WRITE_PAUSE",
    "TEST_KEY",
    "BatchRecord",
    "ChatReply",
    "ClientGone",
    "DashScopeServer",
    "EmbeddingReply",
    "NativeTaskRecord",
    "RecordedRequest",
    "SearchReply",
    "StoredFile",
    "StreamRecord",
    "approx_tokens",
    "embedding_vector",
    "encode_base64_floats",
    "error_body",
    "last_user_text",
    "main",
    "message_text",
    "native_block",
    "new_request_id",
    "parse_multipart",
    "split_event",
    "split_tokens",
    "sse_event",
    "thinking_mode",
]
