"""Showing text that came from outside (the model, the service, a file name) as text, never as markup.

Qt guesses whether a label's or tooltip's text is rich text; a guessed ``<img src=...>`` makes it read
a local file. Labels that show such text are set to plain text; tooltips, which have no such switch,
get the text escaped inside markup of our own.
"""

from __future__ import annotations

import html


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally, line breaks kept."""
    if not text:
        return ""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
