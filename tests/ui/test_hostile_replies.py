"""Text from outside never makes the window load a local resource or open a local program.

A reply (or a server error) with an image of a local path — a real PNG, a FIFO that would block the
UI thread if read, /dev/zero — is shown, kept in history and shown again after a restart, and none of
it is read; links to files or odd schemes are not opened.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import QLabel

from desktop.gui.main_window import MainWindow
from desktop.gui.chat.markdown_view import AutoHeightBrowser
from tests.support.dashscope_server import ChatReply, DashScopeServer
from tests.support.qt_async import run, until
from tests.ui.test_chat_features import UrlCatcher
from tests.ui.test_chat_window import Harness, bodies, configure, harness, type_and_send  # noqa: F401

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


def image_count(document: QTextDocument) -> int:
    count = 0
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isImageFormat():
                count += 1
            it += 1
        block = block.next()
    return count


def browsers(window: MainWindow) -> list[AutoHeightBrowser]:
    return window.chat_tab.findChildren(AutoHeightBrowser)


def test_local_images_and_file_links_in_replies_are_never_loaded(
        harness: Harness, qtbot, srv: DashScopeServer, loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "real.png"
    png.write_bytes(PNG)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # reading it would block the UI thread for ever
    reply = (f"Look: ![a picture]({png}) ![z](/dev/zero) ![p]({fifo}) <img src=\"{png}\">\n\n"
             f"[open me](file://{png}) [shell](file:///bin/sh) [web](https://example.com/)\n")
    configure(srv)
    srv.script_chat(ChatReply(content=reply),
                    ChatReply.error(400, "InvalidParameter", f"bad <img src='{png}'> and <img src='{fifo}'>"))
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        window = harness.open()
        type_and_send(qtbot, window, "show me")
        run(loop, until(lambda: len(bodies(window)) == 2 and not window.chat_tab.is_busy()))
        type_and_send(qtbot, window, "again")
        run(loop, until(lambda: not window.chat_tab.is_busy()
                        and window.chat_tab.view.message_widgets()[-1].error_card is not None))

        def check(win: MainWindow) -> None:
            views = browsers(win)
            assert views
            shown = "\n".join(v.toPlainText() for v in views)
            assert "[a picture]" in shown and "open me" in shown  # the words stay, as text
            assert all(image_count(v.document()) == 0 for v in views)
            for view in views:  # a resource asked for by name is never read either
                assert view.loadResource(int(QTextDocument.ResourceType.ImageResource),
                                         QUrl.fromLocalFile(str(png))) is None
                view.anchorClicked.emit(QUrl.fromLocalFile(str(png)))
                view.anchorClicked.emit(QUrl("file:///bin/sh"))
            card = win.chat_tab.view.message_widgets()[-1].error_card
            assert card is not None
            labels = [card.details, *card.findChildren(QLabel)]
            assert "<img src=" in card.details.text()  # shown literally ...
            assert all(label.textFormat().name != "RichText" for label in labels
                       if "<img" in label.text())  # ... and never as markup

        check(window)
        harness.close(window)
        reopened = harness.open()  # the same reply from history, after a restart
        run(loop, until(lambda: len(bodies(reopened)) >= 2))
        check(reopened)
        assert catcher.urls == []  # no file link was handed to the system
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_markdown_never_emits_an_image_or_a_local_link() -> None:
    from desktop.core import markdown

    html = markdown.render("![x](/dev/zero) ![w](https://e.com/p.png) [a](../x.exe) [b](javascript:alert(1)) "
                           "[c](https://qwen.ai) <img src=\"/dev/zero\">")
    assert "<img" not in html
    assert 'href="https://e.com/p.png"' in html and 'href="https://qwen.ai"' in html
    assert 'href="../x.exe"' not in html and 'href="javascript' not in html


def test_a_huge_table_is_shown_folded_and_copied_whole(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.gui.chat.markdown_view import MarkdownBody

    table = "| Row | Value |\n|---|---|\n" + "".join(f"| row {i} | {i} |\n" for i in range(3000))
    body = MarkdownBody(width_hint=600)
    qtbot.addWidget(body)
    body.set_markdown(table)
    shown = "".join(b.toPlainText() for b in body.browsers())
    assert "row 49" in shown and "row 50\t" not in shown and "row 2999" not in shown
    assert "2,950 more rows are not shown here" in shown
    assert body.text() == table  # what Copy takes: all of it
