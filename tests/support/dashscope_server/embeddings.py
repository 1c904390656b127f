"""`POST /embeddings` and the deterministic embedding vectors (also used by batches and native
tasks)."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import math
import re
import struct
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from .base import _ServerBase
from .connection import _Context
from .protocol import EMBEDDING_MODELS, approx_tokens
from .records import EmbeddingReply


class _EmbeddingRoutes(_ServerBase):
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
