"""Reading one note file into text: plain text formats, HTML, .docx and .pdf.

Everything here is blocking and Qt-free: the index run calls it from an executor. A file that
cannot be read raises :class:`NoteUnreadable` with a :class:`SkipReason`, never anything else, so
one bad file never stops an index.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path

from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.core.notes.encoding import BinaryContent, decode_text
from desktop.core.notes.ocr import is_image, ocr_text_of

log = logging.getLogger(__name__)


TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".rst", ".org", ".html", ".htm", ".csv", ".json"})
OFFICE_SUFFIXES = frozenset({".docx", ".pdf"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | OFFICE_SUFFIXES
# Document formats people expect to work: listed as skipped ("not supported") instead of ignored.
UNSUPPORTED_DOCUMENT_SUFFIXES = frozenset(
    {".doc", ".wps", ".rtf", ".odt", ".pages", ".xls", ".xlsx", ".ppt", ".pptx", ".epub"}
)

# A .docx is a zip: python-docx holds every part unpacked and parses its XML, so what counts is
# the unpacked size. Refused before parsing: more than MAX_UNPACKED_SIZE in all (a fixed cap, not
# tied to the size limit in Settings: big .docx files are big because of images, which unpack to
# about their packed size), or a part over 10 MB that packs better than MAX_COMPRESSION_RATIO to 1
# (deflate tops out near 1000:1, which is what bombs use; real documents, even empty tables,
# stay far below 200:1). zipfile never unpacks a part beyond the size its header declares.
MAX_UNPACKED_SIZE = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
_RATIO_CHECKED_ABOVE = 10 * 1024 * 1024


class SkipReason(StrEnum):
    HIDDEN_FOLDER = "hidden_folder"
    EXCLUDED_FOLDER = "excluded_folder"
    SYMLINK_LOOP = "symlink_loop"
    TOO_LARGE = "too_large"
    BINARY = "binary"
    UNREADABLE = "unreadable"
    NO_TEXT = "no_text"
    UNSUPPORTED = "unsupported"
    BAD_NAME = "bad_name"  # the name is not valid UTF-8 (a GBK-named file unzipped on Linux)
    NOT_A_FILE = "not_a_file"  # a FIFO, socket or device with a note's name
    TIMED_OUT = "timed_out"  # the read hung (a stuck network share); tried again next run
    OUTSIDE_FOLDERS = "outside_folders"  # a link out of every notes folder
    TOO_LARGE_UNPACKED = "too_large_unpacked"  # a .docx that inflates far beyond its size
    NO_MEANING = "no_meaning"  # only repeated characters or encoded data: nothing to embed


SKIP_MESSAGES: dict[SkipReason, str] = {
    SkipReason.HIDDEN_FOLDER: QT_TRANSLATE_NOOP("Notes", "Hidden folder"),
    SkipReason.EXCLUDED_FOLDER: QT_TRANSLATE_NOOP("Notes", "Program, build or cache folder"),
    SkipReason.SYMLINK_LOOP: QT_TRANSLATE_NOOP("Notes", "Link back to a folder already included"),
    SkipReason.TOO_LARGE: QT_TRANSLATE_NOOP("Notes", "Larger than the size limit in Settings"),
    SkipReason.BINARY: QT_TRANSLATE_NOOP("Notes", "Not a text file"),
    SkipReason.UNREADABLE: QT_TRANSLATE_NOOP("Notes", "Could not be read"),
    SkipReason.NO_TEXT: QT_TRANSLATE_NOOP("Notes", "Contains no text (a scanned PDF?)"),
    SkipReason.UNSUPPORTED: QT_TRANSLATE_NOOP("Notes", "This file type is not supported"),
    SkipReason.BAD_NAME: QT_TRANSLATE_NOOP("Notes", "The file name is not in UTF-8: rename it to include it"),
    SkipReason.NOT_A_FILE: QT_TRANSLATE_NOOP("Notes", "Not a regular file (a pipe or a device)"),
    SkipReason.TIMED_OUT: QT_TRANSLATE_NOOP("Notes", "Reading it took too long (a slow or stuck drive?)"),
    SkipReason.OUTSIDE_FOLDERS: QT_TRANSLATE_NOOP("Notes", "Link leads outside your notes folders"),
    SkipReason.TOO_LARGE_UNPACKED: QT_TRANSLATE_NOOP("Notes", "Too large when unpacked"),
    SkipReason.NO_MEANING: QT_TRANSLATE_NOOP(
        "Notes", "Only repeated characters or encoded data (nothing to search by meaning)"),
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


def extract_text(path: Path, data: bytes, ocr_texts: Mapping[str, str] | None = None) -> NoteText:
    """Turn a file's bytes into text. Raises :class:`NoteUnreadable`.

    With ``ocr_texts`` (recognised images by hash: OCR is on), images and the pages of a PDF
    without a text layer are read from there (:func:`desktop.core.notes.ocr.ocr_text_of`)."""
    suffix = path.suffix.lower()
    if ocr_texts is not None and (suffix == ".pdf" or is_image(path)):
        scanned = _scanned_text(path, data, ocr_texts)
        if scanned is not None:
            return scanned
    try:
        if suffix == ".docx":
            _check_unpacked_size(data)
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


def _scanned_text(path: Path, data: bytes, ocr_texts: Mapping[str, str]) -> NoteText | None:
    try:
        found = ocr_text_of(str(path), data, ocr_texts)
    except Exception as exc:  # noqa: BLE001 - a damaged PDF can raise anything from pypdf
        log.info("cannot read the scans of %s: %s", path, exc)
        return None
    if found is None:
        return None  # nothing to recognise: read as usual
    text, missing = found
    if not text.strip():
        detail = ("not recognised" if missing == [1] and is_image(path)
                  else "pages not recognised: " + ", ".join(str(p) for p in missing) if missing else "")
        raise NoteUnreadable(SkipReason.NO_TEXT, detail)
    return NoteText(text, TextKind.MARKDOWN, "ocr")


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a zip (a .docx) that unpacks to far more than it weighs; reads only its directory."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_SIZE:
        raise NoteUnreadable(SkipReason.TOO_LARGE_UNPACKED, f"{total / 2**20:,.0f} MB unpacked")
    for member in members:
        if (member.file_size > _RATIO_CHECKED_ABOVE
                and member.file_size > MAX_COMPRESSION_RATIO * max(1, member.compress_size)):
            ratio = member.file_size / max(1, member.compress_size)
            detail = f"{member.filename}: {member.file_size / 2**20:,.0f} MB, packed {ratio:,.0f}:1"
            raise NoteUnreadable(SkipReason.TOO_LARGE_UNPACKED, detail)


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
