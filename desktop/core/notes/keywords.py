"""Keyword search that works for Chinese and English alike, and snippets with the hits marked.

SQLite's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so "报销" would
never match inside "差旅报销制度". We therefore store every CJK character as a token of its own
and query Chinese as phrases of adjacent characters (two-character words as one phrase, longer
runs as overlapping pairs), while Latin text keeps unicode61's word tokens: ``E-4012`` is the
phrase ``"e 4012"`` and matches ``E-4012`` exactly where it occurs.

A query that looks like a code (``REF-0777``, ``INV/2026/11``) or is a phrase in double quotes
asks for its text as written: :func:`exact_phrase` says which, :func:`exact_pattern` tells the
chunks that contain it from those that only share its words.

Snippets are readable text: Markdown markup is taken out before the window is cut, and the
window begins and ends at word boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"([{_CJK_CLASS}])")
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_QUERY_PART = re.compile(f"[{_CJK_CLASS}]+|[^\\s{_CJK_CLASS}]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Letters and digits joined by - _ / . (REF-0777, E-4012, INV/2026/11, build_42.tar).
_CODE = re.compile(r"[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)+")
_QUOTED = re.compile(r'["\u201c\u201d](.+)["\u201c\u201d]', re.DOTALL)
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


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


def exact_phrase(query: str) -> str | None:
    """The text ``query`` asks to find as written, or None when it asks for words or meaning.

    A code counts when it has a digit, an ``_`` or ``/``, or only capital letters, so that
    ``e-mail`` or ``self-test`` stay ordinary words.
    """
    query = query.strip()
    if (quoted := _QUOTED.fullmatch(query)) is not None:
        inner = re.sub(r"\s+", " ", quoted.group(1)).strip()
        return inner if _WORD.search(inner) else None
    if _CODE.fullmatch(query) and (
        any(c.isdigit() for c in query) or "_" in query or "/" in query or query.isupper()
    ):
        return query
    return None


def exact_pattern(phrase: str) -> re.Pattern[str]:
    """Where ``phrase`` occurs as written (any case, any run of whitespace between its words),
    not inside a longer code: ``REF-0777`` is not in ``XREF-0777`` nor in ``REF-0777-B``."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    lead = tail = ""
    if _ASCII_ALNUM.match(phrase[0]):
        lead = r"(?<![A-Za-z0-9])(?<![A-Za-z0-9][-_/.])"
    if _ASCII_ALNUM.match(phrase[-1]):
        tail = r"(?![A-Za-z0-9]|[-_/.][A-Za-z0-9])"
    return re.compile(lead + body + tail, re.IGNORECASE)


def fts_phrase(phrase: str) -> str | None:
    """An FTS5 MATCH expression for the tokens of ``phrase`` in sequence: every chunk that may
    contain it (check each with :func:`exact_pattern`)."""
    tokens = [w.lower() for w in _WORD.findall(fts_document(phrase))]
    return '"' + " ".join(tokens) + '"' if tokens else None


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


# Markdown markup that a snippet shows as the text it marks up (line-based, then inline).
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}).*$", re.MULTILINE)
_RULE_LINE = re.compile(r"^[ \t]*([-=*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?$", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_QUOTE_MARK = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)
_LIST_MARK = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*?)\|?[ \t]*$", re.MULTILINE)
_LINK = re.compile(r"!?\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CJK_OR_SPACE = re.compile(f"[\\s{_CJK_CLASS}]")


def readable_text(text: str) -> str:
    """``text`` without Markdown markup: headings, list and quote markers, table pipes,
    emphasis, code ticks and link syntax go; the words they mark up stay."""
    text = _FENCE_LINE.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = _RULE_LINE.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _QUOTE_MARK.sub("", text)
    text = _LIST_MARK.sub("", text)
    text = _TABLE_ROW.sub(lambda m: " \u00b7 ".join(c.strip() for c in m.group(1).split("|")), text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    return text.replace("**", "").replace("`", "")


def _is_boundary(text: str, pos: int) -> bool:
    """Whether a cut at ``pos`` falls between words (any place next to a space or a CJK
    character: Chinese has no spaces between words)."""
    if pos <= 0 or pos >= len(text):
        return True
    return bool(_CJK_OR_SPACE.match(text[pos - 1]) or _CJK_OR_SPACE.match(text[pos]))


def make_snippet(text: str, terms: QueryTerms, width: int = 180) -> Snippet:
    """A window of readable ``text`` around the densest cluster of hits, whitespace collapsed,
    cut at word boundaries."""
    plain = re.sub(r"\s+", " ", readable_text(text)).strip()
    hits = _find(terms.highlight, plain)
    start = 0
    if hits:
        best_count = -1
        for hit_start, _ in hits:
            window_start = max(0, hit_start - width // 4)
            count = sum(1 for s, e in hits if s >= window_start and e <= window_start + width)
            if count > best_count:
                best_count, start = count, window_start
    end = min(len(plain), start + width)
    if end == len(plain):
        start = max(0, end - width)
    if not _is_boundary(plain, start):  # mid-word: begin at the next word
        space = plain.find(" ", start, end)
        if space != -1 and space - start <= 40:
            start = space + 1
    if not _is_boundary(plain, end):  # end after the last whole word
        space = plain.rfind(" ", start, end)
        if space != -1 and end - space <= 40:
            end = space
    window = plain[start:end].strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(plain) else ""
    snippet = prefix + window + suffix
    return Snippet(snippet, tuple(_find(terms.highlight, snippet)))
