"""Reading one note file into text: plain text formats, HTML, .docx and .pdf.

Everything here is blocking and Qt-free: the index run calls it from an executor. A file that
cannot be read raises :class:`NoteUnreadable` with a :class:`SkipReason`, never anything else, so
one bad file never stops an index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path

from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.notes.encoding import BinaryContent, decode_text

log = logging.getLogger(__name__)


TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".rst", ".org", ".html", ".htm", ".csv", ".json"})
OFFICE_SUFFIXES = frozenset({".docx", ".pdf"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | OFFICE_SUFFIXES
# Document formats people expect to work: listed as skipped ("not supported") instead of ignored.
UNSUPPORTED_DOCUMENT_SUFFIXES = frozenset(
    {".doc", ".wps", ".rtf", ".odt", ".pages", ".xls", ".xlsx", ".ppt", ".pptx", ".epub"}
)


class SkipReason(StrEnum):
    HIDDEN_FOLDER = "hidden_folder"
    EXCLUDED_FOLDER = "excluded_folder"
    SYMLINK_LOOP = "symlink_loop"
    TOO_LARGE = "too_large"
    BINARY = "binary"
    UNREADABLE = "unreadable"
    NO_TEXT = "no_text"
    UNSUPPORTED = "unsupported"


SKIP_MESSAGES: dict[SkipReason, str] = {
    SkipReason.HIDDEN_FOLDER: QT_TRANSLATE_NOOP("Notes", "Hidden folder"),
    SkipReason.EXCLUDED_FOLDER: QT_TRANSLATE_NOOP("Notes", "Program, build or cache folder"),
    SkipReason.SYMLINK_LOOP: QT_TRANSLATE_NOOP("Notes", "Link back to a folder already included"),
    SkipReason.TOO_LARGE: QT_TRANSLATE_NOOP("Notes", "Larger than the size limit in Settings"),
    SkipReason.BINARY: QT_TRANSLATE_NOOP("Notes", "Not a text file"),
    SkipReason.UNREADABLE: QT_TRANSLATE_NOOP("Notes", "Could not be read"),
    SkipReason.NO_TEXT: QT_TRANSLATE_NOOP("Notes", "Contains no text (a scanned PDF?)"),
    SkipReason.UNSUPPORTED: QT_TRANSLATE_NOOP("Notes", "This file type is not supported"),
}


class NoteUnreadable(Exception):
    def __init__(self, reason: SkipReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


class TextKind(StrEnum):
    MARKDOWN = "markdown"  # headings with '#' (also what .docx becomes)
    RST = "rst"
    ORG = "org"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class NoteText:
    text: str
    kind: TextKind
    encoding: str  # the detected encoding, or the format ("docx", "pdf")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_for(path: Path) -> TextKind:
    suffix = path.suffix.lower()
    if suffix in {".md", ".markdown", ".docx", ".html", ".htm"}:
        return TextKind.MARKDOWN
    if suffix == ".rst":
        return TextKind.RST
    if suffix == ".org":
        return TextKind.ORG
    return TextKind.PLAIN


def extract_text(path: Path, data: bytes) -> NoteText:
    """Turn a file's bytes into text. Raises :class:`NoteUnreadable`."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            return NoteText(_docx_text(data), TextKind.MARKDOWN, "docx")
        if suffix == ".pdf":
            text = _pdf_text(data)
            if not text.strip():
                raise NoteUnreadable(SkipReason.NO_TEXT)
            return NoteText(text, TextKind.PLAIN, "pdf")
        try:
            decoded = decode_text(data)
        except BinaryContent:
            raise NoteUnreadable(SkipReason.BINARY) from None
        text = decoded.text
        if suffix in {".html", ".htm"}:
            text = html_to_text(text)
        return NoteText(text, kind_for(path), decoded.encoding)
    except NoteUnreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged .docx/.pdf can raise anything from its library
        log.info("cannot read %s: %s", path, exc)
        raise NoteUnreadable(SkipReason.UNREADABLE, f"{type(exc).__name__}: {exc}"[:300]) from None


def _docx_text(data: bytes) -> str:
    import io

    import docx  # python-docx; imported lazily, it is only needed for .docx files
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            if not text:
                lines.append("")
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = _heading_level(style)
            if level:
                lines.extend(["", "#" * level + " " + text, ""])
            else:
                lines.extend([text, ""])
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                cells = [cell.text.strip().replace("\n", " ") for cell in row.cells]
                lines.append(" | ".join(dict.fromkeys(c for c in cells if c)))  # merged cells repeat
            lines.append("")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"(?:Heading|标题)\s*(\d)", style)
    return min(int(match.group(1)), 6) if match else 0


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")  # many "protected" PDFs open with an empty password
        except Exception:  # noqa: BLE001 - pypdf raises several types for a wrong password
            raise NoteUnreadable(SkipReason.UNREADABLE, "password-protected PDF") from None
    pages = []
    for page in reader.pages:
        pages.append((page.extract_text() or "").strip())
    return "\n\n".join(p for p in pages if p) + "\n"


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
     "blockquote", "pre", "hr", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "title"}
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.parts.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("- ")
        elif tag in {"td", "th"}:
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, headings kept as Markdown headings for the chunker."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
