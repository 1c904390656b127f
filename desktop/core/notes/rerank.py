"""Reordering search hits with a DashScope rerank model (``gte-rerank-v2`` or ``qwen3-rerank``).

The hybrid search finds a few dozen candidates; a rerank model reads the question with each
candidate's text and scores how well it answers it. Asked through the native API
(``POST /api/v1/services/rerank/text-rerank/text-rerank``); ``qwen3-rerank`` also has an
OpenAI-style route (``POST /compatible-api/v1/reranks``), tried when the native one does not know
the model — which regions serve which is not confirmed.

Reranking is an improvement, never a condition: :func:`rerank_or_keep` gives the fused order back,
with a log line saying why, whenever the model cannot be asked or answers nonsense.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from desktop.core import native_api
from desktop.core.errors import ErrorKind, QwenError

if TYPE_CHECKING:
    from desktop.core.client import QwenClient
    from desktop.core.notes.search import Searcher, SearchResults

log = logging.getLogger(__name__)

RERANK_MODELS = ("gte-rerank-v2", "qwen3-rerank")
DEFAULT_RERANK_MODEL = RERANK_MODELS[0]
NATIVE_PATH = "/api/v1/services/rerank/text-rerank/text-rerank"
COMPATIBLE_PATH = "/compatible-api/v1/reranks"
CANDIDATES = 30  # hybrid hits handed to the model
MAX_DOCUMENT_CHARS = 4000  # well inside the ~4K tokens a document may have
TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Reranked:
    """The model's order: (index into the documents, relevance score), best first."""

    order: tuple[tuple[int, float], ...]
    total_tokens: int
    model: str
    request_id: str | None = None


class Reranker(Protocol):
    async def rerank(self, query: str, documents: Sequence[str], *, model: str,
                     top_n: int) -> Reranked: ...


class DashScopeReranker:
    """Reranking through the service, on the client's connection."""

    def __init__(self, client: QwenClient, timeout: float = TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout

    async def rerank(self, query: str, documents: Sequence[str], *, model: str,
                     top_n: int) -> Reranked:
        root = native_api.host_root(self.client.config.base_url)
        if root is None:
            raise QwenError(ErrorKind.BAD_REQUEST,
                            "reranking needs a DashScope address ending in /compatible-mode/v1")
        docs = [d[:MAX_DOCUMENT_CHARS] for d in documents]
        body = {"model": model, "input": {"query": query, "documents": docs},
                "parameters": {"return_documents": False, "top_n": top_n}}
        try:
            answer = await native_api.post(self.client, root + NATIVE_PATH, body, seconds=self.timeout)
            output = answer.get("output")
            results = output.get("results") if isinstance(output, dict) else None
        except QwenError as error:
            if model != "qwen3-rerank" or error.status not in (400, 404):
                raise
            log.info("native rerank refused %s (%s); trying the compatible route", model, error.kind)
            answer = await native_api.post(
                self.client, root + COMPATIBLE_PATH,
                {"model": model, "query": query, "documents": docs, "top_n": top_n},
                seconds=self.timeout)
            results = answer.get("results")
        return Reranked(_order(results, len(docs)), _tokens(answer), model, answer.get("request_id"))


def _order(results: Any, count: int) -> tuple[tuple[int, float], ...]:
    if not isinstance(results, list):
        raise QwenError(ErrorKind.BAD_RESPONSE, "the rerank answer has no results")
    order: list[tuple[int, float]] = []
    seen: set[int] = set()
    for item in results:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score") if isinstance(item, dict) else None
        if (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count
                or index in seen or not isinstance(score, (int, float)) or not math.isfinite(score)):
            raise QwenError(ErrorKind.BAD_RESPONSE, "the rerank answer has an invalid result")
        seen.add(index)
        order.append((index, float(score)))
    order.sort(key=lambda x: -x[1])
    return tuple(order)


def _tokens(answer: dict[str, Any]) -> int:
    usage = answer.get("usage")
    tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else 0


@dataclass(frozen=True, slots=True)
class RerankOutcome:
    """Positions into the candidates, best first, and what it cost; ``reranked`` is False when
    the fused order was kept (``reason`` says why)."""

    positions: tuple[int, ...]
    reranked: bool
    model: str
    total_tokens: int = 0
    scores: tuple[float, ...] = ()
    reason: str = ""


async def rerank_or_keep(reranker: Reranker | None, query: str, documents: Sequence[str], *,
                         model: str, top_n: int) -> RerankOutcome:
    """The model's order of ``documents``, or their own order when it cannot be had (logged).

    Documents the model leaves out (beyond its ``top_n``) follow in their fused order."""
    keep = RerankOutcome(tuple(range(len(documents))), False, model)
    if reranker is None or len(documents) < 2:
        return keep
    try:
        ranked = await reranker.rerank(query, documents, model=model, top_n=min(top_n, len(documents)))
    except QwenError as error:
        log.warning("rerank with %s failed (%s: %s); citing the search's own order",
                    model, error.kind.value, error.details().replace("\n", "; "))
        return RerankOutcome(keep.positions, False, model, reason=error.kind.value)
    except Exception as exc:  # noqa: BLE001 - never a failed answer because of the reranker
        log.warning("rerank with %s failed unexpectedly (%s); citing the search's own order",
                    model, type(exc).__name__)
        return RerankOutcome(keep.positions, False, model, reason=type(exc).__name__)
    positions = [i for i, _ in ranked.order]
    rest = [i for i in range(len(documents)) if i not in set(positions)]
    return RerankOutcome(tuple(positions + rest), True, model, ranked.total_tokens,
                         tuple(s for _, s in ranked.order))


def reranker_for(client: object, enabled: bool) -> Reranker | None:
    """The service's reranker on ``client``'s connection, or None (turned off, no key)."""
    from desktop.core.client import QwenClient

    return DashScopeReranker(client) if enabled and isinstance(client, QwenClient) else None


def rerank_model_for(name: str) -> str:
    """A known rerank model (a hand-edited setting of another name gets the default)."""
    return name if name in RERANK_MODELS else DEFAULT_RERANK_MODEL


async def reranked_search(searcher: Searcher, reranker: Reranker | None, query: str, k: int,
                          model: str) -> SearchResults:
    """A search whose best :data:`CANDIDATES` hits the model reorders ("Best match first");
    hits with a code or quoted phrase as written stay first."""
    results = await searcher.search(query, k=max(k, CANDIDATES))
    if results.error is not None or len(results.hits) < 2:  # the service is out of reach
        return dataclasses.replace(results, hits=results.hits[:k],
                                   reranked=False if reranker is not None else None)
    infos = await asyncio.to_thread(searcher.store.chunk_infos, [h.chunk_id for h in results.hits])
    hits = [h for h in results.hits if h.chunk_id in infos]
    outcome = await rerank_or_keep(
        reranker, query, [f"{h.heading}\n{infos[h.chunk_id].text}" for h in hits], model=model, top_n=k)
    ordered = [hits[i] for i in outcome.positions]
    ordered = [h for h in ordered if h.exact] + [h for h in ordered if not h.exact]
    return dataclasses.replace(results, hits=tuple(ordered[:k]), reranked=outcome.reranked)
