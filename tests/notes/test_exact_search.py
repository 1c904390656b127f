"""A query that looks like a code or a quoted phrase: exact matches first, or an honest "none";
scores shown as percentages mean similarity; snippets read as text, not Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.cli import run_cli
from desktop.core.client import QwenClient
from desktop.core.notes.keywords import exact_phrase, make_snippet, parse_query
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer


def reference_corpus(root: Path) -> None:
    # The exact note says little else; its neighbour shares nearly every word of the query's
    # meaning ("ref 0777"…) but not the code as written.
    write(root / "invoice.md", "# Payments\n\nThe supplier invoice REF-0777 was paid in March.\n")
    write(root / "similar.md", "# Ref 0777\n\nref 0777 ref 0777 REF 0777 reference 0777 refs 777\n")
    for i in range(6):
        write(root / f"other{i}.md", f"# Other {i}\n\nSomething unrelated about gardening, week {i}.\n")


@pytest.mark.parametrize("query, phrase", [
    ("REF-0777", "REF-0777"), ("E-4012", "E-4012"), ("INV/2026/11", "INV/2026/11"),
    ("build_42.tar", "build_42.tar"), ('"approval failed"', "approval failed"),
    ("“差旅报销”", "差旅报销"), ("approval failed", None), ("e-mail", None), ("报销", None),
])
def test_what_looks_like_a_code_or_an_exact_phrase(query: str, phrase: str | None) -> None:
    assert exact_phrase(query) == phrase


async def test_a_code_puts_the_note_that_contains_it_first(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    reference_corpus(notes_dir)
    await (await open_indexer(client)).run([str(notes_dir)])
    searcher = await open_searcher(client)

    results = await searcher.search("REF-0777", k=5)
    assert not results.keyword_only
    assert results.exact is True
    assert results.hits[0].file_name == "invoice.md" and results.hits[0].exact
    assert all(not h.exact for h in results.hits[1:])
    # The look-alike is found, but after the exact match.
    assert "similar.md" in [h.file_name for h in results.hits[1:]]

    # Lower case finds the code too; a longer code that merely starts with it does not count.
    assert (await searcher.search("ref-0777", k=5)).hits[0].file_name == "invoice.md"
    write(notes_dir / "invoice.md", "# Payments\n\nThe supplier invoice REF-0777-B was paid.\n")
    await (await open_indexer(client)).run([str(notes_dir)])
    assert (await searcher.search("REF-0777", k=5)).exact is False

    # A query that is not a code has no exact part at all.
    assert (await searcher.search("gardening week", k=5)).exact is None


async def test_a_code_that_exists_nowhere_says_so_and_claims_no_certainty(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    reference_corpus(notes_dir)
    await (await open_indexer(client)).run([str(notes_dir)])
    searcher = await open_searcher(client)

    results = await searcher.search("XQ-9931", k=5)
    assert results.exact is False and results.hits  # the closest by meaning are still listed
    assert all(not h.exact and h.keyword_rank is None for h in results.hits)
    # No hit claims to be a perfect match: neither the similarity nor the fused score is 1.
    assert all(h.vector_score is not None and round(h.vector_score * 100) < 100 for h in results.hits)
    assert all(h.score < 0.99 for h in results.hits)


async def test_a_quoted_phrase_is_found_as_written(
    client: QwenClient, notes_dir: Path, open_indexer: Any, open_searcher: Any
) -> None:
    write(notes_dir / "scattered.md", "The approval step failed twice; approval was then granted.\n")
    write(notes_dir / "exact.md", "Status: the approval\nfailed at noon.\n")
    await (await open_indexer(client)).run([str(notes_dir)])
    searcher = await open_searcher(client)
    results = await searcher.search('"approval failed"', k=5)
    assert results.exact is True and results.hits[0].file_name == "exact.md"
    assert results.exact_text == "approval failed"
    missing = await searcher.search('"approval denied"', k=5)
    assert missing.exact is False and missing.exact_text == "approval denied"


def test_a_markdown_snippet_reads_as_text_and_starts_at_a_word() -> None:
    text = ("# Quarterly report\n\n" + "Some introductory words here. " * 12
            + "\n\n- **Bold claim:** the `REF-0777` invoice is [paid](https://example.com/pay) now\n"
            "| Column | Value |\n|---|---|\n| __total__ | 12 |\n")
    snippet = make_snippet(text, parse_query("REF-0777"))
    for markup in ("**", "__", "`", "#", "](", "|", "- "):
        assert markup not in snippet.text, markup
    assert "Bold claim: the REF-0777 invoice is paid now" in snippet.text
    assert snippet.text.startswith("…")
    first_word = snippet.text[1:].split(" ")[0]
    assert first_word in text.split() or first_word in {"Some", "introductory", "words", "here."}
    assert snippet.marked().count("[REF-0777]") == 1

    # Cut mid-word, the window moves to the next word boundary (never "…ntroductory").
    for offset in range(40):
        long = "word " * offset + "alphabetical " * 30 + "target " + "zeta " * 60
        cut = make_snippet(long, parse_query("target"))
        if cut.text.startswith("…"):
            assert cut.text[1:].split(" ")[0] in {"word", "alphabetical", "target", "zeta"}
        if cut.text.endswith("…"):
            assert cut.text[:-1].split(" ")[-1] in {"word", "alphabetical", "target", "zeta"}


def test_cli_search_shows_similarity_and_says_when_nothing_matches_exactly(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference_corpus(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index"]) == 0
    capsys.readouterr()

    assert run_cli(["notes", "search", "REF-0777", "-k", "3"]) == 0
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert first.startswith(f"1. {notes_dir / 'invoice.md'}:") and "exact match" in first
    assert "100%" not in captured.out and "similar" in first

    assert run_cli(["notes", "search", "XQ-9931", "-k", "3"]) == 0
    captured = capsys.readouterr()
    assert "No note contains “XQ-9931” exactly; these are the closest by meaning." in captured.err
    assert "100%" not in captured.out and "exact match" not in captured.out
