"""The two offline embedding interfaces of DashScope behind one small protocol.

- :class:`OpenAIBatchBackend`: the OpenAI-compatible Batch API through the openai SDK
  (``files.create(purpose="batch")``, ``batches.create/retrieve/cancel``, ``files.content``).
- :class:`NativeTaskBackend`: the native asynchronous task API over plain HTTP
  (``/api/v1/uploads?action=getPolicy`` → form upload to temporary storage → ``oss://`` URL →
  ``POST /api/v1/services/embeddings/text-embedding/text-embedding`` with
  ``X-DashScope-Async: enable`` → ``GET /api/v1/tasks/{id}``).

Both use the :class:`~desktop.core.client.QwenClient`'s HTTP client, so proxy settings and TLS
are those of every other request. Errors are :class:`QwenError`; "this account / region / model
has no offline embedding" is :class:`BatchUnavailable`, on which callers fall back to live
requests (which regions offer embedding batches is not confirmed, reference §5).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.core.errors import ErrorKind, QwenError, classify
from desktop.core.notes.jobs import Interface, JobStatus

if TYPE_CHECKING:
    import httpx2
    import openai

    from desktop.core.client import QwenClient

COMPAT_SUFFIX = "/compatible-mode/v1"
NATIVE_EMBEDDING_PATH = "/services/embeddings/text-embedding/text-embedding"

_OPENAI_STATUS = {
    "validating": JobStatus.VALIDATING,
    "in_progress": JobStatus.IN_PROGRESS,
    "finalizing": JobStatus.FINALIZING,
    "completed": JobStatus.COMPLETED,
    "failed": JobStatus.FAILED,
    "expired": JobStatus.EXPIRED,
    "cancelling": JobStatus.CANCELLING,
    "cancelled": JobStatus.CANCELLED,
}
_NATIVE_STATUS = {
    "PENDING": JobStatus.VALIDATING,
    "RUNNING": JobStatus.IN_PROGRESS,
    "SUSPENDED": JobStatus.IN_PROGRESS,
    "SUCCEEDED": JobStatus.COMPLETED,
    "FAILED": JobStatus.FAILED,
    "CANCELED": JobStatus.CANCELLED,
    "CANCELLED": JobStatus.CANCELLED,
    "UNKNOWN": JobStatus.EXPIRED,  # the service no longer knows the task (results are kept ~24 h)
}


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    status: JobStatus
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_ref: str | None = None
    error_ref: str | None = None
    message: str | None = None


class BatchUnavailable(QwenError):
    """Offline embedding is not offered here (model, region or account): index live instead."""

    def __init__(self, detail: str, error: QwenError | None = None) -> None:
        self.error = error  # what the service answered, when it answered
        super().__init__(ErrorKind.BATCH_UNAVAILABLE, detail,
                         status=error.status if error else None, code=error.code if error else None,
                         request_id=error.request_id if error else None)

    def __str__(self) -> str:
        return self.detail


class CannotCancel(QwenError):
    """The service refused to cancel (e.g. a native task that already runs)."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorKind.CANNOT_CANCEL, detail)

    def __str__(self) -> str:
        return self.detail  # the faces say "could not cancel" around the service's reason


class BatchBackend(Protocol):
    interface: Interface

    async def upload(self, path: Path, model: str) -> str:
        """Upload an input file; returns its reference (file id / oss:// URL)."""
        ...

    async def start(self, input_ref: str, model: str) -> tuple[str, RemoteStatus]:
        """Create the job on the service; returns its id and first status."""
        ...

    async def status(self, remote_id: str) -> RemoteStatus: ...

    async def download(self, ref: str, destination: Path) -> None:
        """Save a result file (output / error file id, or result URL) to ``destination``."""
        ...

    async def cancel(self, remote_id: str) -> RemoteStatus: ...


def _unavailable_or_error(error: QwenError) -> QwenError:
    """A 404 (endpoint or model not offered) or "not supported" means no batch here."""
    text = error.detail.lower()
    if error.status == 404 or "not supported" in text or "not support" in text:
        return BatchUnavailable(error.detail or f"HTTP {error.status}", error)
    return error


# ---- OpenAI-compatible Batch API --------------------------------------------------------------


