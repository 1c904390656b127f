"""The app's look: Fusion style, the system's light or dark scheme, a small style sheet, fonts
that show Chinese well on each system, and high-DPI scaling that follows the system's."""

from __future__ import annotations

import sys
from importlib import resources

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# The fonts Chinese text falls back to, after the system's UI font, in order. Left to itself, Qt
# may pick a font that looks out of place beside the UI font (SimSun, a thin serif, on Windows).
CJK_FALLBACK_FONTS = {
    "win32": ("Microsoft YaHei UI", "Microsoft YaHei"),  # Windows 8 and later ship both
    "darwin": ("PingFang SC", "Hiragino Sans GB"),
}
LINUX_CJK_FALLBACK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei")


def font_families(primary: str, platform: str = sys.platform) -> list[str]:
    """The family list for the app font: the system's UI font first, then the CJK fallbacks."""
    fallbacks = CJK_FALLBACK_FONTS.get(platform, LINUX_CJK_FALLBACK_FONTS)
    return [primary, *(family for family in fallbacks if family != primary)]


def prepare_high_dpi() -> None:
    """Before the QApplication exists: scale by the system's factor as it is (125 %, 150 % on
    Windows laptops) instead of rounding it to a whole number, which makes text too big or small."""
    if QGuiApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def apply(app: QApplication, platform: str = sys.platform) -> None:
    app.setStyle("Fusion")
    font = app.font()
    font.setFamilies(font_families(font.family(), platform))
    app.setFont(font)
    dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    name = "dark.qss" if dark else "light.qss"
    sheet = resources.files("desktop.resources") / name
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
