"""Native services beyond chat: text rerank and synchronous native embeddings (`text_type`).

Scores are deterministic, not a model's: a rerank score is the share of the query's words
(Latin words, and pairs of adjacent Chinese characters) found in the document, so tests and
benchmarks check the plumbing. A native embedding has the compatible endpoint's vector of the
same text; the request (with its ``text_type``) is recorded like every other.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

from .base import _ServerBase
from .connection import _Context
from .embeddings import embedding_vector
from .protocol import EMBEDDING_MODELS, _native_error, approx_tokens
from .records import EmbeddingReply

RERANK_MODELS = {"gte-rerank-v2": 30_000, "qwen3-rerank": 120_000}  # tokens per request
RERANK_MAX_DOCUMENTS = 500
_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")


OCR_MODELS = ("qwen-vl-ocr", "qwen-vl-ocr-latest")
_OCR_MARK = re.compile(rb"OCR-TEXT\[(.*?)\]OCR", re.DOTALL)


def recognised_text(image: bytes) -> str:
    """What the stand-in "recognises" in an image: the text a test wrote into it between
    ``OCR-TEXT[`` and ``]OCR`` (in a PNG text chunk, a JPEG comment…); nothing otherwise."""
    found = _OCR_MARK.search(image)
    return found.group(1).decode("utf-8", "replace") if found else ""


def is_native_embedding(request: Any) -> bool:
    """A synchronous native embedding request (``input.texts``), as recorded."""
    body = request.body
    return (request.path.endswith("/api/v1/services/embeddings/text-embedding/text-embedding")
            and isinstance(body, dict) and isinstance(body.get("input"), dict)
            and isinstance(body["input"].get("texts"), list))


def rerank_terms(text: str) -> set[str]:
    text = text.lower()
    terms = set(_WORD.findall(text))
    for run in _CJK.findall(text):
        terms.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return terms


def rerank_score(query: str, document: str) -> float:
    wanted = rerank_terms(query)
    if not wanted:
        return 0.0
    found = rerank_terms(document)
    return round(len(wanted & found) / len(wanted), 6)


class _ServiceRoutes(_ServerBase):
    def _services_init(self) -> None:
        self.rerank_status: int = 200  # another status: every rerank request fails with it
        self.native_embedding_status: int = 200  # likewise for synchronous native embeddings
        self.ocr_fail_texts: set[str] = set()  # an image whose text has one of these: HTTP 500
        self.ocr_latency: float = 0.0  # seconds per OCR request

    # ---- POST /api/v1/services/aigc/multimodal-generation/generation (qwen-vl-ocr) ----------

    async def _handle_ocr(self, ctx: _Context) -> None:
        body = ctx.request.body if isinstance(ctx.request.body, dict) else {}

        async def refuse(status: int, code: str, message: str) -> None:
            await self._send_json(ctx.conn, status, _native_error(code, message, ctx.request_id), ctx.request_id)

        if body.get("model") not in OCR_MODELS:
            await refuse(400, "InvalidParameter", f"Model not exist: {body.get('model')}")
            return
        try:
            (message,) = body["input"]["messages"]
            image = next(p["image"] for p in message["content"] if "image" in p)
            header, _, encoded = image.partition(",")
            assert header.startswith("data:image/") and header.endswith(";base64")
            data = base64.b64decode(encoded, validate=True)
        except (KeyError, TypeError, ValueError, StopIteration, AssertionError):
            await refuse(400, "InvalidParameter", "The image is not a valid data URL.")
            return
        await asyncio.sleep(self.ocr_latency)
        text = recognised_text(data)
        if any(marker in text for marker in self.ocr_fail_texts):
            await refuse(500, "InternalError", "The OCR service failed on this image.")
            return
        await self._send_json(ctx.conn, 200, {
            "output": {"choices": [{"finish_reason": "stop", "message": {
                "role": "assistant", "content": [{"text": text}]}}]},
            "usage": {"input_tokens": max(1, len(data) // 100), "output_tokens": approx_tokens(text),
                      "image_tokens": max(1, len(data) // 100)},
            "request_id": ctx.request_id,
        }, ctx.request_id)

    # ---- POST /api/v1/services/rerank/text-rerank/text-rerank ------------------------------

    async def _handle_rerank(self, ctx: _Context) -> None:
        body = ctx.request.body if isinstance(ctx.request.body, dict) else {}

        async def refuse(status: int, code: str, message: str) -> None:
            await self._send_json(ctx.conn, status, _native_error(code, message, ctx.request_id), ctx.request_id)

        if getattr(self, "rerank_status", 200) != 200:
            await refuse(self.rerank_status, "InternalError", "The rerank service failed.")
            return
        model = body.get("model")
        inputs = body.get("input") if isinstance(body.get("input"), dict) else {}
        query, documents = inputs.get("query"), inputs.get("documents")
        if model not in RERANK_MODELS:
            await refuse(400, "InvalidParameter", f"Model not exist: {model}")
            return
        if (not isinstance(query, str) or not query.strip() or not isinstance(documents, list)
                or not documents or not all(isinstance(d, str) for d in documents)):
            await refuse(400, "InvalidParameter", "input.query and input.documents are required.")
            return
        if len(documents) > RERANK_MAX_DOCUMENTS:
            await refuse(400, "InvalidParameter", f"At most {RERANK_MAX_DOCUMENTS} documents.")
            return
        tokens = approx_tokens(query) * len(documents) + sum(approx_tokens(d) for d in documents)
        if tokens > RERANK_MODELS[model]:
            await refuse(400, "InvalidParameter", "Input tokens exceed the limit of the model.")
            return
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        top_n = parameters.get("top_n")
        scored = sorted(((i, rerank_score(query, d)) for i, d in enumerate(documents)),
                        key=lambda x: (-x[1], x[0]))
        if isinstance(top_n, int) and top_n > 0:
            scored = scored[:top_n]
        results: list[dict[str, Any]] = [{"index": i, "relevance_score": s} for i, s in scored]
        if parameters.get("return_documents"):
            for result in results:
                result["document"] = {"text": documents[result["index"]]}
        await self._send_json(ctx.conn, 200, {"output": {"results": results},
                                              "usage": {"total_tokens": tokens},
                                              "request_id": ctx.request_id}, ctx.request_id)

    # ---- POST /api/v1/services/embeddings/text-embedding/text-embedding (synchronous) -------

    async def _handle_native_embedding_sync(self, ctx: _Context) -> None:
        body = ctx.request.body if isinstance(ctx.request.body, dict) else {}

        async def refuse(status: int, code: str, message: str) -> None:
            await self._send_json(ctx.conn, status, _native_error(code, message, ctx.request_id), ctx.request_id)

        if getattr(self, "native_embedding_status", 200) != 200:
            await refuse(self.native_embedding_status, "InternalError", "The embedding service failed.")
            return
        # The same scripted replies and request limits as POST /embeddings: one embeddings service.
        with self._lock:
            scripted = self._embedding_script.popleft() if self._embedding_script else EmbeddingReply()
        await asyncio.sleep(self.embedding_latency + scripted.delay)
        if scripted.status != 200:
            await refuse(scripted.status, scripted.code or "InternalError", scripted.message or "")
            return
        if not await self._within_rate_limit(  # type: ignore[attr-defined]
                _Context(ctx.conn, ctx.request, ctx.region, "/embeddings", ctx.match, ctx.request_id)):
            return
        model = str(body.get("model"))
        texts = (body.get("input") or {}).get("texts") if isinstance(body.get("input"), dict) else None
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        if model not in EMBEDDING_MODELS:
            await refuse(400, "InvalidParameter", f"Model not exist: {model}")
            return
        default_dims, allowed_dims, max_inputs, max_tokens = _model_limits(model)
        max_inputs = self.embedding_cap or max_inputs
        dimensions = parameters.get("dimension", default_dims)
        text_type = parameters.get("text_type", "document")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            await refuse(400, "InvalidParameter", "input.texts is required.")
            return
        if len(texts) > max_inputs:
            await refuse(400, "InvalidParameter", f"batch size is invalid, it should not be larger than {max_inputs}.")
            return
        if dimensions not in allowed_dims or text_type not in ("query", "document"):
            await refuse(400, "InvalidParameter", "dimension or text_type is invalid.")
            return
        if any(not t.strip() or approx_tokens(t) > max_tokens for t in texts):
            await refuse(400, "InvalidParameter", f"Range of input length should be [1, {max_tokens}]")
            return
        embeddings = [{"text_index": i, "embedding": native_vector(t, model, dimensions, text_type)}
                      for i, t in enumerate(texts)]
        await self._send_json(ctx.conn, 200, {
            "output": {"embeddings": embeddings},
            "usage": {"total_tokens": sum(approx_tokens(t) for t in texts)},
            "request_id": ctx.request_id,
        }, ctx.request_id)


def _model_limits(model: str) -> tuple[int, tuple[int, ...], int, int]:
    allowed, default, max_inputs, max_tokens = EMBEDDING_MODELS[model]
    return default, allowed, max_inputs, max_tokens


def native_vector(text: str, model: str, dimensions: int, text_type: str) -> list[float]:
    """The compatible endpoint's vector of ``text`` (which endpoint and type were asked is in the
    recorded request)."""
    return embedding_vector(text, model, dimensions)
