"""Web search with sources: what a source is, the event that brings them, and the citation markers.

DashScope's native text-generation endpoint searches the web for the model and returns the pages it
read (``output.search_info.search_results``); the answer cites them with markers in the format we
ask for (``[ref_<n>]``). Sources are stored with the reply; a marker whose number no source has stays
plain text. Only http(s) addresses are ever offered to open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CITATION_FORMAT = "[ref_<number>]"
MARKER = re.compile(r"\[ref_(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class WebSource:
    """A page the service read for an answer."""

    index: int  # the number the answer's markers use
    title: str
    url: str
    site_name: str = ""

    @property
    def openable(self) -> bool:
        """Whether the address may be opened in the browser (http or https only, with a host)."""
        return is_web_address(self.url)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "title": self.title, "url": self.url, "site_name": self.site_name}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> WebSource:
        return cls(int(raw["index"]), str(raw.get("title", "")), str(raw.get("url", "")),
                   str(raw.get("site_name", "")))


@dataclass(frozen=True, slots=True)
class WebSourcesFound:
    """A stream event: the pages searched for this answer (all of them so far)."""

    sources: tuple[WebSource, ...]


def is_web_address(url: str) -> bool:
    """An absolute http(s) address with a host, and nothing that could end a link early."""
    if any(ch.isspace() or ch in '<>"' for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def merge_sources(known: Iterable[WebSource], new: Iterable[WebSource]) -> tuple[WebSource, ...]:
    """Sources by index, a later event's version of an index replacing an earlier one, in order."""
    by_index = {s.index: s for s in known}
    for source in new:
        by_index[source.index] = source
    return tuple(by_index[i] for i in sorted(by_index))


def cited_indexes(text: str) -> list[int]:
    """The source numbers the text's markers name, first mention first."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def replace_markers(text: str, render: Any, sources: Iterable[WebSource]) -> str:
    """``text`` with each marker whose number a source has replaced by ``render(source)``; markers
    without a matching source are left as they are (plain text)."""
    by_index = {s.index: s for s in sources}

    def one(match: re.Match[str]) -> str:
        source = by_index.get(int(match.group(1)))
        return str(render(source)) if source is not None else match.group(0)

    return MARKER.sub(one, text)


def _escaped(text: str) -> str:
    return "".join("\\" + ch if ch in "\\[]*_`<>" else ch for ch in " ".join(text.split()))


def cited_markdown(text: str, sources: Sequence[WebSource] | None, heading: str, *, prefix: str = "") -> str:
    """An answer's Markdown for copying and exporting: each marker a link "[n]" (or "[Wn]" with
    ``prefix``) to its page, and the sources listed under ``heading``. Unchanged without sources."""
    if not sources:
        return text

    def marker(source: WebSource) -> str:
        label = f"{prefix}{source.index}"
        return f"[\\[{label}\\]](<{source.url}>)" if source.openable else f"\\[{label}\\]"

    lines = [replace_markers(text, marker, sources).rstrip(), "", f"**{heading}**", ""]
    for source in sources:
        title = _escaped(source.title) or _escaped(source.url)
        entry = f"[{title}](<{source.url}>)" if source.openable else f"{title} ({_escaped(source.url)})"
        site = f" — {_escaped(source.site_name)}" if source.site_name else ""
        lines.append(f"- \\[{prefix}{source.index}\\] {entry}{site}")  # a bullet: a list would renumber
    return "\n".join(lines) + "\n"


class MarkerFilter:
    """Streamed text with the markers shown as "[n]": a marker cut between two pieces is held back
    until the rest of it arrives (for a terminal, which cannot go back and change what it wrote)."""

    def __init__(self) -> None:
        self._held = ""
        self.known: set[int] = set()  # the indexes of the sources received: other markers stay as they are

    def feed(self, text: str) -> str:
        text = self._held + text
        cut = text.rfind("[")
        if cut != -1 and _could_become_marker(text[cut:]):
            text, self._held = text[:cut], text[cut:]
        else:
            self._held = ""
        return self._shown(text)

    def flush(self) -> str:
        rest, self._held = self._held, ""
        return self._shown(rest)

    def _shown(self, text: str) -> str:
        return MARKER.sub(lambda m: f"[{m.group(1)}]" if int(m.group(1)) in self.known else m.group(0), text)


def _could_become_marker(tail: str) -> bool:
    """Whether ``tail`` (from a "[") is the start of a marker that is not complete yet."""
    return bool(re.fullmatch(r"\[(r(e(f(_\d{0,3})?)?)?)?", tail))
