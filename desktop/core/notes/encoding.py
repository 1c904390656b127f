"""Turning the bytes of a text note into text: detect the encoding, never assume it.

Order of checks: byte-order marks (UTF-8, UTF-16, UTF-32); strict UTF-8; UTF-16 without a BOM
(NUL-byte pattern, or text that only decodes to plausible characters); binary data (NUL bytes,
control characters); then the legacy Chinese encodings (GB18030 covers GBK and GB2312; Big5 as
cp950 / Big5-HKSCS) and whatever charset-normalizer proposes, each candidate scored by how much
of its Chinese looks like everyday Chinese — GBK bytes read as Big5 (and the other way round)
decode without error but give rare characters, kana, Greek or box drawing.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer


class BinaryContent(ValueError):
    """The bytes are not text in any encoding we know."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str


def _level1(encoding: str, leads: range, trails: list[int], last: bytes = b"\xff\xff") -> frozenset[str]:
    """The characters of a legacy code page's "frequently used" block."""
    chars: set[str] = set()
    for lead in leads:
        for trail in trails:
            pair = bytes((lead, trail))
            if pair > last:
                break
            try:
                chars.add(pair.decode(encoding))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


# GB2312 level 1: the 3,755 most used simplified characters. Big5 level 1: the 5,401 常用字.
GB_COMMON = _level1("gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF)))
BIG5_COMMON = _level1("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)], b"\xc6\x7e")
ANY_COMMON = GB_COMMON | BIG5_COMMON
_COMMON_FOR = {"gb18030": GB_COMMON, "gbk": GB_COMMON, "gb2312": GB_COMMON,
               "cp950": BIG5_COMMON, "big5": BIG5_COMMON, "big5hkscs": BIG5_COMMON}


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F


def _plausible_char(ch: str) -> bool:
    cp = ord(ch)
    return (
        ch in "\t\n\r"
        or 0x20 <= cp < 0x7F
        or 0xA0 <= cp <= 0x24F  # Latin-1, Latin Extended
        or 0x2000 <= cp <= 0x206F  # general punctuation
        or 0x3000 <= cp <= 0x303F  # CJK punctuation
        or 0x4E00 <= cp <= 0x9FFF
        or 0xFF01 <= cp <= 0xFF5E  # full-width ASCII forms (not half-width katakana)
        or 0xFFE0 <= cp <= 0xFFE6
    )


def chinese_score(text: str, common: frozenset[str] = ANY_COMMON) -> float:
    """Share of CJK characters that are among the everyday ones (0.0 when there is no CJK)."""
    sample = text[:20000]
    cjk = [c for c in sample if _is_cjk(c)]
    if not cjk:
        return 0.0
    return sum(1 for c in cjk if c in common) / len(cjk)


def _odd_characters(text: str) -> float:
    """Share of characters that are unlikely in a note (control, private use, kana, Greek, boxes…)."""
    sample = text[:20000]
    if not sample:
        return 0.0
    return sum(1 for c in sample if not _plausible_char(c)) / len(sample)


def _bomless_utf16(data: bytes) -> str | None:
    """The UTF-16 variant of BOM-less data, or None when it does not look like UTF-16."""
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:8192]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    # NULs come from the high byte of ASCII characters, so they sit almost all on one side (a CJK
    # character whose low byte is 0, like U+4E00, puts the odd one on the other side).
    if min(even_nuls, odd_nuls) > max(2, max(even_nuls, odd_nuls) // 8):
        return None
    if odd_nuls + even_nuls == 0 and len(data) < 32:
        return None  # a few bytes without NULs are as likely GBK or Big5 as UTF-16
    mostly_ascii = max(even_nuls, odd_nuls) > 0.3 * half
    if mostly_ascii:  # the side the NULs are on gives the byte order
        candidates = ["utf-16-le"] if odd_nuls > even_nuls else ["utf-16-be"]
    else:  # too few NULs to tell: the reading that gives plausible text wins
        candidates = ["utf-16-le", "utf-16-be"] if odd_nuls >= even_nuls else ["utf-16-be", "utf-16-le"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _odd_characters(text) >= 0.02:  # control characters: binary data, not text
            continue
        head = text[:20000]
        if mostly_ascii:
            return enc
        if any(_is_cjk(c) for c in head):
            if chinese_score(head) > 0.5:  # random byte pairs are rarely everyday characters
                return enc
        elif sum(1 for c in head if c < "\x7f") > 0.9 * len(head):
            return enc
    return None


def looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls > 0.05 * max(1, len(sample))


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_LEGACY_CHINESE = ("gb18030", "cp950", "big5hkscs")


def decode_text(data: bytes) -> Decoded:
    """Decode a note's bytes; raises :class:`BinaryContent` when they are not text."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(_normalise_newlines(data.decode(enc)), enc)
            except UnicodeDecodeError:
                break  # a BOM followed by garbage: fall through to detection
    if b"\x00" not in data[:8192]:  # NUL is valid UTF-8, but text never contains it
        try:
            return Decoded(_normalise_newlines(data.decode("utf-8")), "utf-8")
        except UnicodeDecodeError:
            pass
    if (utf16 := _bomless_utf16(data)) is not None:
        try:
            return Decoded(_normalise_newlines(data.decode(utf16)), utf16)
        except UnicodeDecodeError:
            pass
    if looks_binary(data):
        raise BinaryContent("binary data")
    return _decode_legacy(data)


def _decode_legacy(data: bytes) -> Decoded:
    best = charset_normalizer.from_bytes(data[:65536]).best()
    proposal = best.encoding if best is not None else None
    # Chinese readings first (ties go to the earlier one), then charset-normalizer's proposal,
    # then Windows-1252 as the common office fallback for Western text.
    order = list(dict.fromkeys([*_LEGACY_CHINESE, *([proposal] if proposal else []), "cp1252"]))
    candidates: list[tuple[float, int, str, str]] = []
    for position, enc in enumerate(order):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        # Score each reading against its own script's common characters: GBK read as Big5 gives
        # traditional characters that are common only about half the time, and vice versa.
        score = chinese_score(text, _COMMON_FOR.get(enc, ANY_COMMON)) - 2 * _odd_characters(text)
        if enc == proposal and not any(_is_cjk(c) for c in text[:20000]):
            score += 0.01  # for Western text, charset-normalizer knows best
        candidates.append((score, -position, enc, text))
    if candidates:
        _, _, enc, text = max(candidates)
        return Decoded(_normalise_newlines(text), enc)
    # Nothing decodes strictly: keep what can be read rather than lose the note.
    return Decoded(_normalise_newlines(data.decode("utf-8", errors="replace")), "utf-8 (damaged)")


def _normalise_newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
