"""Exports have a clean default file name, mark replies that did not end normally, and the .docx
carries a title and an author (issue 11, item 11)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from desktop.core.export import conversation_markdown, export_file_name, write_docx
from desktop.core.history import Conversation, HistoryStore, Message, Status

DAY = datetime.date(2026, 12, 2)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    history = HistoryStore(tmp_path / "history.db")
    yield history
    history.close()


def test_the_default_file_name_is_the_clean_title_and_the_date() -> None:
    assert export_file_name("Quarterly budget", "md", DAY) == "Quarterly budget 2026-12-02.md"
    assert export_file_name("", "md", DAY) == "conversation 2026-12-02.md"
    assert export_file_name('  <>:"/\\|?*\x01\t ', "docx", DAY) == "conversation 2026-12-02.docx"
    name = export_file_name('Plan: Q1/Q2 "draft"? <v2>|\x07end\n', "md", DAY)
    assert name == "Plan Q1 Q2 draft v2 end 2026-12-02.md"
    long = export_file_name("季度预算 " * 40, "md", DAY)
    assert long.endswith(" 2026-12-02.md") and len(long) <= 60 + len(" 2026-12-02.md")
    assert not any(c in long for c in '\\/:*?"<>|')


def conversation(store: HistoryStore) -> tuple[Conversation, list[Message]]:
    c = store.create_conversation("Quarterly budget")
    store.add_message(c.id, "user", "First question")
    store.add_message(c.id, "assistant", "A stopped half", status=Status.STOPPED)
    store.add_message(c.id, "user", "Second question")
    cut = store.add_message(c.id, "assistant", "A cut-off half", status=Status.CUT_OFF)
    cut.error_kind = "network"
    store.update_message(cut)
    store.add_message(c.id, "user", "Third question")
    failed = store.add_message(c.id, "assistant", "", status=Status.ERROR)
    failed.error_kind = "timeout"
    store.update_message(failed)
    store.add_message(c.id, "user", "Fourth question")
    store.add_message(c.id, "assistant", "A complete answer")
    return store.conversation(c.id), store.messages(c.id)  # type: ignore[return-value]


def test_markdown_marks_stopped_cut_off_and_failed_turns(store: HistoryStore) -> None:
    c, messages = conversation(store)
    text = conversation_markdown(c, messages)
    stopped = text.index("A stopped half")
    assert text.index("(stopped)") > stopped and text.index("(stopped)") < text.index("Second question")
    assert text.index("(cut off)") > text.index("A cut-off half")
    failed = text.index("(failed: The Qwen service did not answer in time.")
    assert text.index("Third question") < failed < text.index("Fourth question")
    assert text.count("(stopped)") == 1 and text.count("(cut off)") == 1 and text.count("(failed") == 1
    assert "A complete answer\n\n" in text or text.rstrip().endswith("A complete answer")


def test_docx_marks_the_turns_and_has_a_title_and_an_author(store: HistoryStore, tmp_path: Path) -> None:
    c, messages = conversation(store)
    target = tmp_path / "out.docx"
    write_docx(c, messages, target)
    document = docx.Document(str(target))
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("A stopped half") + 1] == "(stopped)"
    assert texts[texts.index("A cut-off half") + 1] == "(cut off)"
    failed = next(i for i, t in enumerate(texts) if t.startswith("(failed: "))
    assert texts.index("Third question") < failed < texts.index("Fourth question")
    assert not any(t.startswith("(") for t in texts[texts.index("A complete answer"):])
    assert document.core_properties.title == "Quarterly budget"
    assert document.core_properties.author == "Qwen Desktop"


def test_an_edited_question_says_when_it_was_edited(store: HistoryStore, tmp_path: Path) -> None:
    c = store.create_conversation("Edited")
    question = store.add_message(c.id, "user", "Old question")
    store.add_message(c.id, "assistant", "An answer")
    edited_at = datetime.datetime(2026, 12, 2, 9, 41).timestamp()
    store.set_content(question.id, "New question", edited=edited_at)
    conversation_, messages = store.conversation(c.id), store.messages(c.id)
    text = conversation_markdown(conversation_, messages)  # type: ignore[arg-type]
    heading = next(line for line in text.splitlines() if "New question" not in line and "edited" in line)
    assert "(edited 2026-12-02 09:41)" in heading and text.count("edited") == 1
    target = tmp_path / "edited.docx"
    write_docx(conversation_, messages, target)  # type: ignore[arg-type]
    assert any("(edited 2026-12-02 09:41)" in p.text for p in docx.Document(str(target)).paragraphs)
