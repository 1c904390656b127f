"""Which endpoint embeds an index: the native one, where ``text_type`` query/document is documented,
or the compatible one as the fallback.

The native endpoint (``POST /api/v1/services/embeddings/text-embedding/text-embedding``) takes
``text_type`` ("query" for a question, "document" for a note) and, for text-embedding-v4, an
``instruct`` for queries, so a question is embedded as a question. Compatible mode accepts
``text_type`` too, but whether it has any effect there is unconfirmed.

An index is embedded through one endpoint only: the first request of an empty index goes to the
native one, and when the service does not offer it there (404, unknown model, no access) that
request and all later ones go to the compatible one; the choice is kept with the vectors
(``meta.embedding_endpoint``) and queries use the same endpoint. An index whose vectors predate
the choice stays compatible. A rebuild chooses again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.core import native_api
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.models import Embedder, EmbeddingResult

if TYPE_CHECKING:
    from desktop.core.client import ConnectionConfig, QwenClient

log = logging.getLogger(__name__)

NATIVE = "native"
COMPATIBLE = "compatible"
NATIVE_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"
# An instruction for queries, for the model that documents one (text-embedding-v4).
QUERY_INSTRUCT = "Given a question, retrieve the passages of notes that answer it"
INSTRUCT_MODELS = ("text-embedding-v4",)
# What a service says when it has no native endpoint, or not for this model: fall back.
_NOT_OFFERED = (ErrorKind.NOT_FOUND, ErrorKind.MODEL_NOT_FOUND, ErrorKind.ACCESS_DENIED)


@dataclass(frozen=True, slots=True)
class NativeEmbeddings:
    vectors: list[list[float]]
    total_tokens: int
    request_id: str | None


class NativeEmbedder:
    """Embeddings through the native endpoint, on the client's connection (same pacer: same
    ``config.base_url``)."""

    def __init__(self, client: QwenClient, root: str) -> None:
        self.client = client
        self._url = root + NATIVE_PATH

    @property
    def config(self) -> ConnectionConfig:
        return self.client.config

    async def embed(self, texts: Sequence[str], *, model: str, dimensions: int | None = None,
                    text_type: str | None = None) -> NativeEmbeddings:
        parameters: dict[str, Any] = {"text_type": text_type or "document", "output_type": "dense"}
        if dimensions is not None:
            parameters["dimension"] = dimensions
        if text_type == "query" and model in INSTRUCT_MODELS:
            parameters["instruct"] = QUERY_INSTRUCT
        body = {"model": model, "input": {"texts": list(texts)}, "parameters": parameters}
        answer = await native_api.post(self.client, self._url, body, seconds=self.client.config.timeout)
        return NativeEmbeddings(_vectors(answer, len(texts)), _tokens(answer), answer.get("request_id"))


def _vectors(answer: dict[str, Any], count: int) -> list[list[float]]:
    output = answer.get("output")
    items = output.get("embeddings") if isinstance(output, dict) else None
    if not isinstance(items, list) or len(items) != count:
        raise QwenError(ErrorKind.BAD_RESPONSE, f"expected {count} vectors from the native endpoint")
    vectors: list[list[float] | None] = [None] * count
    for item in items:
        index = item.get("text_index") if isinstance(item, dict) else None
        vector = item.get("embedding") if isinstance(item, dict) else None
        if (not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None
                or not isinstance(vector, list) or not vector
                or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in vector)):
            raise QwenError(ErrorKind.BAD_RESPONSE, "the native endpoint sent an invalid vector")
        vectors[index] = [float(x) for x in vector]
    return [v for v in vectors if v is not None]


def _tokens(answer: dict[str, Any]) -> int:
    usage = answer.get("usage")
    tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else 0


def native_embedder(client: object) -> NativeEmbedder | None:
    """The native embedder on ``client``'s connection, or None (not a DashScope address)."""
    from desktop.core.client import QwenClient

    if not isinstance(client, QwenClient):
        return None
    root = native_api.host_root(client.config.base_url)
    return NativeEmbedder(client, root) if root is not None else None


def embedder_for(client: Embedder, endpoint: str | None) -> Embedder:
    """What embeds for an index of ``endpoint``: the native embedder, or ``client`` itself."""
    if endpoint == NATIVE and (native := native_embedder(client)) is not None:
        return native
    return client


class ChoosingEmbedder:
    """For an index without a chosen endpoint: the first request tries the native endpoint (the
    others wait for its answer); ``record`` is awaited with the choice, which then holds."""

    def __init__(self, client: Embedder, native: NativeEmbedder,
                 record: Callable[[str], Awaitable[None]]) -> None:
        self.client = client
        self.native = native
        self.config = native.config
        self._record = record
        self._chosen: Embedder | None = None
        self._deciding = asyncio.Lock()

    async def embed(self, texts: Sequence[str], *, model: str, dimensions: int | None = None,
                    text_type: str | None = None) -> EmbeddingResult:
        if self._chosen is None:
            async with self._deciding:
                if self._chosen is None:
                    try:
                        result: EmbeddingResult = await self.native.embed(
                            texts, model=model, dimensions=dimensions, text_type=text_type)
                    except QwenError as error:
                        if error.kind not in _NOT_OFFERED:
                            raise  # says nothing about the endpoint: decide on a later request
                        log.info("native embeddings not offered here (%s); using the compatible "
                                 "endpoint", error.kind.value)
                        await self._record(COMPATIBLE)
                        self._chosen = self.client
                    else:
                        await self._record(NATIVE)
                        self._chosen = self.native
                        return result
        return await self._chosen.embed(texts, model=model, dimensions=dimensions, text_type=text_type)
