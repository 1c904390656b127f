"""Copying messages: readable text (with the Markdown beside it), the Markdown itself, or rich
text that Word and WPS paste with its form.

Chat apps, e-mail and Notepad paste text/plain, so that is always text a person reads: no ``**``,
no table pipes. The Markdown source rides along as text/markdown for the editors that take it,
and "Copy as Markdown" puts it in text/plain for those that do not.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData
from PySide6.QtGui import QGuiApplication

from desktop.core import markdown

MARKDOWN_MIME = "text/markdown"


def copy_text(text: str) -> None:
    """Text as it is (a question, a path): nothing to convert."""
    QGuiApplication.clipboard().setText(text)


def copy_reply(markdown_text: str) -> QMimeData:
    """A reply as readable text (see :func:`desktop.core.markdown.plain_text`), with its Markdown
    as text/markdown."""
    mime = QMimeData()
    mime.setText(markdown.plain_text(markdown_text))
    _add_markdown(mime, markdown_text)
    QGuiApplication.clipboard().setMimeData(mime)
    return mime


def copy_markdown(markdown_text: str) -> QMimeData:
    """A reply's Markdown source, as the text and as text/markdown."""
    mime = QMimeData()
    mime.setText(markdown_text)
    _add_markdown(mime, markdown_text)
    QGuiApplication.clipboard().setMimeData(mime)
    return mime


def copy_for_word(markdown_text: str) -> QMimeData:
    """A reply as HTML (headings, lists, tables and code keep their form in Word and WPS; Qt offers
    it as "HTML Format" on Windows), as readable text for plain-text editors, and as Markdown."""
    mime = QMimeData()
    mime.setHtml(markdown.document_html(markdown_text))
    mime.setText(markdown.plain_text(markdown_text))
    _add_markdown(mime, markdown_text)
    QGuiApplication.clipboard().setMimeData(mime)
    return mime


def _add_markdown(mime: QMimeData, markdown_text: str) -> None:
    mime.setData(MARKDOWN_MIME, QByteArray(markdown_text.encode("utf-8")))
