"""Web sources in text: markers become links only to sources that exist, only http(s) pages are
offered, notes' [n] and the web's [Wn] are told apart, a terminal never shows a raw marker."""

from __future__ import annotations

import pytest

from desktop.core import markdown
from desktop.core.websearch import MarkerFilter, WebSource, cited_markdown, cited_indexes, is_web_address, merge_sources

WEB = [WebSource(1, "Rates", "https://bank.example/rates", "Bank"), WebSource(3, "Odd", "javascript:alert(1)")]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://a.example/x?y=1", True), ("http://a.example", True), ("HTTPS://A.EXAMPLE/", True),
    ("file:///etc/passwd", False), ("javascript:alert(1)", False), ("https://", False),
    ("https://a.example/x y", False), ("https://a.example/<b>", False), ("ftp://a.example/", False),
])
def test_only_web_pages_are_openable(url: str, ok: bool) -> None:
    assert is_web_address(url) is ok


def test_beside_notes_the_web_citations_read_w_and_link_to_their_sources() -> None:
    html = markdown.render("Notes say [1]; the web says [ref_1] and [ref_3], not [ref_2].",
                           citations=1, web=(1, 3))
    assert '<a href="cite:1">[1]</a>' in html
    assert '<a href="web:1">[W1]</a>' in html and '<a href="web:3">[W3]</a>' in html
    assert "[ref_2]" in html and 'href="web:2"' not in html  # no such source: plain text
    alone = markdown.render("Only the web [ref_1].", web=(1,))
    assert '<a href="web:1">[1]</a>' in alone


def test_exported_markdown_links_only_web_pages() -> None:
    text = cited_markdown("A [ref_1] and B [ref_3] and C [ref_9].", WEB, "Web sources", prefix="W")
    assert "[\\[W1\\]](<https://bank.example/rates>)" in text and "\\[W3\\]" in text
    assert "(<javascript:" not in text and "[ref_9]" in text
    assert "- \\[W3\\] Odd (javascript:alert(1))" in text
    assert cited_markdown("untouched [ref_1]", [], "Web sources") == "untouched [ref_1]"


def test_a_marker_split_between_pieces_reaches_the_terminal_whole() -> None:
    markers = MarkerFilter()
    markers.known = {1, 12}
    pieces = ["see [", "re", "f_1", "] and [ref_1", "2]", " [ref_4] [1] [r"]
    shown = "".join(markers.feed(p) for p in pieces) + markers.flush()
    assert shown == "see [1] and [12] [ref_4] [1] [r"


def test_later_sources_replace_earlier_ones_by_index() -> None:
    merged = merge_sources(WEB, [WebSource(1, "Rates, updated", "https://bank.example/rates"),
                                 WebSource(2, "New", "https://new.example/")])
    assert [(s.index, s.title) for s in merged] == [(1, "Rates, updated"), (2, "New"), (3, "Odd")]
    assert cited_indexes("[ref_2] [ref_1] [ref_2]") == [2, 1]