class OpenAIBatchBackend:
    interface = Interface.OPENAI

    def __init__(self, client: QwenClient, completion_window: str = "24h") -> None:
        self._client = client
        # QwenClient keeps its SDK instance private; the batch calls are this module's business.
        self._sdk: openai.AsyncOpenAI = client.sdk
        self.completion_window = completion_window

    def _error(self, exc: BaseException) -> QwenError:
        from desktop.core.client import translate_error

        return translate_error(exc, proxy=self._client.proxy)

    async def upload(self, path: Path, model: str) -> str:
        try:
            content = await asyncio.to_thread(path.read_bytes)  # file I/O off the event loop
            created = await self._sdk.files.create(
                file=(path.name, content, "application/jsonl"), purpose="batch")
        except Exception as exc:
            raise _unavailable_or_error(self._error(exc)) from None
        return str(created.id)

    async def start(self, input_ref: str, model: str) -> tuple[str, RemoteStatus]:
        try:
            batch = await self._sdk.batches.create(
                input_file_id=input_ref, endpoint="/v1/embeddings",
                # The SDK types the window as Literal["24h"]; DashScope also takes longer ones.
                completion_window=self.completion_window,  # type: ignore[arg-type]
            )
        except Exception as exc:
            raise _unavailable_or_error(self._error(exc)) from None
        return str(batch.id), _openai_status(batch)

    async def status(self, remote_id: str) -> RemoteStatus:
        try:
            batch = await self._sdk.batches.retrieve(remote_id)
        except Exception as exc:
            raise self._error(exc) from None
        return _openai_status(batch)

    async def download(self, ref: str, destination: Path) -> None:
        try:
            async with self._sdk.files.with_streaming_response.content(ref) as response:
                await _write_stream(response.iter_bytes(), destination)
        except Exception as exc:
            raise self._error(exc) from None

    async def cancel(self, remote_id: str) -> RemoteStatus:
        try:
            batch = await self._sdk.batches.cancel(remote_id)
        except Exception as exc:
            error = self._error(exc)
            if error.status == 400:
                raise CannotCancel(error.detail) from None
            raise error from None
        return _openai_status(batch)


def _openai_status(batch: Any) -> RemoteStatus:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    message = "; ".join(str(getattr(e, "message", "") or "") for e in errors) or None
    status = _OPENAI_STATUS.get(str(batch.status))
    if status is None:
        status, message = JobStatus.FAILED, f"unknown batch status {batch.status!r}"
    return RemoteStatus(
        status=status,
        total=int(getattr(counts, "total", 0) or 0),
        completed=int(getattr(counts, "completed", 0) or 0),
        failed=int(getattr(counts, "failed", 0) or 0),
        output_ref=getattr(batch, "output_file_id", None),
        error_ref=getattr(batch, "error_file_id", None),
        message=message,
    )


# ---- native asynchronous task API ---------------------------------------------------------------


def native_base_url(base_url: str) -> str:
    """``…/compatible-mode/v1`` → ``…/api/v1`` (the native API of the same region)."""
    url = base_url.rstrip("/")
    if not url.endswith(COMPAT_SUFFIX):
        raise BatchUnavailable(
            "the native task API needs a DashScope address ending in /compatible-mode/v1")
    return url[: -len(COMPAT_SUFFIX)] + "/api/v1"


