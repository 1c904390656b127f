"""The Settings tab: API key (OS keyring), region, model, prompt, network, language.

Changes apply at once and are saved to the settings file; the key and the proxy password go to the
keyring only (or, without one, are kept for this session). Keyring and network calls run off the UI
thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.core import settings as settings_mod
from desktop.core.client import ConnectionConfig
from desktop.core.connection import ConnectionReport, check_connection, default_region_urls
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.i18n import fill
from desktop.core.models import DEFAULT_CHAT_MODELS
from desktop.core.proxy_password import split_password, with_password
from desktop.core.regions import CUSTOM_LABEL, REGIONS, Region, resolve_base_url
from desktop.core.runtime import Session, connection_config
from desktop.core.secrets import ApiKey, KeyringUnavailable, KeySource
from desktop.core.settings import DEFAULT_SYSTEM_PROMPT, system_prompt_for
from desktop.core.tasks import TaskRunner
from desktop.gui.common.i18n import ui_is_chinese
from desktop.gui.common.plain import plain_label
from desktop.gui.settings.notes_box import NotesOptionsBox
from desktop.gui.settings.key import KeySection
from desktop.gui.settings.parts import (TemperatureBox, error_text, proxy_note, restart_command, start_detached,
                                        status_area)

log = logging.getLogger(__name__)

CONSOLE_URL_CN = "https://bailian.console.aliyun.com/?tab=model#/api-key"
CONSOLE_URL_INTL = "https://modelstudio.console.alibabacloud.com/?tab=model#/api-key"

LANGUAGES = (("system", None), ("en", "English"), ("zh_CN", "简体中文"))


class SettingsTab(KeySection, QWidget):
    settings_changed = Signal()
    key_changed = Signal()

    def __init__(self, session: Session, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tasks = tasks
        self._loading = False
        self._announced = session.settings  # the settings the other tabs were last told about
        self.start_detached: Callable[[str, list[str]], bool] = start_detached
        self._out_of_range = ""  # the temperature typed outside 0-2, until editing ends
        self._setup_ui()
        self._load()
        self._connect_signals()

    # -- construction ----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.welcome = QLabel(self)
        self.welcome.setObjectName("welcome")
        self.welcome.setWordWrap(True)
        self.welcome.setOpenExternalLinks(True)
        self.welcome.setTextFormat(Qt.TextFormat.RichText)
        self.welcome.setText(self.tr(
            "<b>Welcome to Qwen Desktop.</b> To chat with Qwen you need a DashScope API key. "
            "Create one in the <a href=\"%1\">Model Studio console</a> (international accounts: "
            "<a href=\"%2\">Alibaba Cloud Model Studio</a>), paste it below and press Save.")
            .replace("%1", CONSOLE_URL_CN).replace("%2", CONSOLE_URL_INTL))
        self.welcome.setVisible(False)

        # API key
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("Paste your API key (sk-…)"))
        self.key_edit.setObjectName("keyEdit")
        self.show_key = QCheckBox(self.tr("Show"), self)
        self.save_key_button = QPushButton(self.tr("Save"), self)
        self.delete_key_button = QPushButton(self.tr("Delete key"), self)
        self.session_key_button = QPushButton(self.tr("Use for this session only"), self)
        self.session_key_button.setVisible(False)
        self.key_status = plain_label(self, "keyStatus")
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.save_key_button)
        key_row.addWidget(self.delete_key_button)
        key_box = QGroupBox(self.tr("API key"), self)
        key_layout = QVBoxLayout(key_box)
        key_layout.addLayout(key_row)
        # Status lines sit in boxes of a fixed height (status_area): text appearing in them, often
        # after a click or on leaving a field to click a button, never moves the buttons below.
        status_row = QHBoxLayout()
        status_row.addWidget(status_area(self.key_status, 2), 1, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.session_key_button, 0, Qt.AlignmentFlag.AlignTop)
        key_layout.addLayout(status_row)
        # Shown when no keyring can keep the key (KeySection.check_keyring), before Save is pressed.
        self.keyring_note = plain_label(self, "keyringNote", visible=False)
        key_layout.addWidget(self.keyring_note)

        # Connection
        self.region_combo = QComboBox(self)
        for region, info in REGIONS.items():
            self.region_combo.addItem(QCoreApplication.translate("Regions", info.label), region.value)
        self.region_combo.addItem(QCoreApplication.translate("Regions", CUSTOM_LABEL), Region.CUSTOM.value)
        self.custom_url = QLineEdit(self)
        self.custom_url.setPlaceholderText("https://…/compatible-mode/v1")
        self.url_note = plain_label(self, "urlNote")
        self.proxy_combo = QComboBox(self)
        self.proxy_combo.addItem(self.tr("Use system settings"), "system")
        self.proxy_combo.addItem(self.tr("No proxy"), "none")
        self.proxy_combo.addItem(self.tr("Manual"), "manual")
        self.proxy_url = QLineEdit(self)
        self.proxy_url.setPlaceholderText("http://proxy.example.com:8080  ·  socks5://127.0.0.1:1080")
        # The password is not part of the address shown or saved: it has a field of its own and
        # goes to the keyring.
        self.proxy_password = QLineEdit(self)
        self.proxy_password.setObjectName("proxyPassword")
        self.proxy_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.forget_proxy_password_button = QPushButton(self.tr("Forget password"), self)
        self.proxy_password_status = plain_label(self, "proxyPasswordStatus", visible=False)
        self.test_button = QPushButton(self.tr("Test connection"), self)
        self.test_result = plain_label(self, "testResult")
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        conn_box = QGroupBox(self.tr("Connection"), self)
        conn = QFormLayout(conn_box)
        conn.addRow(self.tr("Region"), self.region_combo)
        conn.addRow(self.tr("Custom URL"), self.custom_url)
        conn.addRow("", status_area(self.url_note, 1))
        conn.addRow(self.tr("Proxy"), self.proxy_combo)
        conn.addRow(self.tr("Proxy address"), self.proxy_url)
        self.proxy_note = plain_label(self, "proxyNote")
        conn.addRow("", status_area(self.proxy_note, 2))
        password_row = QHBoxLayout()
        password_row.addWidget(self.proxy_password, 1)
        password_row.addWidget(self.forget_proxy_password_button)
        conn.addRow(self.tr("Proxy password"), password_row)
        conn.addRow("", status_area(self.proxy_password_status, 2))
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(status_area(self.test_result, 3), 1, Qt.AlignmentFlag.AlignTop)
        conn.addRow("", test_row)

        # Model and behaviour
        self.model_combo = QComboBox(self)
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.addItems(list(DEFAULT_CHAT_MODELS))
        self.refresh_models_button = QPushButton(self.tr("Refresh list"), self)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.refresh_models_button)
        self.models_status = plain_label(self, "modelsStatus")
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setMaximumHeight(90)
        self.system_prompt.setTabChangesFocus(True)  # Tab moves on; a prompt has no use for tabs
        self.temperature = TemperatureBox(self)
        self.temperature.setMaximumWidth(120)
        self.temperature_note = QLabel(self)
        self.temperature_note.setTextFormat(Qt.TextFormat.PlainText)
        self.temperature_note.setObjectName("temperatureNote")
        temperature_row = QHBoxLayout()
        temperature_row.addWidget(self.temperature)
        temperature_row.addWidget(self.temperature_note, 1)
        self.thinking_default = QCheckBox(self.tr("Deep thinking on by default (models that support it)"), self)
        self.web_default = QCheckBox(self.tr("Web search on in new chats (models that can search)"), self)
        model_box = QGroupBox(self.tr("Model"), self)
        model_form = QFormLayout(model_box)
        model_form.addRow(self.tr("Model"), model_row)
        model_form.addRow("", status_area(self.models_status, 2))
        model_form.addRow(self.tr("System prompt"), self.system_prompt)
        model_form.addRow(self.tr("Temperature"), temperature_row)
        model_form.addRow("", self.thinking_default)
        model_form.addRow("", self.web_default)

        # Appearance
        self.language_combo = QComboBox(self)
        for code, name in LANGUAGES:
            self.language_combo.addItem(name or self.tr("System language"), code)
        self.language_note = QLabel(self.tr("Language changes apply after restarting the app."), self)
        self.language_note.setVisible(False)
        self.restart_button = QPushButton(self.tr("Restart now"), self)
        self.restart_button.setVisible(False)
        look_box = QGroupBox(self.tr("Appearance"), self)
        look = QFormLayout(look_box)
        look.addRow(self.tr("Language"), self.language_combo)
        note_row = QHBoxLayout()
        note_row.addWidget(self.language_note)
        note_row.addWidget(self.restart_button)
        note_row.addStretch(1)
        look.addRow("", note_row)

        content = QWidget(self)
        content.setMaximumWidth(920)
        layout = QVBoxLayout(content)
        layout.addWidget(self.welcome)
        layout.addWidget(key_box)
        layout.addWidget(conn_box)
        layout.addWidget(model_box)
        layout.addWidget(look_box)
        self.notes_box = NotesOptionsBox(self.session, content)
        layout.addWidget(self.notes_box)
        layout.addStretch(1)
        self._sections = layout
        scroll = QScrollArea(self)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it scrolls to whatever Tab reaches
        scroll.setWidgetResizable(True)
        page = QWidget(self)
        centered = QHBoxLayout(page)
        centered.addWidget(content)
        scroll.setWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _connect_signals(self) -> None:
        self.show_key.toggled.connect(self._on_show_key_toggled)
        self.save_key_button.clicked.connect(self.save_key)
        self.key_edit.returnPressed.connect(self.save_key)
        self.delete_key_button.clicked.connect(self.delete_key)
        self.session_key_button.clicked.connect(self.use_key_for_session)
        self.region_combo.currentIndexChanged.connect(self._on_setting_edited)
        self.custom_url.editingFinished.connect(self._on_setting_edited)
        self.proxy_combo.currentIndexChanged.connect(self._on_setting_edited)
        self.proxy_url.editingFinished.connect(self._on_setting_edited)
        self.proxy_url.textChanged.connect(lambda _text: self._update_enabled())  # what is wrong, as typed
        # A test result says how the connection as it was worked: not one after it changed.
        for edit in (self.key_edit, self.custom_url, self.proxy_url, self.proxy_password):
            edit.textEdited.connect(self._on_connection_edited)
        for combo in (self.region_combo, self.proxy_combo):
            combo.currentIndexChanged.connect(self._on_connection_edited)
        self.key_changed.connect(self._on_connection_edited)
        self.proxy_password.editingFinished.connect(self._on_proxy_password_edited)
        self.forget_proxy_password_button.clicked.connect(self.forget_proxy_password)
        self.model_combo.currentTextChanged.connect(self._on_setting_edited)
        self.system_prompt.textChanged.connect(self._on_setting_edited)
        self.temperature.valueChanged.connect(self._on_setting_edited)
        self.temperature.lineEdit().textEdited.connect(self._on_temperature_typed)
        self.temperature.editingFinished.connect(self._on_temperature_finished)
        self.thinking_default.toggled.connect(self._on_setting_edited)
        self.web_default.toggled.connect(self._on_setting_edited)
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        self.test_button.clicked.connect(self.test_connection)
        self.refresh_models_button.clicked.connect(self.refresh_models)
        self.restart_button.clicked.connect(self.restart_now)
        self.notes_box.changed.connect(self.save)

    def add_section(self, section: QWidget) -> None:
        """A section made elsewhere (Backups), below the others."""
        self._sections.insertWidget(self._sections.count() - 1, section)

    # -- settings --------------------------------------------------------------------------

    def reload(self) -> None:
        """Show the settings as they are now (after a restore replaced them)."""
        self._load()

    def _load(self) -> None:
        self._loading = True
        s = self.session.settings
        self.region_combo.setCurrentIndex(max(0, self.region_combo.findData(s.region)))
        self.custom_url.setText(s.custom_base_url)
        self.proxy_combo.setCurrentIndex(max(0, self.proxy_combo.findData(s.proxy_mode)))
        self.proxy_url.setText(split_password(s.proxy_url)[0])
        self.model_combo.setCurrentText(s.model)
        self.system_prompt.setPlainText(self._shown_prompt(s.system_prompt))
        self.temperature.setValue(s.temperature)
        self.thinking_default.setChecked(s.thinking)
        self.web_default.setChecked(s.web_search)
        self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(s.language)))
        self._loading = False
        self._update_enabled()
        self.update_key_status()

    def show_model(self, model: str) -> None:
        """The model was chosen elsewhere (the chat bar): show it, so that a later edit here keeps it."""
        if self.model_combo.currentText() != model:
            self._loading = True
            self.model_combo.setCurrentText(model)
            self._loading = False

    def _update_enabled(self) -> None:
        custom = self.region_combo.currentData() == Region.CUSTOM.value
        self.custom_url.setEnabled(custom)
        manual = self.proxy_combo.currentData() == "manual"
        self.proxy_url.setEnabled(manual)
        self.proxy_note.setText(proxy_note(self.proxy_url.text()) if manual else "")
        self._update_proxy_password_state()
        url, source = resolve_base_url(self.session.settings.region, self.session.settings.custom_base_url)
        if source == "environment":
            self.url_note.setText(fill(self.tr("DASHSCOPE_BASE_URL is set in the environment and is used "
                                          "instead: %1"), url))
        elif source == "custom" and url != self.custom_url.text().strip():
            self.url_note.setText(fill(self.tr("Will use: %1"), url))
        else:
            self.url_note.setText("")
        self.url_note.setVisible(bool(self.url_note.text()))

    def _update_proxy_password_state(self) -> None:
        manual = self.proxy_combo.currentData() == "manual"
        self.proxy_password.setEnabled(manual)
        has_password = bool(self.session.proxy_password)
        self.forget_proxy_password_button.setEnabled(manual and has_password)
        self.proxy_password.setPlaceholderText(
            self.tr("Saved (type to replace)") if has_password else self.tr("If the proxy asks for one"))

    def _on_setting_edited(self, *_: object) -> None:
        if self._loading:
            return
        s = self.session.settings
        model = self.model_combo.currentText().strip() or s.model
        self.session.settings = s.replace(
            region=self.region_combo.currentData(),
            custom_base_url=self.custom_url.text().strip(),
            proxy_mode=self.proxy_combo.currentData(),
            proxy_url=self._proxy_url_to_save(),
            model=model,
            system_prompt=self._prompt_to_save(),
            temperature=round(self.temperature.value(), 2),
            thinking=self.thinking_default.isChecked(),
            web_search=self.web_default.isChecked(),
        )
        self._update_enabled()
        self.save()

    def _shown_prompt(self, stored: str) -> str:
        """The prompt as it is sent: the untouched English default reads in Chinese in a Chinese window."""
        return system_prompt_for(stored, chinese=ui_is_chinese())

    def _prompt_to_save(self) -> str:
        """What the box holds, except that the default shown in Chinese is kept as the default (so
        it stays the default in either language); anything the user wrote is saved as written."""
        text = self.system_prompt.toPlainText()
        if text == self._shown_prompt(DEFAULT_SYSTEM_PROMPT) and text != DEFAULT_SYSTEM_PROMPT:
            return DEFAULT_SYSTEM_PROMPT
        return text

    def _on_connection_edited(self, *_: object) -> None:
        if self._loading:
            return
        self.tasks.cancel("connection-test")
        self.test_result.clear()
        self.models_status.clear()

    def _on_temperature_typed(self, _text: str) -> None:
        if self.temperature.out_of_range():
            self._out_of_range = self.temperature.lineEdit().text().strip()
            self.temperature_note.setText(self.tr("The temperature goes from 0 to 2."))
        else:
            self._out_of_range = ""
            self.temperature_note.clear()

    def _on_temperature_finished(self) -> None:
        if self._out_of_range:
            self.temperature_note.setText(fill(self.tr("The temperature goes from 0 to 2: %1 was set to %2."),
                                               self._out_of_range, self.temperature.text()))
            self._out_of_range = ""

    def _proxy_url_to_save(self) -> str:
        """The address typed, without a password: one typed into the address goes to the keyring
        (and leaves the field). A password the settings file still holds because there was no
        keyring to move it to stays there, as it was."""
        address, typed_password = split_password(self.proxy_url.text().strip())
        if typed_password:
            self.proxy_url.setText(address)
            self._start_saving_proxy_password(typed_password)
            return address
        _, kept = split_password(self.session.settings.proxy_url)
        return with_password(address, kept) if kept else address

    def _on_proxy_password_edited(self) -> None:
        password = self.proxy_password.text()
        if password:
            self._start_saving_proxy_password(password)

    def _start_saving_proxy_password(self, password: str) -> None:
        self.proxy_password.clear()  # at once: a second editingFinished must not save it again
        self.tasks.start("proxy-password", self._save_proxy_password(password))

    async def _save_proxy_password(self, password: str) -> None:
        stored = await self.session.save_proxy_password(password)
        self.proxy_password_status.setText(
            self.tr("Proxy password saved in the system keyring.") if stored else self.tr(
                "No system keyring is available, so the proxy password is used for this session "
                "only; it is not written to disk."))
        self.proxy_password_status.setVisible(True)
        self._update_proxy_password_state()  # the next request's connection carries it

    def forget_proxy_password(self) -> None:
        self.tasks.start("proxy-password", self._forget_proxy_password())

    async def _forget_proxy_password(self) -> None:
        try:
            await self.session.forget_proxy_password()
            self.proxy_password_status.setText(self.tr("Proxy password deleted."))
        except KeyringUnavailable:
            self.proxy_password_status.setText(error_text(ErrorKind.KEYRING))
        self.proxy_password_status.setVisible(True)
        self._update_proxy_password_state()

    def _on_language_changed(self, *_: object) -> None:
        if self._loading:
            return
        self.session.settings = self.session.settings.replace(language=self.language_combo.currentData())
        self.language_note.setVisible(True)
        self.restart_button.setVisible(True)
        self.save()

    def restart_now(self) -> None:
        self.tasks.start("restart", self._restart())

    async def _restart(self) -> None:
        """Write the settings, close the window the usual way (which also lets a new start take
        over the data directory), then start the app again."""
        if self.session.store is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.session.store.flush)
        if not self.window().close():
            return
        program, arguments = restart_command()
        if not self.start_detached(program, arguments):
            log.error("could not start %s %s again", program, arguments)

    def save(self) -> None:
        """Tell the other tabs; the session's settings store writes the file (debounced, off the
        UI thread). A session without a store (some tests) is written at once, as before."""
        if self.session.store is None:
            try:
                settings_mod.save(self.session.settings)
            except OSError as exc:
                log.error("could not save settings: %s", exc)
        if self.session.settings != self._announced:
            self._announced = self.session.settings
            self.settings_changed.emit()

    # -- connection test and model list ----------------------------------------------------

    def _config_for_test(self) -> ConnectionConfig | None:
        typed: str | None = ""
        if self.key_edit.text().strip():
            typed = self._typed_key(self.test_result)
            if typed is None:
                return None
        try:
            config = self.session.config()
        except QwenError as error:
            if error.kind is ErrorKind.NO_KEY and typed:
                return connection_config(self.session.settings, ApiKey(typed, KeySource.SESSION),
                                         self.session.proxy_password)
            self.test_result.setText(error_text(error.kind))
            return None
        if typed:
            config = dataclasses.replace(config, api_key=typed)
        return config

    def _address_missing(self, show_problem_in: QLabel) -> bool:
        """A custom region with no address: say so rather than ask an empty address."""
        if self.region_combo.currentData() != Region.CUSTOM.value:
            return False
        url, _source = resolve_base_url(Region.CUSTOM, self.custom_url.text())
        if url:
            return False
        show_problem_in.setText(self.tr("Enter the service address (it starts with https://)."))
        return True

    def test_connection(self) -> None:
        if self._address_missing(self.test_result):
            return
        config = self._config_for_test()
        if config is None:
            return
        # The button stays enabled while testing: disabling the focused button would hand the focus
        # on to the Model box with its text selected. Pressing it again starts the test again.
        self.tasks.start("connection-test", self._test_connection(config))

    async def _test_connection(self, config: ConnectionConfig) -> None:
        self.test_result.setText(self.tr("Testing…"))
        _url, source = resolve_base_url(self.session.settings.region, self.session.settings.custom_base_url)
        others = default_region_urls() if source == "region" else None
        report = await check_connection(config, other_regions=others)
        self.show_report(report)

    def show_report(self, report: ConnectionReport) -> None:
        if report.ok:
            count = len(report.models)
            self.test_result.setText(self.tr("Connected. 1 chat model available.") if count == 1
                                     else self.tr("Connected. %n chat models available.", "", count))
            self._fill_models(list(report.models))
            return
        error = report.error
        assert error is not None
        text = error_text(error.kind)
        if report.key_region is not None:
            label = QCoreApplication.translate("Regions", REGIONS[report.key_region].label)
            text = fill(self.tr("This key belongs to the region %1. Choose that region above."), label)
        details = error.details()
        self.test_result.setText(text + (f"\n{details}" if details else ""))

    def refresh_models(self) -> None:
        if self._address_missing(self.models_status):
            return
        try:
            client = self.session.client()
        except QwenError as error:
            self.models_status.setText(error_text(error.kind))
            return
        self.tasks.start("models", self._refresh_models(client))

    async def _refresh_models(self, client: object) -> None:
        # Not disabled while it runs, for the same reason as the connection test's button.
        self.models_status.setText(self.tr("Refreshing…"))
        try:
            models = await client.list_models()  # type: ignore[attr-defined]
        except QwenError as error:
            details = error.details()
            self.models_status.setText(error_text(error.kind) + (f"\n{details}" if details else ""))
            return
        self.models_status.setText(self.tr("1 model") if len(models) == 1
                                   else self.tr("%n models", "", len(models)))
        self._fill_models(models)

    def _fill_models(self, models: list[str]) -> None:
        if not models:
            return
        current = self.model_combo.currentText()
        self._loading = True
        self.model_combo.clear()
        ordered = [m for m in DEFAULT_CHAT_MODELS if m in models] + [m for m in models if m not in DEFAULT_CHAT_MODELS]
        self.model_combo.addItems(ordered)
        self.model_combo.setCurrentText(current)
        self._loading = False
