"""Cutting a note into chunks that follow its structure.

Sections come from headings (Markdown ``#`` and underlined titles, reStructuredText underlines,
Org ``*``); within a section, paragraphs and fenced code blocks stay whole when they fit, and
longer ones are cut at sentence ends — Chinese ``。！？；`` as well as ``. ! ?`` — or at line
breaks. Consecutive chunks of one section share a short overlap (the last sentence or two), so a
statement cut in half is still found. Every chunk knows its heading path and 1-based line range.
Works on character offsets into the original text, so line numbers stay exact.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from desktop.core.notes.reader import TextKind

MAX_CHARS = 1000
OVERLAP_CHARS = 150


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    heading: tuple[str, ...]
    line_start: int  # 1-based, inclusive
    line_end: int


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    heading: tuple[str, ...]


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`*+#<>_:.])\1{2,}[ \t]*$")
_ORG = re.compile(r"^(\*+)[ \t]+(.*?)[ \t]*$")
# Where a sentence may end: CJK ends (with closing quotes or brackets), Western ends before a space.
_SENTENCE_END = re.compile(r"[。！？；!?…]+[”’」』）)\]\"']*|[.;:](?=[ \t])|\n")


def chunk_text(
    text: str, kind: TextKind, *, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS
) -> list[Chunk]:
    line_starts = [0]
    line_starts.extend(m.end() for m in re.finditer("\n", text))

    def line_of(offset: int) -> int:
        return bisect.bisect_right(line_starts, offset)

    chunks: list[Chunk] = []
    blocks = list(_blocks(text, kind))
    i = 0
    while i < len(blocks):
        heading = blocks[i].heading
        section: list[_Block] = []
        while i < len(blocks) and blocks[i].heading == heading:
            section.append(blocks[i])
            i += 1
        for start, end in _pack(text, section, max_chars, overlap_chars):
            start, end = _strip_span(text, start, end)
            if not any(c.isalnum() for c in text[start:end]):
                continue  # rules, overlines, stray punctuation
            chunks.append(
                Chunk(len(chunks), text[start:end], heading, line_of(start), line_of(end - 1))
            )
    return chunks


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str, kind: TextKind) -> Iterator[_Block]:
    """Paragraphs and code blocks with the heading path they sit under."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    path: list[tuple[int, str]] = []  # (level, title)
    rst_levels: list[str] = []
    block_start: int | None = None
    fence: str | None = None
    n = len(lines)

    def heading() -> tuple[str, ...]:
        return tuple(title for _, title in path)

    def set_heading(level: int, title: str) -> None:
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title.strip()))

    i = 0
    if kind is TextKind.MARKDOWN and n > 1 and lines[0].strip() == "---":
        # YAML front matter: one block, never parsed for headings.
        for j in range(1, n):
            if lines[j].strip() in {"---", "..."}:
                yield _Block(0, offsets[j + 1] - 1, ())
                i = j + 1
                break

    while i < n:
        line = lines[i]
        stripped = line.strip()
        is_heading = False
        consumed = 1
        if fence is not None:
            if line.lstrip().startswith(fence):
                fence = None
            i += 1
            continue
        if kind is TextKind.MARKDOWN:
            if m := _FENCE.match(line):
                if block_start is None:
                    block_start = offsets[i]
                fence = m.group(1)[0] * 3
                i += 1
                continue
            if m := _ATX.match(line):
                is_heading = True
                level, title = len(m.group(1)), m.group(2)
            elif (
                stripped
                and i + 1 < n
                and (i == 0 or not lines[i - 1].strip())
                and (u := _SETEXT.match(lines[i + 1]))
                and not _ATX.match(line)
            ):
                is_heading = True
                level, title, consumed = (1 if u.group(1)[0] == "=" else 2), stripped, 2
        elif kind is TextKind.ORG and (m := _ORG.match(line)):
            is_heading = True
            level, title = len(m.group(1)), m.group(2)
        elif (
            kind is TextKind.RST
            and stripped
            and i + 1 < n
            and (u := _RST_ADORNMENT.match(lines[i + 1].strip()))
            and not _RST_ADORNMENT.match(stripped)
        ):
            overlined = i > 0 and lines[i - 1].strip() == lines[i + 1].strip()
            style_key = ("o" if overlined else "u") + u.group(1)
            if style_key not in rst_levels:
                rst_levels.append(style_key)
            is_heading = True
            level, title, consumed = rst_levels.index(style_key) + 1, stripped, 2
        if is_heading:
            if block_start is not None:
                yield _Block(block_start, offsets[i] - 1, heading())
                block_start = None
            set_heading(level, title)
            i += consumed
            continue
        if not stripped:
            if block_start is not None:
                yield _Block(block_start, offsets[i] - 1, heading())
                block_start = None
        elif block_start is None:
            block_start = offsets[i]
        i += 1
    if block_start is not None:
        yield _Block(block_start, len(text), heading())


def _sentences(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans of sentences (or lines) inside [start, end), none longer than max_chars."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.end() > pos:
            spans.append((pos, m.end()))
            pos = m.end()
    if pos < end:
        spans.append((pos, end))
    result: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > max_chars:
            cut = s + max_chars
            space = text.rfind(" ", s + max_chars // 2, cut)
            if space > s:
                cut = space + 1
            result.append((s, cut))
            s = cut
        if e > s:
            result.append((s, e))
    return result


def _pack(
    text: str, section: list[_Block], max_chars: int, overlap_chars: int
) -> Iterator[tuple[int, int]]:
    """Greedy packing of a section's sentences into spans, breaking at paragraphs when it can."""
    pieces: list[tuple[int, int, bool]] = []  # (start, end, starts a block)
    for block in section:
        if block.end - block.start <= max_chars:
            pieces.append((block.start, block.end, True))
        else:
            for k, (s, e) in enumerate(_sentences(text, block.start, block.end, max_chars)):
                pieces.append((s, e, k == 0))
    current: list[tuple[int, int, bool]] = []
    for idx, piece in enumerate(pieces):
        if current:
            start = current[0][0]
            fits = piece[1] - start <= max_chars
            if fits and piece[2]:
                # At a paragraph boundary: break early when the whole paragraph would not fit
                # and the chunk is already half full.
                block_end = _block_end(pieces, idx)
                if block_end - start > max_chars and current[-1][1] - start >= max_chars // 2:
                    fits = False
            if not fits:
                yield start, current[-1][1]
                current = _overlap(current, overlap_chars, piece[0])
                while current and piece[1] - current[0][0] > max_chars:
                    current.pop(0)
        current.append(piece)
    if current:
        yield current[0][0], current[-1][1]


def _block_end(pieces: list[tuple[int, int, bool]], idx: int) -> int:
    end = pieces[idx][1]
    for _s, e, first in pieces[idx + 1:]:
        if first:
            break
        end = e
    return end


def _overlap(
    current: list[tuple[int, int, bool]], overlap_chars: int, next_start: int
) -> list[tuple[int, int, bool]]:
    """The trailing sentences of a finished chunk to repeat at the start of the next one."""
    if overlap_chars <= 0:
        return []
    tail: list[tuple[int, int, bool]] = []
    for piece in reversed(current):
        if current[-1][1] - piece[0] > overlap_chars:
            break
        tail.insert(0, piece)
    if len(tail) == len(current):
        tail = tail[1:]  # never repeat a whole chunk
    return tail
