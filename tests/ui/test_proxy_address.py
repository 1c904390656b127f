"""A proxy address is checked as it is typed and what is wrong is said in plain words (issue 11,
item 1): ``host:port`` as IT writes it is fine (it means http), the rest is named."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.core.client import ProxyProblem, proxy_address_problem
from tests.ui.test_chat_window import Harness, configure, harness  # noqa: F401


@pytest.mark.parametrize(("typed", "problem"), [
    ("proxy.corp:8080", None), ("127.0.0.1:9", None), ("http://user@proxy:3128", None),
    ("socks5://127.0.0.1:1080", None), ("[::1]:8080", None),
    ("", ProxyProblem.EMPTY), ("proxy corp:80", ProxyProblem.SPACE), ("ftp://proxy:21", ProxyProblem.SCHEME),
    ("htp://proxy:8080", ProxyProblem.SCHEME), ("http://:8080", ProxyProblem.HOST),
    ("proxy:99999", ProxyProblem.PORT), ("proxy:80a", ProxyProblem.PORT), ("proxy:", ProxyProblem.PORT),
])
def test_what_is_wrong_with_a_typed_address(typed: str, problem: ProxyProblem | None) -> None:
    assert proxy_address_problem(typed) == problem


def test_the_settings_tab_says_it_as_the_address_is_typed(harness: Harness, qtbot, srv, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open(catch_up=False)
    tab = window.settings_tab
    window.tabs.setCurrentWidget(tab)
    tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("manual"))
    assert "Type the proxy address" in tab.proxy_note.text()

    tab.proxy_url.setFocus()
    qtbot.keyClicks(tab.proxy_url, "proxy.corp:99999")  # no Enter, no leaving the field: as typed
    assert "port must be a number from 1 to 65535" in tab.proxy_note.text()
    for _ in range(3):
        qtbot.keyClick(tab.proxy_url, Qt.Key.Key_Backspace)
    assert tab.proxy_note.text() == "Will use: http://proxy.corp:99"
    tab.proxy_url.setText("ftp://proxy.corp:21")
    assert "starts with http://, https:// or socks5://" in tab.proxy_note.text()
    tab.proxy_url.setText("http://proxy.corp:8080")
    assert tab.proxy_note.text() == ""

    tab.proxy_url.setText("proxy corp")
    tab.proxy_combo.setCurrentIndex(tab.proxy_combo.findData("none"))
    assert tab.proxy_note.text() == ""  # not used, so nothing to say about it
