"""Markdown rendering for Qt's rich text, and the stable prefix used while a reply streams."""

from __future__ import annotations

import re

import pytest

from desktop.core.markdown import Fold, fold_source, render, stable_prefix_end

SAMPLE = """\
# 快速排序 Quicksort

Quicksort sorts **in place** and uses `O(log n)` extra space. 它是一种分治算法，
平均复杂度为 O(n log n)。

## Steps

1. Pick a pivot.
2. Partition the array:
   everything smaller goes left.
3. Recurse on both halves.

- item with `code`
- another item

> A quote that spans
> two lines.

```python
def quicksort(items):

    if len(items) <= 1:
        return items
    pivot, *rest = items
    return quicksort([x for x in rest if x < pivot]) + [pivot] + quicksort([x for x in rest if x >= pivot])
```

| 算法 | Average | Worst |
|:-----|:-------:|------:|
| 快速排序 | n log n | n² |
| Merge sort | n log n | n log n |

~~~
plain fenced text
  with indentation
~~~

    an indented code block

---

Done — 完成。
"""


# Steps with code inside list items, as models like to write them.
STEPS = """\
1. Install it:

   ```bash
   pip install qwen-desktop
   ```

   Then check the version.
2. Run it:

   ```
   qwen-desktop
   ```
3. Done.

- A bullet:
  ```json
  {"a": 1}
  ```

  still the bullet.

Last paragraph.
"""


def blocks(html: str) -> list[str]:
    """Top-level pieces of rendered HTML, one per line that starts a block (for readable diffs)."""
    return [line for line in html.splitlines() if line.strip()]


# ---- rendering -------------------------------------------------------------------------------


def test_headings_paragraphs_and_cjk_text() -> None:
    html = render(SAMPLE)
    assert "<h1>快速排序 Quicksort</h1>" in html
    assert "<h2>Steps</h2>" in html
    assert "它是一种分治算法" in html and "平均复杂度为 O(n log n)。" in html
    assert "Done — 完成。" in html
    assert "<strong>in place</strong>" in html
    assert "<ol>" in html and "<ul>" in html and "<blockquote" in html and "<hr" in html


def test_inline_code_has_a_background() -> None:
    html = render("Call `print(\"<b>\")` now.")
    assert re.search(r'<code style="background-color:#[0-9a-f]{6};">', html)
    assert "print(&quot;&lt;b&gt;&quot;)" in html  # escaped, not interpreted


def test_tables_with_alignment() -> None:
    html = render(SAMPLE)
    assert '<table border="1"' in html
    assert '<th align="left"' in html and '<th align="center"' in html and '<th align="right"' in html
    assert "<td align=\"left\">快速排序</td>" in html
    assert "n²" in html


def test_code_blocks_are_highlighted_with_inline_colours() -> None:
    html = render("```python\ndef f(x):\n    return x + 1\n```\n")
    assert re.search(r'<span style="color: ?#[0-9A-Fa-f]{3,6}[^"]*">def</span>', html)
    assert 'class="' not in html  # Qt has no CSS classes for spans
    assert "<pre" in html and "<br/>    " in html  # line breaks and indentation kept
    assert ">python</div>" in html  # the language label


def test_code_block_without_highlighting_is_escaped_text() -> None:
    html = render("```python\nif a < b:\n    pass\n```\n", highlight=False)
    assert "<span" not in html and "if a &lt; b:" in html


def test_dark_palette_differs() -> None:
    light = render("```python\nx = 1\n```\n")
    dark = render("```python\nx = 1\n```\n", dark=True)
    assert light != dark and "#161b22" in dark


