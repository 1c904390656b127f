"""Reading scans and photos in notes folders with ``qwen-vl-ocr`` (opt-in).

Images (PNG, JPEG, WebP, BMP, TIFF) and the pages of a PDF that have no text layer are sent to
the native multimodal endpoint with the ``document_parsing`` task, so headings, lists and tables
come back as Markdown. What comes back is kept in the notes database by the SHA-256 of the image,
so a page is never recognised twice — not after a rename, a move or a rebuild. The reader then
takes a file's text from there (:func:`ocr_text_of`): a PDF page by page, each under a
"Page N" heading (the page's own headings one level below), so a result or a citation says the
page.

A PDF page is sent as the image it holds when that image is JPEG or JPEG 2000 (what scanners
write); a page whose image needs converting first is listed as not readable, with the reason.
An OCR run (:mod:`~desktop.core.notes.ocr_run`) counts and prices the pages first.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core import native_api
from desktop.core.errors import ErrorKind, QwenError

if TYPE_CHECKING:
    from desktop.core.client import QwenClient

log = logging.getLogger(__name__)

OCR_MODEL = "qwen-vl-ocr-latest"
OCR_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
INSTRUCTION = "Read all text in this image. Keep the layout as Markdown: headings, lists and tables."
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}
IMAGE_SUFFIXES = frozenset(IMAGE_TYPES)
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # the service takes about 10 MB per image
# Indicative, per page: an A4 scan is about 1,500 input tokens and 600 output tokens; CNY per
# million tokens (Beijing list price of qwen-vl-ocr, first tier).
TOKENS_IN_PER_PAGE = 1500
TOKENS_OUT_PER_PAGE = 600
PRICE_IN, PRICE_OUT = 5.0, 5.0

@dataclass(frozen=True, slots=True)
class PageImage:
    """One image to recognise: a photo, or the scan of page ``page`` of a PDF."""

    path: str
    page: int | None  # None for an image file
    data: bytes
    mime: str
    sha256: str
    problem: str = ""  # why it cannot be sent (then ``data`` is empty)


def page_cost(pages: int) -> float:
    return pages * (TOKENS_IN_PER_PAGE * PRICE_IN + TOKENS_OUT_PER_PAGE * PRICE_OUT) / 1_000_000


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def page_images(path: str, data: bytes) -> list[PageImage]:
    """What of this file needs recognising: the image itself, or a PDF's pages without text."""
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_TYPES:
        if len(data) > MAX_IMAGE_BYTES:
            return [PageImage(path, None, b"", IMAGE_TYPES[suffix], _sha(data),
                              f"larger than {MAX_IMAGE_BYTES // 2**20} MB")]
        return [PageImage(path, None, data, IMAGE_TYPES[suffix], _sha(data))]
    if suffix == ".pdf":
        try:
            return _pdf_scans(path, data)
        except Exception as exc:  # noqa: BLE001 - a damaged PDF can raise anything from pypdf
            log.info("no page images from %s: %s", path, type(exc).__name__)
    return []


def _pdf_scans(path: str, data: bytes) -> list[PageImage]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    found: list[PageImage] = []
    for number, page in enumerate(reader.pages, start=1):
        if (page.extract_text() or "").strip():
            continue  # the text layer is read as text
        image = _largest_image(page)
        if image is None:
            continue
        raw, mime = image
        if not mime:
            found.append(PageImage(path, number, b"", "", _sha(raw),
                                   "the page image is in a format that would need converting"))
        elif len(raw) > MAX_IMAGE_BYTES:
            found.append(PageImage(path, number, b"", mime, _sha(raw), "page image too large"))
        else:
            found.append(PageImage(path, number, raw, mime, _sha(raw)))
    return found


def _largest_image(page: Any) -> tuple[bytes, str] | None:
    """(bytes, MIME type or "" when not sendable as it is) of the page's largest image."""
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return None
    best: tuple[int, bytes, str] | None = None
    for ref in xobjects.get_object().values():
        obj = ref.get_object()
        if obj.get("/Subtype") != "/Image":
            continue
        filters = obj.get("/Filter")
        names = [str(f) for f in (filters if isinstance(filters, list) else [filters])] if filters else []
        area = int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
        if names and names[-1] == "/DCTDecode" and len(names) == 1:
            raw, mime = obj._data, "image/jpeg"  # the JPEG as it is stored, not decoded
        elif names and names[-1] == "/JPXDecode" and len(names) == 1:
            raw, mime = obj._data, "image/jp2"
        else:
            raw, mime = obj._data, ""
        if best is None or area > best[0]:
            best = (area, bytes(raw), mime)
    return (best[1], best[2]) if best is not None else None


