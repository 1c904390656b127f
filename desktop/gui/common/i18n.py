"""Loading the app's translation and Qt's own (so standard dialogs speak Chinese too)."""

from __future__ import annotations

import logging
from importlib import resources

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)
SUPPORTED = ("zh_CN",)


def translations_dir() -> str:
    return str(resources.files("desktop.resources") / "translations")


def pick_locale(language: str) -> QLocale:
    if language and language != "system":
        return QLocale(language)
    return QLocale.system()


def install(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install translators for ``language`` ("system", "en", "zh_CN"); returns them (keep them alive)."""
    locale = pick_locale(language)
    QLocale.setDefault(locale)
    installed: list[QTranslator] = []
    if locale.language() != QLocale.Language.Chinese:
        return installed
    ours = QTranslator(app)
    if ours.load("qwen_desktop_zh_CN", translations_dir()):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning("Chinese translation not found in %s", translations_dir())
    qt_path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase_zh_CN", "qt_zh_CN"):
        qt = QTranslator(app)
        if qt.load(name, qt_path):
            app.installTranslator(qt)
            installed.append(qt)
            break
    return installed