def test_raw_html_is_not_interpreted() -> None:
    html = render("<script>alert(1)</script> and <b>bold</b>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


def test_empty_text() -> None:
    assert render("") == ""


# ---- the stable prefix -----------------------------------------------------------------------


def test_nothing_is_stable_in_a_single_block() -> None:
    assert stable_prefix_end("") == 0
    assert stable_prefix_end("A paragraph still arriving") == 0
    assert stable_prefix_end("A paragraph\nwith two lines\n") == 0
    assert stable_prefix_end("A paragraph\n\n") == 0  # the next block may still be a continuation


def test_splits_at_blank_lines_between_top_level_blocks() -> None:
    text = "# Title\n\nPara one.\n\nPara two\n"
    assert stable_prefix_end(text) == len("# Title\n\nPara one.\n\n")
    assert stable_prefix_end("# Title\n\nPara one.\n\nPara tw") == len("# Title\n\n")  # unfinished line


def test_never_splits_inside_an_open_code_fence() -> None:
    intro = "Intro\n\n"
    text = intro + "```python\na = 1\n\n\nb = 2\n\nc = 3\n"
    assert stable_prefix_end(text) == len(intro)
    tilde = intro + "~~~\nx\n\ny\n```\nnot a close\n\n"
    assert stable_prefix_end(tilde) == len(intro)
    longer = intro + "````\n```\ninner\n```\n\nstill inside\n"
    assert stable_prefix_end(longer) == len(intro)


def test_a_closed_fence_is_a_finished_block() -> None:
    text = "```\ncode\n\nmore code\n```\n"
    assert stable_prefix_end(text) == len(text)
    assert stable_prefix_end(text + "After") == len(text)
    assert stable_prefix_end("````\n```\n````\n") == len("````\n```\n````\n")


def test_does_not_split_before_an_indented_continuation() -> None:
    assert stable_prefix_end("- item one\n\n  continued item\n") == 0
    assert stable_prefix_end("1. first\n\n    indented code in the item\n") == 0
    assert stable_prefix_end("Para\n\n    indented code block\n") == 0
    text = "- item one\n\n  continued item\n\nNext paragraph\n"
    assert stable_prefix_end(text) == len("- item one\n\n  continued item\n\n")


def test_stable_prefix_only_grows_while_streaming() -> None:
    previous = 0
    for i in range(len(SAMPLE) + 1):
        end = stable_prefix_end(SAMPLE[:i])
        assert previous <= end <= i
        previous = end
    assert stable_prefix_end(SAMPLE) > len(SAMPLE) // 2


def test_a_fence_inside_a_list_item_does_not_end_the_item() -> None:
    text = "- Install:\n\n  ```\n  pip install x\n  ```\n\n  Then run it.\n"
    assert stable_prefix_end(text) == 0
    assert stable_prefix_end(STEPS) == STEPS.index("Last paragraph.")


@pytest.mark.parametrize("document", [SAMPLE, STEPS], ids=["sample", "steps"])
@pytest.mark.parametrize("step", [1, 7])
def test_rendering_prefix_and_tail_equals_rendering_the_whole(document: str, step: int) -> None:
    # Every moment of a stream: the finished blocks rendered once, plus the tail re-rendered,
    # must look exactly like rendering everything received so far.
    for i in list(range(0, len(document), step)) + [len(document)]:
        text = document[:i]
        end = stable_prefix_end(text)
        split = render(text[:end]) + render(text[end:])
        assert blocks(split) == blocks(render(text)), f"differs after {i} characters (cut at {end})"


def test_incremental_rendering_reuses_finished_blocks() -> None:
    # What the window does: render each newly finished stretch once and append it.
    rendered_prefix, done = "", 0
    for i in range(0, len(SAMPLE) + 1, 3):
        end = stable_prefix_end(SAMPLE[:i])
        if end > done:
            rendered_prefix += render(SAMPLE[done:end])
            done = end
    assert blocks(rendered_prefix + render(SAMPLE[done:])) == blocks(render(SAMPLE))


# ---- huge blocks are folded for the screen (issue 10, item 4) -----------------------------------



def test_small_text_is_not_folded() -> None:
    text = "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nx = 1\n```\n"
    assert fold_source(text, Fold()) == text
    assert render(text, fold=Fold()) == render(text)


def test_a_huge_table_code_block_and_line_are_cut_with_a_note() -> None:
    fold = Fold(code_lines=5, table_rows=3, line_chars=50)
    table = "| a | b |\n|---|---|\n" + "".join(f"| r{i} | {i} |\n" for i in range(10)) + "\nafter\n"
    code = "```\n" + "".join(f"line {i}\n" for i in range(12)) + "```\n"
    folded = fold_source(table + "\n" + code + "\n" + "x" * 80 + "\n", fold)
    assert "| r2 | 2 |" in folded and "| r3 | 3 |" not in folded
    assert "7 more rows are not shown here" in folded and "after" in folded
    assert "line 4" in folded and "line 5" not in folded and "7 more lines are not shown here" in folded
    assert "x" * 50 + " … (30 more characters" in folded and "x" * 51 not in folded
    html = render(table, fold=fold)
    assert html.count("<tr>") == 4  # the header row and three rows
    assert render(table).count("<tr>") == 11  # unfolded (copies, exports): every row


def test_a_code_block_still_streaming_says_what_is_left_out() -> None:
    folded = fold_source("```\n" + "a\n" * 20, Fold(code_lines=5))
    assert folded.count("a\n") == 5 and "15 more lines" in folded