_DEEPER = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- the recognised texts, by image hash ------------------------------------------------------


def cached_texts(db: sqlite3.Connection, hashes: Iterable[str] | None = None) -> dict[str, str]:
    """Recognised texts by image hash (all, or those of ``hashes``)."""
    if hashes is None:
        rows = db.execute("SELECT sha256, text FROM ocr_pages").fetchall()
    else:
        wanted = list(dict.fromkeys(hashes))
        rows = []
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            rows += db.execute(f"SELECT sha256, text FROM ocr_pages WHERE sha256 IN "
                               f"({','.join('?' * len(part))})", part).fetchall()
    return {str(sha): str(text) for sha, text in rows}


def save_text(db: sqlite3.Connection, sha256: str, text: str, model: str) -> None:
    db.execute("INSERT OR REPLACE INTO ocr_pages(sha256, text, model, created) VALUES (?, ?, ?, ?)",
               (sha256, text, model, time.time()))


def ocr_text_of(path: str, data: bytes, texts: Mapping[str, str]) -> tuple[str, list[int]] | None:
    """The text of an image or a scanned PDF from recognised pages, and the pages still missing;
    None when the file has nothing to recognise. PDF pages with a text layer are taken as text."""
    images = page_images(path, data)
    if not images:
        return None
    if images[0].page is None:
        text = texts.get(images[0].sha256)
        return (text or "", [] if text is not None else [1])
    return _pdf_with_pages(data, {i.page: i for i in images if i.page is not None}, texts)


def _pdf_with_pages(data: bytes, scans: Mapping[int, PageImage],
                    texts: Mapping[str, str]) -> tuple[str, list[int]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    parts: list[str] = []
    missing: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        if number in scans:
            text = texts.get(scans[number].sha256)
            if text is None:
                missing.append(number)
                continue
        else:
            text = page.extract_text() or ""
        if text.strip():
            # The page is the top heading; the page's own headings go one level below it.
            body = _DEEPER.sub(r"#\1 ", text.strip()) if number in scans else text.strip()
            parts.append(f"# Page {number}\n\n{body}")
    return "\n\n".join(parts) + "\n", missing


# ---- the service --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recognised:
    text: str
    input_tokens: int
    output_tokens: int


class OcrClient:
    """``qwen-vl-ocr`` through the native multimodal endpoint, on the client's connection."""

    def __init__(self, client: QwenClient, model: str = OCR_MODEL) -> None:
        root = native_api.host_root(client.config.base_url)
        if root is None:
            raise QwenError(ErrorKind.BAD_REQUEST,
                            "reading scans needs a DashScope address ending in /compatible-mode/v1")
        self.client = client
        self.model = model
        self._url = root + OCR_PATH

    @property
    def config(self) -> Any:
        return self.client.config

    async def recognise(self, image: PageImage) -> Recognised:
        url = f"data:{image.mime};base64,{base64.b64encode(image.data).decode()}"
        body = {"model": self.model,
                "input": {"messages": [{"role": "user", "content": [{"image": url}, {"text": INSTRUCTION}]}]},
                "parameters": {"ocr_options": {"task": "document_parsing"}}}
        answer = await native_api.post(self.client, self._url, body, seconds=max(60.0, self.client.config.timeout))
        return Recognised(_answer_text(answer), *_usage(answer))


def _answer_text(answer: dict[str, Any]) -> str:
    try:
        content = answer["output"]["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise QwenError(ErrorKind.BAD_RESPONSE, "the OCR answer has no text") from None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p["text"]) for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    raise QwenError(ErrorKind.BAD_RESPONSE, "the OCR answer has no text")


def _usage(answer: dict[str, Any]) -> tuple[int, int]:
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    values = []
    for key in ("input_tokens", "output_tokens"):
        value = usage.get(key) if isinstance(usage, dict) else None
        values.append(value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0)
    return values[0], values[1]
