"""The look on each system: Chinese text falls back to the system's own CJK UI font (Microsoft
YaHei UI on Windows), and the high-DPI scale factor is used as the system gives it (125 %, 150 %)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop.gui.common.style import font_families

REPO = Path(__file__).resolve().parents[2]


def test_chinese_text_falls_back_to_each_systems_cjk_ui_font(qapp) -> None:  # type: ignore[no-untyped-def]
    assert font_families("Segoe UI", "win32") == ["Segoe UI", "Microsoft YaHei UI", "Microsoft YaHei"]
    assert font_families("Microsoft YaHei UI", "win32") == ["Microsoft YaHei UI", "Microsoft YaHei"]
    assert font_families(".AppleSystemUIFont", "darwin")[1] == "PingFang SC"
    from PySide6.QtGui import QFont

    from desktop.gui.common import style

    # The app font and style sheet as they were: other tests measure layouts in this QApplication.
    font, sheet = QFont(qapp.font()), qapp.styleSheet()
    primary = font.family()
    try:
        style.apply(qapp, "win32")
        assert qapp.font().families() == font_families(primary, "win32")
        style.apply(qapp, "linux")
        assert qapp.font().families() == font_families(primary, "linux")
        assert qapp.font().families()[1:] == [family for family in style.LINUX_CJK_FALLBACK_FONTS
                                              if family != primary]
    finally:
        qapp.setFont(font)
        qapp.setStyleSheet(sheet)

def test_the_scale_factor_is_passed_through_unrounded() -> None:
    """Set before the QApplication exists (in a fresh process: the tests' app exists already)."""
    code = ("from PySide6.QtCore import Qt\n"
            "from PySide6.QtGui import QGuiApplication\n"
            "from desktop.gui.app import create_application\n"
            "Policy = Qt.HighDpiScaleFactorRoundingPolicy\n"
            "QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Policy.Round)\n"
            "app = create_application([])\n"
            "print(QGuiApplication.highDpiScaleFactorRoundingPolicy() == Policy.PassThrough)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stdout + result.stderr
