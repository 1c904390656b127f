"""plain_text: a reply's Markdown as text that reads well where Markdown is not rendered."""

from __future__ import annotations

from desktop.core.markdown import plain_text


def test_emphasis_loses_its_markers() -> None:
    assert plain_text("This is **bold**, *italic*, __strong__ and ~~gone~~.\n") == \
        "This is bold, italic, strong and gone."


def test_headings_are_their_text_and_blocks_are_apart() -> None:
    source = "# Title\n\nFirst paragraph.\n\n## Part *two*\nSecond paragraph.\n"
    assert plain_text(source) == "Title\n\nFirst paragraph.\n\nPart two\n\nSecond paragraph."


def test_bullet_and_numbered_lists() -> None:
    source = "- apples\n- **pears**\n\n3. third\n4. fourth\n"
    assert plain_text(source) == "• apples\n• pears\n\n3. third\n4. fourth"


def test_nested_lists_are_indented_under_their_item() -> None:
    source = "1. fruit\n   - apple\n   - pear\n2. vegetables\n"
    assert plain_text(source) == "1. fruit\n   • apple\n   • pear\n2. vegetables"


def test_a_table_becomes_tab_separated_rows() -> None:
    source = "| Region | Q1 |\n|---|---:|\n| 华东 | **120** |\n| 华南 | `95` |\n"
    text = plain_text(source)
    assert text == "Region\tQ1\n华东\t120\n华南\t95"
    assert "|" not in text and "---" not in text


def test_a_code_block_is_its_code() -> None:
    source = "Run this:\n\n```python\ndef f(x):\n    return x * 2  # **not bold**\n```\n\nDone.\n"
    assert plain_text(source) == "Run this:\n\ndef f(x):\n    return x * 2  # **not bold**\n\nDone."
    assert plain_text("Use `pip install -U x` now.") == "Use pip install -U x now."


def test_links_show_their_text_and_address() -> None:
    assert plain_text("See [the docs](https://example.com/docs).") == \
        "See the docs (https://example.com/docs)."
    # A bare address is not repeated.
    assert plain_text("Go to <https://example.com>.") == "Go to https://example.com."
    assert plain_text("![A chart](https://example.com/c.png)") == "A chart (https://example.com/c.png)"


def test_chinese_text_is_unchanged() -> None:
    source = "你好，世界！这是一段中文，带有标点符号：「引号」、（括号）和【方括号】[1]。\n第二行。"
    assert plain_text(source) == source


def test_quotes_line_breaks_escapes_and_rules() -> None:
    assert plain_text("> quoted\n> more\n") == "> quoted\n> more"
    assert plain_text("a\\\nb  \nc\n") == "a\nb\nc"
    assert plain_text("2 \\* 3 &amp; 4\n") == "2 * 3 & 4"
    assert "---" not in plain_text("above\n\n---\n\nbelow\n")
    assert plain_text("") == ""
