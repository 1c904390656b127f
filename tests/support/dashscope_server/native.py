"""DashScope's native asynchronous embedding tasks (`/api/v1`), the temporary-storage upload
policy and the OSS stand-in (`/oss-upload`, `/oss-results/...`)."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from .base import _ServerBase
from .connection import _OSS_RESULT_PATH, _OSS_UPLOAD_PATH, _Connection, _Context, _Request, parse_multipart
from .embeddings import embedding_vector
from .protocol import NATIVE_EMBEDDING_MODELS, NATIVE_MAX_LINES, NATIVE_STEPS, _native_error, approx_tokens
from .records import NativeTaskRecord


class _NativeRoutes(_ServerBase):
    if TYPE_CHECKING:

        @property
        def root_url(self) -> str: ...

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
        if headers.get("x-dashscope-async", "").lower() != "enable" and "texts" in (body.get("input") or {}):
            await self._handle_native_embedding_sync(ctx)  # type: ignore[attr-defined]
            return
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
