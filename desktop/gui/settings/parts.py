"""Small pieces of the Settings tab: its own wording of errors, what is wrong with a typed proxy
address, the temperature field, the restart command and the space status lines keep."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QProcess, Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QFrame, QLabel, QScrollArea, QWidget

from desktop.core.client import ProxyProblem, normalize_proxy_url, proxy_address_problem
from desktop.core.errors import ErrorKind
from desktop.core.i18n import QT_TRANSLATE_NOOP
from desktop.gui.chat.parts import translate_error

# The shared messages (desktop.core.errors.MESSAGES) send the user to Settings, which is right in
# the chat but odd inside Settings itself: here the kinds that mention Settings say it in place.
IN_PLACE_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.NO_KEY: QT_TRANSLATE_NOOP(
        "SettingsTab", "No API key is set. Paste your DashScope API key into the API key field and "
                       "press Save."),
    ErrorKind.AUTH: QT_TRANSLATE_NOOP(
        "SettingsTab", "The API key was not accepted. Check that it is copied completely and that the "
                       "region chosen here matches the region where the key was created."),
    ErrorKind.ACCESS_DENIED: QT_TRANSLATE_NOOP(
        "SettingsTab", "Your account may not use this model. Activate it in the Model Studio console "
                       "or choose another model."),
    ErrorKind.MODEL_NOT_FOUND: QT_TRANSLATE_NOOP(
        "SettingsTab", "This model does not exist or is not available in this region. Choose another "
                       "model (model names are case-sensitive)."),
    ErrorKind.PROXY: QT_TRANSLATE_NOOP(
        "SettingsTab", "Could not connect through the proxy. Check the proxy address and password."),
    ErrorKind.REDIRECTED: QT_TRANSLATE_NOOP(
        "SettingsTab", "The service address sent the request on to another address. Qwen Desktop does "
                       "not follow it, so your API key is not sent there. If you set a custom URL, "
                       "check it."),
    ErrorKind.INVALID_URL: QT_TRANSLATE_NOOP(
        "SettingsTab", "The service address is not a valid URL. Check the custom URL: it starts with "
                       "https:// and names a host."),
    ErrorKind.NOT_FOUND: QT_TRANSLATE_NOOP(
        "SettingsTab", "The address was not found. If you set a custom URL, check it."),
    ErrorKind.INDEX_MODEL_CHANGED: QT_TRANSLATE_NOOP(
        "SettingsTab", "The notes index was built with another embedding model or size. Index the "
                       "notes again to search them with the model chosen now."),
}


def error_text(kind: ErrorKind | str) -> str:
    """The explanation of an error as the Settings tab shows it (translated)."""
    try:
        return QCoreApplication.translate("SettingsTab", IN_PLACE_MESSAGES[ErrorKind(kind)])
    except (KeyError, ValueError):
        return translate_error(str(kind))


def status_area(label: QLabel, lines: int) -> QScrollArea:
    """``label`` in a box of a fixed height of ``lines`` lines (longer text scrolls), so that text
    appearing or the label showing never moves what is below it."""
    area = QScrollArea(label.parentWidget())
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a status line is read, not a stop for Tab
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.viewport().setAutoFillBackground(False)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    hidden = label.isHidden()
    area.setWidget(label)  # which shows the label and fills its background: undo both
    label.setHidden(hidden)
    label.setAutoFillBackground(False)  # the page shows through
    # A quarter line of slack per line: Chinese text is drawn in a fallback font with taller lines.
    area.setFixedHeight(round(lines * label.fontMetrics().lineSpacing() * 1.25) + 4)
    return area


class TemperatureBox(QDoubleSpinBox):
    """A spin box that keeps an out-of-range number as typed (rather than dropping the keystroke,
    which turned "3.5" into ".5") and, when editing ends, sets the nearest allowed value."""

    LOWEST, HIGHEST = 0.0, 2.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(self.LOWEST, self.HIGHEST)
        self.setSingleStep(0.1)
        self.setDecimals(2)
        self.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)

    def typed_number(self) -> float | None:
        return self._number(self.lineEdit().text())

    def out_of_range(self) -> bool:
        number = self.typed_number()
        return number is not None and not self.LOWEST <= number <= self.HIGHEST

    def _number(self, text: str) -> float | None:
        value, ok = self.locale().toDouble(text.strip())
        if ok:
            return value
        try:
            return float(text.strip())
        except ValueError:
            return None

    def validate(self, text: str, pos: int) -> object:  # noqa: D102 - Qt override
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, tuple) else result
        if state == QValidator.State.Invalid and self._number(text) is not None:
            return QValidator.State.Intermediate, text, pos
        return result

    def fixup(self, text: str) -> str:  # noqa: D102 - Qt override
        number = self._number(text)
        if number is None:
            return text
        return self.textFromValue(min(max(number, self.LOWEST), self.HIGHEST))


def restart_command() -> tuple[str, list[str]]:
    """What starts this app again: the frozen build is its own executable; from source it is
    ``python -m desktop``."""
    if getattr(sys, "frozen", False):
        return sys.executable, []
    return sys.executable, ["-m", "desktop"]


PROXY_PROBLEMS: dict[ProxyProblem, str] = {
    ProxyProblem.EMPTY: QT_TRANSLATE_NOOP("SettingsTab", "Type the proxy address, for example proxy.corp:8080."),
    ProxyProblem.SPACE: QT_TRANSLATE_NOOP("SettingsTab", "A proxy address has no spaces: type it as host:port, "
                                                         "for example proxy.corp:8080."),
    ProxyProblem.SCHEME: QT_TRANSLATE_NOOP(
        "SettingsTab", "A proxy address starts with http://, https:// or socks5://, or with the host alone "
                       "(proxy.corp:8080 means http)."),
    ProxyProblem.HOST: QT_TRANSLATE_NOOP("SettingsTab", "The address names no computer: type it as host:port, "
                                                        "for example proxy.corp:8080."),
    ProxyProblem.PORT: QT_TRANSLATE_NOOP("SettingsTab", "The port must be a number from 1 to 65535, for example "
                                                        "proxy.corp:8080."),
}


def proxy_note(text: str) -> str:
    """What to say under the proxy address as it is typed: what is wrong with it, or what will be
    used when the scheme was left out ("" when it is fine as typed)."""
    problem = proxy_address_problem(text)
    if problem is not None:
        return QCoreApplication.translate("SettingsTab", PROXY_PROBLEMS[problem])
    used = normalize_proxy_url(text)
    if used != text.strip():
        return QCoreApplication.translate("SettingsTab", "Will use: %1").replace("%1", used)
    return ""


def start_detached(program: str, arguments: list[str]) -> bool:
    """Start a process that outlives this one (the tests put a recorder in its place)."""
    result = QProcess.startDetached(program, arguments)
    return bool(result[0] if isinstance(result, tuple) else result)
