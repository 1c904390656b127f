"""What we know about DashScope's embedding models: batch caps, dimensions, prices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

DEFAULT_EMBEDDING_MODEL = "text-embedding-v4"

# Inputs per request (reference §4). Unknown models get the smaller cap; the server's
# "should not be larger than N" corrects it at run time.
_CAPS = {"text-embedding-v4": 10, "text-embedding-v3": 10, "text-embedding-v2": 25,
         "text-embedding-v1": 25}
_FIXED_DIMENSIONS = {"text-embedding-v2": 1536, "text-embedding-v1": 1536}
DIMENSION_CHOICES = {
    "text-embedding-v4": (2048, 1536, 1024, 768, 512, 256, 128, 64),
    "text-embedding-v3": (1024, 768, 512),
    "text-embedding-v2": (1536,),
    "text-embedding-v1": (1536,),
}
# CNY per 1,000 tokens, Beijing list price for live requests.
_PRICE_PER_1K = {"text-embedding-v4": 0.0005, "text-embedding-v3": 0.0005,
                 "text-embedding-v2": 0.0007, "text-embedding-v1": 0.0007}


def embedding_cap(model: str) -> int:
    return _CAPS.get(model, 10)


def request_dimensions(model: str, dimensions: int) -> int | None:
    """The ``dimensions`` parameter to send (None for models with a fixed size)."""
    return None if model in _FIXED_DIMENSIONS else dimensions


def stored_dimensions(model: str, dimensions: int) -> int:
    return _FIXED_DIMENSIONS.get(model, dimensions)


def price_per_1k_tokens(model: str) -> float:
    return _PRICE_PER_1K.get(model, _PRICE_PER_1K[DEFAULT_EMBEDDING_MODEL])


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def estimate_tokens(text: str) -> int:
    """A rough token count: Qwen's tokenizer gives about 1.5 Chinese characters or 4 other
    characters per token. Only for the pre-run estimate; real counts come from the server."""
    cjk = len(_CJK.findall(text))
    return max(1, round(cjk / 1.5 + (len(text) - cjk) / 4))


class EmbeddingResult(Protocol):
    """What an embedder returns (``desktop.core.client.Embeddings`` fits)."""

    @property
    def vectors(self) -> list[list[float]]: ...

    @property
    def total_tokens(self) -> int: ...


class Embedder(Protocol):
    """One embedding request; raises ``QwenError`` (``BATCH_TOO_LARGE`` with ``limit``…)."""

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str,
        dimensions: int | None = None,
        text_type: str | None = None,
    ) -> EmbeddingResult: ...
