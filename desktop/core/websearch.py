"""Web search with sources: what a source is, the event that brings them, and the citation markers.

DashScope's native text-generation endpoint searches the web for the model and returns the pages it
read (``output.search_info.search_results``); the answer cites them with markers in the format we
ask for (``[ref_<n>]``). Sources are stored with the reply; a marker whose number no source has stays
plain text. Only http(s) addresses are ever offered to open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    try:
        parts = urlsplit(url.strip())
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
