"""Scans and photos for the OCR tests, written by hand: a real PNG and a PDF whose pages are JPEG
images without a text layer. The text the loopback server "recognises" in them is written into
the image bytes between ``OCR-TEXT[`` and ``]OCR`` (a PNG text chunk, a JPEG comment)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def photo_png(path: Path, text: str, width: int = 8, height: int = 8) -> Path:
    """A small grey PNG carrying ``text`` in a tEXt chunk."""
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    data = (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"tEXt", b"Comment\x00" + f"OCR-TEXT[{text}]OCR".encode())
            + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def jpeg_with_text(text: str) -> bytes:
    """JPEG markers around a comment segment holding ``text`` (what a scanner page stands for here)."""
    comment = f"OCR-TEXT[{text}]OCR".encode()
    return b"\xff\xd8" + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9"


def scanned_pdf(path: Path, pages: list[str], text_layer: dict[int, str] | None = None) -> Path:
    """A PDF with one JPEG image per page (``pages``: the text each scan shows) and no text
    layer, except the pages of ``text_layer`` (1-based), which have real text and no image."""
    text_layer = text_layer or {}
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for number, scan_text in enumerate(pages, start=1):
        page_id = len(objects) + 1
        kids.append(f"{page_id} 0 R")
        if number in text_layer:
            content = f"BT /F1 12 Tf 72 720 Td ({text_layer[number]}) Tj ET".encode()
            objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_id + 1} 0 R "
                           f"/Resources << /Font << /F1 {page_id + 2} 0 R >> >> >>".encode())
            objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
            objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
            continue
        image = jpeg_with_text(scan_text)
        content = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_id + 1} 0 R "
                       f"/Resources << /XObject << /Im1 {page_id + 2} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(b"<< /Type /XObject /Subtype /Image /Width 1240 /Height 1754 /ColorSpace /DeviceGray "
                       b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % len(image)
                       + image + b"\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path
