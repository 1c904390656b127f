"""Asking Qwen about your notes: retrieval, relevance, the cited prompt and its sources.

The question goes to the hybrid notes search; the hits that are really about it (a strong
match by meaning, or a significant word of the question found in the text) become numbered
excerpts in the request, with an instruction to answer from them and cite them as [1], [2]…
When nothing relevant is found, Qwen is not asked at all (:func:`no_notes_message` says so).
What fits into the model's context is decided by :func:`desktop.core.context.plan_request`.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.core.errors import QwenError
from desktop.core.notes.keywords import parse_query
from desktop.core.notes.rerank import (
    CANDIDATES,
    DEFAULT_RERANK_MODEL,
    Reranker,
    RerankOutcome,
    rerank_or_keep,
)

RETRIEVE_K = 8
MIN_SIMILARITY = 0.6  # cosine similarity that counts as "about the question" on its own


@dataclass(frozen=True, slots=True)
class Source:
    """A numbered excerpt shown under an answer and stored with it."""

    number: int
    path: str
    heading: str = ""
    line_start: int = 0
    line_end: int = 0
    snippet: str = ""

    @property
    def file_name(self) -> str:
        return os.path.basename(self.path)

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "path": self.path, "heading": self.heading,
                "line_start": self.line_start, "line_end": self.line_end, "snippet": self.snippet}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Source:
        return cls(int(raw["number"]), str(raw["path"]), str(raw.get("heading", "")),
                   int(raw.get("line_start", 0)), int(raw.get("line_end", 0)),
                   str(raw.get("snippet", "")))


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk of a note, with its full text."""

    path: str
    heading: str
    line_start: int
    line_end: int
    snippet: str
    text: str
    score: float
    relevant: bool

    def source(self, number: int) -> Source:
        return Source(number, self.path, self.heading, self.line_start, self.line_end, self.snippet)


@dataclass(frozen=True, slots=True)
class Retrieval:
    passages: tuple[Passage, ...]  # best first; only the relevant ones are sent
    keyword_only: bool = False  # the meaning part could not run (no key, network…)
    error: QwenError | None = None
    rerank: RerankOutcome | None = None  # when a rerank model was asked (or failed: fused order)

    @property
    def relevant(self) -> tuple[Passage, ...]:
        return tuple(p for p in self.passages if p.relevant)


class Retriever(Protocol):
    async def retrieve(self, question: str) -> Retrieval: ...


# ---- relevance --------------------------------------------------------------------------------

_STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no
nor not now of off on once only or other our ours out over own please same she should so some
such tell than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
yours know find give get show explain summarise summarize list notes note my our
""".split())
_CJK_STOP_GRAMS = frozenset("""
什么 怎么 如何 哪些 哪个 是否 可以 我们 你们 他们 这个 那个 一个 没有 为什 么是 是什 的是 了吗 吗？
请问 告诉 一下 关于 有关 有没 有哪 哪里 多少 笔记 我的 中的 里的 的内 内容 是多 么样 怎样
""".split())
_WORDS = re.compile(r"[^\W_]+")


def significant_terms(question: str) -> list[tuple[str, ...]]:
    """The query phrases that carry meaning: not question words, not function words."""
    terms: list[tuple[str, ...]] = []
    for phrase in parse_query(question).phrases:
        joined = "".join(phrase)
        if len(phrase) == 2 and len(joined) == 2 and not joined.isascii():  # a CJK pair
            if joined not in _CJK_STOP_GRAMS:
                terms.append(phrase)
        elif len(phrase) == 1 and len(joined) == 1 and not joined.isascii():  # one CJK character
            continue
        elif any((w not in _STOPWORDS and len(w) > 1) or w.isdigit() for w in phrase):
            terms.append(phrase)
    return terms


def mentions(text: str, phrase: tuple[str, ...]) -> bool:
    if not phrase[0].isascii():  # CJK: characters in sequence
        return "".join(phrase) in text
    words = [w.lower() for w in _WORDS.findall(text)]
    n = len(phrase)
    return any(tuple(words[i:i + n]) == phrase for i in range(len(words) - n + 1))


def is_relevant(question_terms: Sequence[tuple[str, ...]], text: str, heading: str,
                vector_score: float | None, min_similarity: float = MIN_SIMILARITY) -> bool:
    if vector_score is not None and vector_score >= min_similarity:
        return True
    haystack = f"{heading}\n{text}"
    return any(mentions(haystack, phrase) for phrase in question_terms)


# ---- retrieval through the notes search -----------------------------------------------------


class SearcherRetriever:
    """Retrieval through :class:`desktop.core.notes.search.Searcher` (hybrid search), the best
    :data:`~desktop.core.notes.rerank.CANDIDATES` reordered by a rerank model when one is given
    (chunks that contain a code or quoted phrase as written stay first)."""

    def __init__(self, searcher: Any, k: int = RETRIEVE_K, min_similarity: float = MIN_SIMILARITY,
                 *, reranker: Reranker | None = None, rerank_model: str = DEFAULT_RERANK_MODEL) -> None:
        self.searcher = searcher
        self.k = k
        self.min_similarity = min_similarity
        self.reranker = reranker
        self.rerank_model = rerank_model

    async def retrieve(self, question: str) -> Retrieval:
        results = await self.searcher.search(
            question, k=max(self.k, CANDIDATES) if self.reranker is not None else self.k)
        infos = await asyncio.to_thread(self.searcher.store.chunk_infos, [h.chunk_id for h in results.hits])
        # Hits removed from the index since the search are left out.
        found = [(hit, infos[hit.chunk_id]) for hit in results.hits if hit.chunk_id in infos]
        rerank: RerankOutcome | None = None
        if self.reranker is not None:
            rerank = await rerank_or_keep(
                self.reranker, question, [f"{hit.heading}\n{info.text}" for hit, info in found],
                model=self.rerank_model, top_n=self.k)
            ordered = [found[i] for i in rerank.positions]
            found = [f for f in ordered if f[0].exact] + [f for f in ordered if not f[0].exact]
        terms = significant_terms(question)
        passages = tuple(
            Passage(
                path=hit.path, heading=hit.heading, line_start=hit.line_start, line_end=hit.line_end,
                snippet=hit.snippet.text, text=info.text, score=hit.score,
                relevant=is_relevant(terms, info.text, hit.heading, hit.vector_score, self.min_similarity),
            )
            for hit, info in found[: self.k]
        )
        return Retrieval(passages, results.keyword_only, results.error, rerank)


# ---- the prompt -----------------------------------------------------------------------------

INSTRUCTION = (
    "Answer the question at the end using the numbered excerpts from my notes below. Cite the "
    "excerpts you use by their numbers in square brackets, like [1] or [2][3], right after the "
    "statements they support. If the excerpts do not contain the answer, say so plainly instead of "
    "guessing. Answer in the language of the question."
)


def excerpt_block(number: int, passage: Passage) -> str:
    where = os.path.basename(passage.path)
    if passage.heading:
        where += f" — {passage.heading}"
    if passage.line_start:
        where += (f" (line {passage.line_start})" if passage.line_start == passage.line_end
                  else f" (lines {passage.line_start}-{passage.line_end})")
    return f"[{number}] {where}\n{passage.text.strip()}"


def notes_message(question: str, passages: Sequence[Passage]) -> str:
    """The user message that carries the excerpts and the question."""
    blocks = "\n\n".join(excerpt_block(i, p) for i, p in enumerate(passages, start=1))
    return f"{INSTRUCTION}\n\n<notes>\n{blocks}\n</notes>\n\nQuestion: {question}"


_CJK = re.compile(r"[\u3400-\u9fff]")

NO_NOTES_EN = ("Nothing in your notes seems to be about this, so Qwen was not asked. Try other "
               "words, check that the folder with the answer is indexed, or turn off \"Use my notes\".")
NO_NOTES_ZH = "你的笔记中似乎没有与此相关的内容，因此没有询问通义千问。请换个说法，确认包含答案的文件夹已建立索引，或关闭“使用我的笔记”。"


def no_notes_message(question: str) -> str:
    """What to say when nothing relevant was found, in the language of the question."""
    return NO_NOTES_ZH if _CJK.search(question) else NO_NOTES_EN
