"""The Simplified Chinese translation: complete, placeholders kept, compiled, and used by the window."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.core.appcontext import AppContext
from desktop.core.errors import MESSAGES, ErrorKind
from desktop.core.regions import REGIONS, Region
from desktop.gui.common import i18n
from desktop.gui.main_window import MainWindow
from desktop.core.tasks import TaskRunner
from tests.support.qt_async import run

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "resources" / "translations"
TS = TRANSLATIONS / "qwen_desktop_zh_CN.ts"
UPDATE = TRANSLATIONS / "update.py"

_PLACEHOLDER = re.compile(r"%(?:\d+|n)")
_TAG = re.compile(r"<[^>]+>")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def ts_messages() -> list[tuple[str, str, list[str], str | None]]:
    """(context, source, translations, type) for every message of the .ts."""
    out = []
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            tr = message.find("translation")
            assert tr is not None, f"[{name}] {message.findtext('source')!r} has no <translation>"
            if message.get("numerus") == "yes":
                texts = [form.text or "" for form in tr.iter("numerusform")]
            else:
                texts = [tr.text or ""]
            out.append((name, message.findtext("source") or "", texts, tr.get("type")))
    return out


def test_every_message_is_translated_with_its_placeholders_and_tags() -> None:
    messages = ts_messages()
    assert len(messages) > 100
    problems = []
    for context, source, texts, kind in messages:
        where = f"[{context}] {source!r}"
        if kind is not None:
            problems.append(f"{where}: type={kind}")
        for text in texts:
            if not text.strip():
                problems.append(f"{where}: empty translation")
                continue
            if Counter(_PLACEHOLDER.findall(source)) != Counter(_PLACEHOLDER.findall(text)):
                problems.append(f"{where}: placeholders differ in {text!r}")
            if Counter(_TAG.findall(source)) != Counter(_TAG.findall(text)):
                problems.append(f"{where}: HTML tags differ in {text!r}")
            if source.count("\n") != text.count("\n"):
                problems.append(f"{where}: line breaks differ in {text!r}")
    assert not problems, "\n".join(problems)


def test_ts_qm_and_mapping_are_up_to_date_with_the_sources() -> None:
    """update.py --check: no new or vanished messages, nothing unfinished, the .qm is what lrelease
    makes of the .ts, and no marked text that lupdate cannot see."""
    proc = subprocess.run([sys.executable, str(UPDATE), "--check"], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    previous = QLocale()
    translators = i18n.install(qapp, "zh_CN")
    try:
        yield translators
    finally:
        for translator in translators:
            QCoreApplication.removeTranslator(translator)
        QLocale.setDefault(previous)


def test_core_messages_translate_to_chinese(chinese: list[QTranslator]) -> None:
    assert len(chinese) == 2, "expected the app's translation and Qt's own qtbase_zh_CN"
    for kind in ErrorKind:
        text = QCoreApplication.translate("Errors", MESSAGES[kind])
        assert _CJK.search(text), f"{kind}: {text!r}"
    no_key = QCoreApplication.translate("Errors", MESSAGES[ErrorKind.NO_KEY])
    assert no_key.startswith("尚未设置 API 密钥"), no_key
    assert QCoreApplication.translate("Regions", REGIONS[Region.BEIJING].label) == "华北2（北京）"


def test_qt_standard_buttons_are_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text() == "取消"


def test_main_window_speaks_chinese(chinese: list[QTranslator], qtbot: QtBot, loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    services = AppContext.create()
    window = None
    try:
        window = MainWindow(services, TaskRunner(), watch=False, catch_up=False)
        qtbot.addWidget(window)
        tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert tabs == ["对话", "搜索", "设置"], tabs
        assert all(_CJK.search(t) for t in tabs), tabs
        assert window.chat_tab.send_button.text() == "发送"
        assert window.chat_tab.thinking_box.text() == "深度思考"
        assert window.settings_tab.region_combo.itemText(0) == "华北2（北京）"

        # An export from the Chinese window is labelled in Chinese too.
        conversation = services.history.create_conversation("预算")
        services.history.add_message(conversation.id, "user", "明年的预算是多少？")
        services.history.add_message(conversation.id, "assistant", "大约 **100 万元**。")
        target = data_dir / "export.md"
        window.chat_tab.export_conversation(conversation.id, target, "md")
        exported = target.read_text(encoding="utf-8")
        assert "## 我 · " in exported and "## 通义千问 · " in exported and "共 2 条消息" in exported
        assert "You" not in exported and "Exported from" not in exported
    finally:
        if window is not None:
            run(loop, window.shutdown())
        run(loop, services.aclose())


def test_english_installs_no_translator(qapp: QApplication) -> None:
    previous = QLocale()
    try:
        assert i18n.install(qapp, "en") == []
    finally:
        QLocale.setDefault(previous)
