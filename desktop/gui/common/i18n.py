"""Loading the app's translation and Qt's own (so standard dialogs speak Chinese too)."""

from __future__ import annotations

import logging
from importlib import resources

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop.core.i18n import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)
SUPPORTED = ("zh_CN",)

# Qt's own widget file dialog (used where there is no native one, e.g. offscreen or without a
# desktop portal) has labels whose source text changed in Qt 6 while qtbase_zh_CN.qm still holds
# the old texts, so they stayed English. Our translation carries them in Qt's context; Qt's
# translator is installed last and so asked first, which keeps every text it does have.
QT_FILE_DIALOG_TEXTS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
)


def translations_dir() -> str:
    return str(resources.files("desktop.resources") / "translations")


def pick_locale(language: str) -> QLocale:
    if language and language != "system":
        return QLocale(language)
    return QLocale.system()


def ui_is_chinese() -> bool:
    """Whether the window speaks Chinese (install() set the default locale to the language used)."""
    return QLocale().language() == QLocale.Language.Chinese


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
