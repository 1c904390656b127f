"""Without a usable system keyring the Settings tab says so next to the key field, with the fix for
this system, before the user presses Save (issue 11, item 5); on the real window."""

from __future__ import annotations

import sys

import keyring
import keyring.backends.fail
import pytest

from desktop.core.secrets import keyring_advice
from tests.ui.test_chat_window import Harness, configure, harness  # noqa: F401


def test_no_usable_keyring_is_explained_before_save(harness: Harness, srv, loop, monkeypatch) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, key=False)
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the conftest fixture puts back its own
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    tab = window.settings_tab
    note = tab.keyring_note
    assert note.isVisible(), "the keyring advice is not shown before Save"
    assert "no system keyring" in note.text() and "pasted at each start" in note.text()
    assert keyring_advice(sys.platform) in note.text()
    assert tab.key_status.text() == "No API key is set."  # nothing was saved or tried


def test_a_usable_keyring_shows_no_advice(harness: Harness, srv, loop) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    configure(srv, key=False)  # the in-memory keyring of tests/conftest.py stands in for a real one
    window = harness.open(catch_up=False)
    harness.wait_idle(window)
    window.show_settings()
    assert window.settings_tab.isVisible()
    assert not window.settings_tab.keyring_note.isVisible()
    assert window.settings_tab.keyring_note.text() == ""


@pytest.mark.parametrize(("platform", "words"), [
    ("linux", ("gnome-keyring", "KWallet", "restart Qwen Desktop")),
    ("freebsd14", ("gnome-keyring", "KWallet")),
    ("win32", ("Windows Credential Manager", "restart Windows")),
    ("darwin", ("macOS Keychain", "log in again")),
])
def test_keyring_advice_per_platform(platform: str, words: tuple[str, ...]) -> None:
    advice = keyring_advice(platform)
    for word in words:
        assert word in advice, (platform, advice)