class NativeTaskBackend:
    interface = Interface.NATIVE

    def __init__(self, client: QwenClient) -> None:
        self._client = client
        self._http: httpx2.AsyncClient = client.http  # shares proxy and TLS settings
        self._base = native_base_url(client.config.base_url)

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._client.config.api_key}", **extra}

    def _transport_error(self, exc: BaseException) -> QwenError:
        from desktop.core.client import translate_error

        return translate_error(exc, proxy=self._client.proxy)

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, **kwargs)
        except Exception as exc:
            raise self._transport_error(exc) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise _native_error(response.status_code, body, response.headers.get("x-request-id"))
        if not isinstance(body, dict):
            raise QwenError(ErrorKind.BAD_REQUEST, f"unexpected answer from {url.split('?')[0]}")
        return body

    async def upload(self, path: Path, model: str) -> str:
        try:
            policy = (await self._call("GET", f"{self._base}/uploads",
                                       params={"action": "getPolicy", "model": model},
                                       headers=self._headers())).get("data") or {}
        except QwenError as error:
            raise _unavailable_or_error(error) from None
        try:
            key = f"{policy['upload_dir']}/{uuid.uuid4().hex}-{path.name}"
            fields = {
                "OSSAccessKeyId": str(policy["oss_access_key_id"]),
                "Signature": str(policy["signature"]),
                "policy": str(policy["policy"]),
                "key": key,
                "x-oss-object-acl": str(policy.get("x_oss_object_acl", "private")),
                "x-oss-forbid-overwrite": str(policy.get("x_oss_forbid_overwrite", "true")),
                "success_action_status": "200",
            }
            host = str(policy["upload_host"])
        except KeyError as exc:
            raise BatchUnavailable(f"the upload policy lacks {exc.args[0]}") from None
        limit_mb = policy.get("max_file_size_mb")
        size = (await asyncio.to_thread(path.stat)).st_size
        if isinstance(limit_mb, (int, float)) and size > limit_mb * 1024 * 1024:
            raise QwenError(ErrorKind.BAD_REQUEST, f"input file larger than {limit_mb} MB")
        try:
            content = await asyncio.to_thread(path.read_bytes)  # file I/O off the event loop
            # No DashScope key here: the storage host takes the signed policy instead.
            response = await self._http.post(host, data=fields, files={"file": (path.name, content)})
        except Exception as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 300:
            raise QwenError(ErrorKind.BAD_REQUEST, f"upload to temporary storage failed: HTTP "
                                                   f"{response.status_code}", status=response.status_code)
        return f"oss://{key}"

    async def start(self, input_ref: str, model: str) -> tuple[str, RemoteStatus]:
        body = {"model": model, "input": {"url": input_ref}, "parameters": {"text_type": "document"}}
        headers = self._headers(**{"X-DashScope-Async": "enable",
                                   "X-DashScope-OssResourceResolve": "enable"})
        try:
            answer = await self._call("POST", self._base + NATIVE_EMBEDDING_PATH, json=body,
                                      headers=headers)
        except QwenError as error:
            raise _unavailable_or_error(error) from None
        output = answer.get("output") or {}
        task_id = output.get("task_id")
        if not task_id:
            raise QwenError(ErrorKind.BAD_REQUEST, "the service returned no task id",
                            request_id=answer.get("request_id"))
        return str(task_id), _native_status(output)

    async def status(self, remote_id: str) -> RemoteStatus:
        answer = await self._call("GET", f"{self._base}/tasks/{remote_id}", headers=self._headers())
        return _native_status(answer.get("output") or {})

    async def download(self, ref: str, destination: Path) -> None:
        try:
            # A signed storage URL: no DashScope key. Compressed results are detected on reading.
            async with self._http.stream("GET", ref) as response:
                if response.status_code >= 400:
                    raise QwenError(ErrorKind.NOT_FOUND, f"result file: HTTP {response.status_code}",
                                    status=response.status_code)
                await _write_stream(response.aiter_raw(), destination)
        except QwenError:
            raise
        except Exception as exc:
            raise self._transport_error(exc) from None

    async def cancel(self, remote_id: str) -> RemoteStatus:
        try:
            await self._call("POST", f"{self._base}/tasks/{remote_id}/cancel", headers=self._headers())
        except QwenError as error:
            if error.status == 400:
                raise CannotCancel(error.detail) from None
            raise
        return await self.status(remote_id)


def _native_error(status: int, body: Any, request_id: str | None) -> QwenError:
    code = message = None
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message")
        request_id = body.get("request_id") or request_id
    kind, limit = classify(status, str(code) if code else None, str(message or ""))
    return QwenError(kind, str(message or f"HTTP {status}"), status=status,
                     code=str(code) if code else None, request_id=request_id, limit=limit)


def _native_status(output: dict[str, Any]) -> RemoteStatus:
    raw = str(output.get("task_status") or "UNKNOWN").upper()
    status = _NATIVE_STATUS.get(raw, JobStatus.FAILED)
    message = None
    if output.get("message") or output.get("code"):
        message = f"{output.get('code') or ''}: {output.get('message') or ''}".strip(": ")
    if raw == "UNKNOWN":
        message = message or "the service no longer knows this task"
    metrics = output.get("task_metrics") or {}
    return RemoteStatus(
        status=status,
        total=int(metrics.get("TOTAL", 0) or 0),
        completed=int(metrics.get("SUCCEEDED", 0) or 0),
        failed=int(metrics.get("FAILED", 0) or 0),
        output_ref=output.get("url") if status is JobStatus.COMPLETED else None,
        message=message,
    )


async def _write_stream(pieces: AsyncIterator[bytes], destination: Path) -> None:
    """Write a downloaded body to ``destination`` with every file operation off the event loop."""
    fh = await asyncio.to_thread(open, destination, "wb")
    try:
        async for piece in pieces:
            await asyncio.to_thread(fh.write, piece)
    finally:
        await asyncio.to_thread(fh.close)
