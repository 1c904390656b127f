"""The files of offline embedding: inputs written from pending chunks, results read back.

Pure functions over local files, no network (run them in a worker thread).

- OpenAI-compatible Batch API (reference §5): a JSONL file, one ``/v1/embeddings`` request per
  line with at most the model's input cap, split into several files above the per-file limits.
  Results: JSONL lines ``{"custom_id", "response": {"status_code", "body"}, "error"}``.
- Native asynchronous task API: a UTF-8 text file, one text per line. Its result file's format is
  not confirmed by the sources: read JSON lines carrying ``text_index`` and ``embedding`` either
  at the top level or under ``output`` (the shape DashScope's task results use elsewhere), gzip
  or not, and refuse a file with nothing recognisable in it rather than import nothing silently.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np  # imported where used: slow to import (desktop/core/notes/search.py)

from desktop.core.notes.store_records import PendingChunk

EMBEDDINGS_URL = "/v1/embeddings"
_CUSTOM_ID = re.compile(r"^line-(\d+)$")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class BatchPart:
    """One input file: its path and the chunk ids of each of its lines, in line order."""

    path: Path
    lines: tuple[tuple[int, ...], ...]
    size: int  # bytes

    @property
    def chunks(self) -> int:
        return sum(len(line) for line in self.lines)


@dataclass(frozen=True, slots=True)
class LineResult:
    """What the service answered for one input line."""

    line: int
    vectors: list[Any] | None  # one vector per input of the line (floats, or a base64 string)
    error: str | None = None
    tokens: int = 0


class ResultFormatError(Exception):
    """A result file this version cannot read."""


def custom_id(line: int) -> str:
    return f"line-{line}"


def line_number(custom: object) -> int | None:
    match = _CUSTOM_ID.match(custom) if isinstance(custom, str) else None
    return int(match.group(1)) if match else None


Encoder = Callable[[int], bytes]  # line number within its file -> the encoded line


def _write_parts(
    directory: Path, stem: str, suffix: str, records: Iterable[tuple[tuple[int, ...], Encoder]],
    max_lines: int, max_bytes: int,
) -> list[BatchPart]:
    """Write lines into files of at most ``max_lines`` lines and ``max_bytes`` bytes."""
    parts: list[BatchPart] = []
    fh: IO[bytes] | None = None
    path = directory
    lines: list[tuple[int, ...]] = []
    size = 0

    def close() -> None:
        nonlocal fh
        if fh is not None:
            fh.close()
            parts.append(BatchPart(path, tuple(lines), size))
            fh = None

    for ids, encode in records:
        data = encode(len(lines))
        if fh is not None and (len(lines) >= max_lines or size + len(data) > max_bytes):
            close()
            data = encode(0)
        if fh is None:
            path = directory / f"{stem}-{len(parts) + 1:03d}.{suffix}"
            fh = open(path, "wb")  # closed by close()
            lines = []
            size = 0
        fh.write(data)
        lines.append(ids)
        size += len(data)
    close()
    return parts


def write_openai_parts(
    chunks: Sequence[PendingChunk], directory: Path, *, model: str, dimensions: int | None,
    per_line: int, max_lines: int, max_bytes: int,
) -> list[BatchPart]:
    """JSONL files of embedding requests for ``chunks``, ``per_line`` inputs per request; the
    ``custom_id`` is the line number within its file (``line-N``), mapped back through the job."""
    def records() -> Iterator[tuple[tuple[int, ...], Encoder]]:
        for start in range(0, len(chunks), per_line):
            group = chunks[start:start + per_line]
            body: dict[str, Any] = {"model": model, "input": [c.input for c in group],
                                    "encoding_format": "float"}
            if dimensions is not None:
                body["dimensions"] = dimensions
            yield tuple(c.id for c in group), functools.partial(request_line, body=body)

    return _write_parts(directory, "batch", "jsonl", records(), max_lines, max_bytes)


def request_line(number: int, body: dict[str, Any]) -> bytes:
    record = {"custom_id": custom_id(number), "method": "POST", "url": EMBEDDINGS_URL, "body": body}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _same(data: bytes, _number: int) -> bytes:
    return data


def native_text(text: str) -> str:
    """One input line of the native API: no line breaks inside (they would split the text)."""
    return " ".join(text.split())


def write_native_parts(
    chunks: Sequence[PendingChunk], directory: Path, *, max_lines: int, max_bytes: int
) -> list[BatchPart]:
    """Text files with one chunk per line; the line number is the result's ``text_index``."""
    def records() -> Iterator[tuple[tuple[int, ...], Encoder]]:
        for chunk in chunks:
            data = (native_text(chunk.input) + "\n").encode()
            yield (chunk.id,), functools.partial(_same, data)

    return _write_parts(directory, "native", "txt", records(), max_lines, max_bytes)


# ---- reading results --------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    """The file as text, decompressing gzip whatever the file is called."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115 - the caller closes it


def read_openai_results(path: Path) -> Iterator[LineResult]:
    """Lines of a Batch API output or error file."""
    with _open_text(path) as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict) or (number := line_number(record.get("custom_id"))) is None:
                continue
            response = _mapping(record.get("response"))
            body = _mapping(response.get("body"))
            status = response.get("status_code")
            data = body.get("data")
            if record.get("error") or status != 200 or not isinstance(data, list):
                yield LineResult(number, None, _error_text(record, body, status))
                continue
            ordered = sorted((d for d in data if isinstance(d, dict)), key=lambda d: d.get("index", 0))
            usage = _mapping(body.get("usage"))
            yield LineResult(number, [d.get("embedding") for d in ordered],
                             tokens=int(usage.get("total_tokens") or 0))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _error_text(record: dict[str, Any], body: dict[str, Any], status: Any) -> str:
    for source in (record.get("error"), body.get("error")):
        if isinstance(source, dict) and source.get("message"):
            return f"{source.get('code') or status}: {source['message']}"
    return f"HTTP {status}"


def read_native_results(path: Path) -> Iterator[LineResult]:
    """Lines of a native task's result file (gzip or plain JSON lines)."""
    recognised = 0
    seen = 0
    with _open_text(path) as fh:
        for raw in fh:
            if not raw.strip():
                continue
            seen += 1
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            for item in _native_items(record):
                recognised += 1
                yield item
    if seen and not recognised:
        raise ResultFormatError("the result file of the native task has an unknown format")


def _native_items(record: Any) -> Iterator[LineResult]:
    if not isinstance(record, dict):
        return
    output = _mapping(record.get("output")) or record
    tokens = int(_mapping(record.get("usage")).get("total_tokens") or 0)
    embeddings = output.get("embeddings")
    items: list[Any] = embeddings if isinstance(embeddings, list) else [output]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text_index"), int):
            continue
        code = item.get("code", 200)
        vector = item.get("embedding")
        if str(code) not in ("200", "Success") or not isinstance(vector, list):
            yield LineResult(item["text_index"], None, f"{code}: {item.get('message') or 'failed'}")
        else:
            yield LineResult(item["text_index"], [vector], tokens=tokens)


def decode_vector(value: Any) -> list[float] | np.ndarray:
    """A vector as the service sent it: a list of floats, or little-endian float32 in base64."""
    import numpy as np

    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4")
    if isinstance(value, list):
        return value
    raise ValueError("not a vector")
