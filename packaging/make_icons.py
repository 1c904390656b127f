"""Draws the app icon and writes every format the platforms want.

    python packaging/make_icons.py

Writes resources/icons/qwen-desktop-{16..512}.png (the window icon, loaded by desktop.gui.app.app_icon),
resources/qwen-desktop.ico (Windows, PNG entries) and resources/qwen-desktop.icns (macOS). The icon
is drawn with QPainter at every size rather than scaled from one bitmap, so small sizes stay crisp.
The outputs are committed; run this again only when the design changes. Needs no display.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry types holding PNG data, by pixel size (the @2x types reuse the same pixels).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)


def draw(size: int) -> QImage:
    """A rounded square with a violet gradient and a white speech bubble shaped like a "Q"."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    # Small sizes use the whole canvas; large ones keep the platform's customary margin.
    margin = 0.0 if size <= 32 else s * 0.06
    tile = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#7B6CF6"))
    gradient.setColorAt(0.55, QColor("#5B4BE0"))
    gradient.setColorAt(1.0, QColor("#3A2DB8"))
    radius = tile.width() * 0.22
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(tile, radius, radius)

    # The "Q": a ring whose tail is a speech bubble's pointer, bottom right.
    w = tile.width()
    cx, cy = tile.center().x() - w * 0.02, tile.center().y() - w * 0.03
    outer = w * 0.30
    stroke = max(w * (0.13 if size <= 24 else 0.10), 2.0)
    white = QColor("#FFFFFF")
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(white, stroke, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    ring = outer - stroke / 2
    p.drawEllipse(QPointF(cx, cy), ring, ring)
    tail = QPainterPath()
    tail.moveTo(cx + ring * 0.45, cy + ring * 0.55)
    tail.lineTo(cx + w * 0.33, cy + w * 0.33)
    tail.lineTo(cx + ring * 0.95, cy + ring * 0.10)
    tail.closeSubpath()
    p.setPen(QPen(white, stroke * 0.35, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.setBrush(white)
    p.drawPath(tail)
    if size >= 48:  # three "typing" dots inside the bubble; lost in the noise at small sizes
        dot = w * 0.035
        p.setPen(Qt.PenStyle.NoPen)
        for dx in (-1, 0, 1):
            p.drawEllipse(QPointF(cx + dx * w * 0.1, cy), dot, dot)
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .ico of PNG-compressed entries (supported since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    directory, blobs = b"", b""
    offset = 6 + 16 * len(pngs)
    for size, data in sorted(pngs.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return header + directory + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .icns: 'icns', total length, then (type, length, PNG) entries, all big-endian."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841  (QPainter on QImage needs fonts/app state)
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: png_bytes(draw(size)) for size in sizes}
    icons = RESOURCES / "icons"
    icons.mkdir(parents=True, exist_ok=True)
    for size in PNG_SIZES:
        (icons / f"qwen-desktop-{size}.png").write_bytes(pngs[size])
    (RESOURCES / "qwen-desktop.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (RESOURCES / "qwen-desktop.icns").write_bytes(icns_bytes(pngs))
    for path in [*sorted(icons.glob("qwen-desktop-*.png")), RESOURCES / "qwen-desktop.ico",
                 RESOURCES / "qwen-desktop.icns"]:
        print(f"{path.relative_to(RESOURCES.parent)}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
