"""Export to Markdown and .docx: the round trip through python-docx keeps the messages and their form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from desktop.core.ask import NO_NOTES_EN, Source
from desktop.core.client import Usage
from desktop.core.export import conversation_markdown, write_docx
from desktop.core.history import Conversation, HistoryStore, Message, Status

ANSWER = """## 季度总结 Summary

Revenue grew **12%** in *all* regions; see `report.xlsx` and [the wiki](https://example.com/wiki) [1].

1. First step
2. Second step
   - a detail

Another list:

1. starts again

| 地区 | Q1 | Q2 |
|---|---:|---:|
| 华东 | 120 | 135 |
| North | 98 | 101 |

```python
def total(values):
    return sum(values)
```

> Keep receipts for 15 days.
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    history = HistoryStore(tmp_path / "history.sqlite3")
    yield history
    history.close()


def conversation(store: HistoryStore, notes_file: Path) -> tuple[Conversation, list[Message]]:
    c = store.create_conversation("季度报告 Report")
    store.add_message(c.id, "user", "Summarise the quarter.\nKeep it short.")
    answer = store.add_message(c.id, "assistant", ANSWER, model="qwen-plus")
    answer.sources = [Source(1, str(notes_file), "Revenue", 3, 9, "Revenue grew…")]
    answer.usage = Usage(100, 50)
    store.update_message(answer)
    store.add_message(c.id, "user", "What about the weather?")
    failed = store.add_message(c.id, "assistant", "", status=Status.ERROR)
    failed.error_kind = "network"
    store.update_message(failed)
    store.add_message(c.id, "user", "What about the weather?")
    nothing = store.add_message(c.id, "assistant", "", status=Status.NO_NOTES)
    nothing.sources = []
    store.update_message(nothing)
    return store.conversation(c.id), store.messages(c.id)  # type: ignore[return-value]


def test_markdown_export_keeps_the_text_and_lists_sources(store: HistoryStore, tmp_path: Path) -> None:
    notes_file = tmp_path / "notes" / "q1.md"
    c, messages = conversation(store, notes_file)
    text = conversation_markdown(c, messages)
    assert text.startswith("# 季度报告 Report\n")
    assert "## You · " in text and "## Qwen · qwen-plus · " in text
    assert "Summarise the quarter.\nKeep it short." in text
    assert ANSWER.strip() in text  # the answer exactly as written
    assert f"1. [q1.md](<{notes_file.as_uri()}>) — Revenue, lines 3–9" in text
    assert NO_NOTES_EN in text
    assert text.count("## You") == 3 and text.count("## Qwen") == 2  # the failed request is left out
    assert "4 messages" not in text and "5 messages" in text


def test_docx_round_trip(store: HistoryStore, tmp_path: Path) -> None:
    notes_file = tmp_path / "notes" / "q1.md"
    c, messages = conversation(store, notes_file)
    path = tmp_path / "out" / "report.docx"
    write_docx(c, messages, path)

    document = docx.Document(str(path))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    texts = [t for _, t in paragraphs]
    assert paragraphs[0] == ("Title", "季度报告 Report")
    headings = [t for s, t in paragraphs if s == "Heading 1"]
    assert len(headings) == 5 and headings[0].startswith("You · ") and headings[1].startswith("Qwen · qwen-plus")
    assert ("Heading 3", "季度总结 Summary") in paragraphs  # "##" in the answer, one level down
    assert "Summarise the quarter.\nKeep it short." in texts
    assert any("Revenue grew 12% in all regions; see report.xlsx and the wiki [1]." == t for t in texts)
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert "12%" in bold
    code_font = [r.font.name for p in document.paragraphs for r in p.runs if r.text == "report.xlsx"]
    assert code_font == ["Consolas"]
    assert ("List Number", "First step") in paragraphs and ("List Bullet 2", "a detail") in paragraphs
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    num_ids = {p._p.pPr.numPr.numId.val for p in numbered}
    assert len(num_ids) == 2  # the second list starts again at 1
    assert ("Code Block", "def total(values):\n    return sum(values)") in paragraphs
    assert ("Quote", "Keep receipts for 15 days.") in paragraphs
    (table,) = document.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["地区", "Q1", "Q2"], ["华东", "120", "135"], ["North", "98", "101"]]
    assert all(r.bold for r in table.rows[0].cells[0].paragraphs[0].runs)
    assert "[1] q1.md — Revenue, lines 3–9" in texts
    links = [rel.target_ref for rel in document.part.rels.values() if rel.reltype.endswith("/hyperlink")]
    assert notes_file.as_uri() in links and "https://example.com/wiki" in links
    assert NO_NOTES_EN in " ".join(texts)
    assert texts.count("What about the weather?") == 2
