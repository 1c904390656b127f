"""What we know about DashScope's embedding models: batch caps, dimensions, prices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

DEFAULT_EMBEDDING_MODEL = "text-embedding-v4"

# The native asynchronous task API's models (reference §5). They only exist offline; their
# vectors are taken to be those of the live model of the same generation (Alibaba presents them
# as the batch form of text-embedding-v1/v2: unconfirmed), so an index built with one embeds
# queries and later changes with that live model. Vectors of v1/v2 do not match v3/v4 ones.
ASYNC_MODELS = {"text-embedding-async-v2": "text-embedding-v2",
                "text-embedding-async-v1": "text-embedding-v1"}

# Inputs per request (reference §4). Unknown models get the smaller cap; the server's
# "should not be larger than N" corrects it at run time.
_CAPS = {"text-embedding-v4": 10, "text-embedding-v3": 10, "text-embedding-v2": 25,
         "text-embedding-v1": 25}
_FIXED_DIMENSIONS = {"text-embedding-v2": 1536, "text-embedding-v1": 1536,
                     "text-embedding-async-v2": 1536, "text-embedding-async-v1": 1536}
DIMENSION_CHOICES = {
    "text-embedding-v4": (2048, 1536, 1024, 768, 512, 256, 128, 64),
    "text-embedding-v3": (1024, 768, 512),
    "text-embedding-v2": (1536,),
    "text-embedding-v1": (1536,),
}
# CNY per 1,000 tokens, Beijing list price for live requests.
_PRICE_PER_1K = {"text-embedding-v4": 0.0005, "text-embedding-v3": 0.0005,
                 "text-embedding-v2": 0.0007, "text-embedding-v1": 0.0007,
                 "text-embedding-async-v2": 0.0007, "text-embedding-async-v1": 0.0007}
# The OpenAI-compatible Batch API costs half the live price (reference §4); the native task API
# has its own list price (above), with no discount.
BATCH_DISCOUNT = 0.5


def live_model(model: str) -> str:
    """The model that embeds live (queries, small changes) for an index built with ``model``."""
    return ASYNC_MODELS.get(model, model)


def is_async_model(model: str) -> bool:
    """Served only by the native asynchronous task API."""
    return model in ASYNC_MODELS


def embedding_cap(model: str) -> int:
    return _CAPS.get(live_model(model), 10)


def request_dimensions(model: str, dimensions: int) -> int | None:
    """The ``dimensions`` parameter to send (None for models with a fixed size)."""
    return None if model in _FIXED_DIMENSIONS else dimensions


def stored_dimensions(model: str, dimensions: int) -> int:
    return _FIXED_DIMENSIONS.get(model, dimensions)


def price_per_1k_tokens(model: str) -> float:
    return _PRICE_PER_1K.get(model, _PRICE_PER_1K[DEFAULT_EMBEDDING_MODEL])


def batch_price_per_1k_tokens(model: str) -> float:
    """CNY per 1,000 tokens embedded offline: the native task price, or half the live price."""
    if is_async_model(model):
        return price_per_1k_tokens(model)
    return price_per_1k_tokens(model) * BATCH_DISCOUNT


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
