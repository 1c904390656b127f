"""The OpenAI-compatible Batch API: `/files` (upload, metadata, content, delete) and `/batches`
(create, list, retrieve, cancel, the step-by-step life of a batch and its result files)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from .connection import _Context, parse_multipart
from .embeddings import _EmbeddingRoutes
from .protocol import BATCH_STEPS, ERROR_DEFAULTS, _window_hours, error_body, new_request_id
from .records import BatchRecord, StoredFile


class _FileBatchRoutes(_EmbeddingRoutes):
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
