"""Whatever goes wrong in a chat turn ends visibly: an error card with Retry, Send back, text kept."""

from __future__ import annotations

from desktop.core.errors import ErrorKind
from desktop.core.history import HistoryStore, Status
from desktop.core.paths import history_db
from tests.support.dashscope_server import DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_window import Harness, configure, harness, type_and_send  # noqa: F401


def test_a_proxy_without_scheme_is_used_as_http(harness: Harness, qtbot, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    # The way IT writes it: host:port. Port 9 (discard) on loopback refuses: a proxy error, not a hang.
    configure(srv, proxy_mode="manual", proxy_url="127.0.0.1:9")
    window = harness.open()
    type_and_send(qtbot, window, "hello through the proxy")
    run(loop, until(lambda: not window.chat_tab.is_busy()
                    and window.chat_tab.view.message_widgets()[-1].error_card is not None, timeout=20))
    card = window.chat_tab.view.message_widgets()[-1].error_card
    assert card is not None and card.kind == ErrorKind.PROXY.value
    assert card.retry_button.isVisible() and card.settings_button.isVisible()
    assert window.chat_tab.send_button.isEnabled()  # Send came back
    assert srv.chat_requests() == []  # nothing reached the service around the proxy


def test_an_unclassified_exception_ends_in_an_error_card(harness: Harness, qtbot, srv: DashScopeServer, loop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()

    def broken_client() -> object:
        raise RuntimeError("nobody classified this")

    monkeypatch.setattr(window.chat_tab.session, "client", broken_client)
    type_and_send(qtbot, window, "keep my words")
    run(loop, until(lambda: not window.chat_tab.is_busy() and len(window.chat_tab.view.message_widgets()) == 2))
    widgets = window.chat_tab.view.message_widgets()
    assert widgets[0].body.text() == "keep my words"
    card = widgets[1].error_card
    assert card is not None and card.kind == ErrorKind.UNKNOWN.value and card.retry_button.isVisible()
    assert "RuntimeError" in card.details.text()
    assert window.chat_tab.send_button.isEnabled()
    history = HistoryStore(history_db())
    try:
        messages = history.messages(window.chat_tab.conversation_id)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].status is Status.ERROR and messages[1].error_kind == ErrorKind.UNKNOWN.value
    finally:
        history.close()


def test_typing_in_settings_writes_the_file_once_and_leaves_the_watcher_alone(harness: Harness, qtbot, srv: DashScopeServer, loop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from desktop.core import settings as settings_mod
    from desktop.core.paths import settings_file

    notes = tmp_path / "notes"
    notes.mkdir()
    configure(srv, notes_folders=[str(notes)])
    window = harness.open(watch=True)
    watcher = window.search_tab._watcher
    assert watcher is not None
    restarts: list[list[str]] = []
    original = watcher.watch
    watcher.watch = lambda folders: (restarts.append(list(folders)), original(folders))[1]  # type: ignore[method-assign]
    store = window.session.store
    assert store is not None
    writes_before = store.writes
    window.show_settings()
    editor = window.settings_tab.system_prompt
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " Always answer briefly, please")  # 30 characters, one event each
    assert window.session.settings.system_prompt.endswith(" Always answer briefly, please")
    run(loop, asyncio.sleep(1.0))
    assert store.writes - writes_before <= 2
    assert restarts == []  # the folder list did not change: the watcher was not restarted
    other = tmp_path / "other"
    other.mkdir()
    window.search_tab.add_folder(str(other))  # this one changes the list: the watcher follows it
    assert restarts == [[str(notes), str(other)]]
    harness.wait_idle(window)
    harness.close(window)
    assert settings_mod.load(settings_file()).system_prompt.endswith(" Always answer briefly, please")


def test_a_failing_background_task_is_said_in_the_status_bar(harness: Harness, srv: DashScopeServer, loop) -> None:  # type: ignore[no-untyped-def]
    configure(srv)
    window = harness.open()

    async def broken() -> None:
        raise OSError("disk went away")

    window.tasks.start("background", broken())
    run(loop, until(lambda: bool(window.statusBar().currentMessage())))
    assert window.statusBar().currentMessage() == ("Something went wrong in the background. The log "
                                                   "file in the data folder has the details.")


def test_a_damaged_settings_file_is_recovered_and_said(harness: Harness, srv: DashScopeServer, data_dir) -> None:  # type: ignore[no-untyped-def]
    from desktop.core import settings as settings_mod
    from desktop.core.paths import settings_file

    configure(srv, model="qwen-max", system_prompt="Answer in haiku.")
    settings_file().write_text('{"model": ', encoding="utf-8")  # cut off mid-write by something else
    window = harness.open(catch_up=False)
    assert window.session.settings.model == "qwen-max"
    assert window.session.settings.system_prompt == "Answer in haiku."
    box = window.recovery_box
    assert box is not None and box.isVisible()
    assert "settings it last saved" in box.text()
    kept = list(data_dir.glob("settings.json.broken-*"))
    assert len(kept) == 1 and str(kept[0]) in box.informativeText()
    harness.close(window)
    assert settings_mod.load_with_recovery() == (window.session.settings, None)
