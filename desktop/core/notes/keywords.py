"""Keyword search that works for Chinese and English alike, and snippets with the hits marked.

SQLite's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so "报销" would
never match inside "差旅报销制度". We therefore store every CJK character as a token of its own
and query Chinese as phrases of adjacent characters (two-character words as one phrase, longer
runs as overlapping pairs), while Latin text keeps unicode61's word tokens: ``E-4012`` is the
phrase ``"e 4012"`` and matches ``E-4012`` exactly where it occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"([{_CJK_CLASS}])")
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_QUERY_PART = re.compile(f"[{_CJK_CLASS}]+|[^\\s{_CJK_CLASS}]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fts_document(text: str) -> str:
    """The form of a text stored in the FTS index: each CJK character a token of its own."""
    return _CJK_CHAR.sub(r" \1 ", text)


@dataclass(frozen=True, slots=True)
class QueryTerms:
    phrases: tuple[tuple[str, ...], ...]  # each a sequence of adjacent tokens
    highlight: re.Pattern[str] | None


def parse_query(query: str) -> QueryTerms:
    phrases: list[tuple[str, ...]] = []
    patterns: list[str] = []
    for part in _QUERY_PART.findall(query):
        if _CJK_RUN.fullmatch(part):
            if len(part) <= 2:
                grams = [part]
            else:
                grams = [part[i:i + 2] for i in range(len(part) - 1)]
            for gram in grams:
                phrases.append(tuple(gram))
                patterns.append(re.escape(gram))
        else:
            words = _WORD.findall(part)
            # CJK inside a Latin part cannot happen (split above), so words are Latin/digits.
            if not words:
                continue
            phrases.append(tuple(w.lower() for w in words))
            patterns.append(
                r"(?<![A-Za-z0-9])" + r"[\W_]{0,3}".join(re.escape(w) for w in words)
                + r"(?![A-Za-z0-9])"
            )
    unique = tuple(dict.fromkeys(phrases))
    if not patterns:
        return QueryTerms(unique, None)
    patterns.sort(key=len, reverse=True)
    highlight = re.compile("|".join(dict.fromkeys(patterns)), re.IGNORECASE)
    return QueryTerms(unique, highlight)


def fts_match(terms: QueryTerms) -> str | None:
    """An FTS5 MATCH expression: any of the phrases (bm25 ranks texts with more of them first)."""
    if not terms.phrases:
        return None
    return " OR ".join('"' + " ".join(p) + '"' for p in terms.phrases)


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) offsets into text

    def marked(self, before: str = "[", after: str = "]") -> str:
        """The snippet with each hit wrapped, e.g. in ``<b>``…``</b>`` (escape the text first)."""
        out: list[str] = []
        pos = 0
        for start, end in self.highlights:
            out.append(self.text[pos:start])
            out.append(before + self.text[start:end] + after)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)


def _find(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    if pattern is None:
        return []
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]


def make_snippet(text: str, terms: QueryTerms, width: int = 180) -> Snippet:
    """A window of ``text`` around the densest cluster of hits, whitespace collapsed."""
    hits = _find(terms.highlight, text)
    start = 0
    if hits:
        best_count = -1
        for hit_start, _ in hits:
            window_start = max(0, hit_start - width // 4)
            count = sum(1 for s, e in hits if s >= window_start and e <= window_start + width)
            if count > best_count:
                best_count, start = count, window_start
    end = min(len(text), start + width)
    if end == len(text):
        start = max(0, end - width)
    window = re.sub(r"\s+", " ", text[start:end]).strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    snippet = prefix + window + suffix
    return Snippet(snippet, tuple(_find(terms.highlight, snippet)))
