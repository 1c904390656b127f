"""Reading notes: encodings, formats, chunking and the folder scan (no network, no Qt)."""

from __future__ import annotations

import codecs
import itertools
import os
from pathlib import Path

import pytest

from desktop.core.notes.chunker import chunk_text
from desktop.core.notes.encoding import BinaryContent, decode_text
from desktop.core.notes.index_reading import read_file
from desktop.core.notes.reader import NoteUnreadable, SkipReason, TextKind, extract_text, html_to_text
from desktop.core.notes.scanner import FoundFile, scan_folder
from desktop.core.notes.store_records import IndexedFile, SkippedFile
from tests.notes.conftest import make_docx, make_pdf, write

SIMPLIFIED = "# 会议纪要\n今天我们讨论了差旅报销流程。请大家注意：发票必须在月底之前提交！错误代码 E-4012 表示审批失败。\n"
TRADITIONAL = "# 會議紀要\n今天我們討論了差旅報銷流程。請大家注意：發票必須在月底之前提交！\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (SIMPLIFIED.encode("gbk"), SIMPLIFIED),
        (SIMPLIFIED.encode("gb18030"), SIMPLIFIED),
        (TRADITIONAL.encode("big5"), TRADITIONAL),
        (SIMPLIFIED.encode("utf-16"), SIMPLIFIED),  # with BOM
        (codecs.BOM_UTF16_BE + SIMPLIFIED.encode("utf-16-be"), SIMPLIFIED),
        (SIMPLIFIED.encode("utf-16-le"), SIMPLIFIED),  # no BOM, as old Windows tools write it
        (SIMPLIFIED.encode("utf-16-be"), SIMPLIFIED),
        ("Plain English notes, line two.\n".encode("utf-16-le"), "Plain English notes, line two.\n"),
        ("Grüße aus München\r\nzweite Zeile\r\n".encode("cp1252"), "Grüße aus München\nzweite Zeile\n"),
        ("报销".encode("gbk"), "报销"),  # two characters only: GBK wins the tie over Big5
        ("報銷".encode("big5"), "報銷"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "big5", "utf16-bom", "utf16be-bom", "utf16le-nobom",
         "utf16be-nobom", "utf16-ascii", "cp1252-crlf", "gbk-short", "big5-short"],
)
def test_encodings_are_detected(data: bytes, expected: str) -> None:
    assert decode_text(data).text == expected


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), bytes(range(256)) * 8, bytes(100), b"\x00\x01" * 50],
    ids=["png", "all-bytes", "nuls", "utf16-shaped-controls"],
)
def test_binary_data_is_refused(data: bytes) -> None:
    with pytest.raises(BinaryContent):
        decode_text(data)


def test_docx_keeps_headings_and_tables(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "policy.docx"
    document = docx.Document()
    document.add_heading("差旅报销制度", level=1)
    document.add_paragraph("出差前需要填写申请单。")
    document.add_heading("发票", level=2)
    document.add_paragraph("发票抬头必须是公司全称。")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "代码"
    table.rows[0].cells[1].text = "E-4012"
    document.save(str(path))
    note = extract_text(path, path.read_bytes())
    assert "# 差旅报销制度" in note.text and "## 发票" in note.text
    assert "代码 | E-4012" in note.text
    chunks = chunk_text(note.text, note.kind)
    assert ("差旅报销制度", "发票") in {c.heading for c in chunks}


def test_pdf_text_layer_is_read(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", ["Quarterly report", "Error code E-4012 was fixed."])
    note = extract_text(path, path.read_bytes())
    assert note.encoding == "pdf"
    assert "Quarterly report" in note.text and "E-4012" in note.text


def test_pdf_without_text_and_damaged_files_say_why(tmp_path: Path) -> None:
    scanned = make_pdf(tmp_path / "scan.pdf", [])
    with pytest.raises(NoteUnreadable) as info:
        extract_text(scanned, scanned.read_bytes())
    assert info.value.reason is SkipReason.NO_TEXT
    broken = write(tmp_path / "broken.docx", "not a zip file")
    with pytest.raises(NoteUnreadable) as info:
        extract_text(broken, broken.read_bytes())
    assert info.value.reason is SkipReason.UNREADABLE


def test_html_is_stripped_to_text() -> None:
    text = html_to_text(
        "<html><head><style>p{}</style><script>var x = 1</script></head>"
        "<body><h2>Budget</h2><p>Total &amp; <b>net</b></p><ul><li>one</li></ul></body></html>"
    )
    assert "## Budget" in text and "Total & net" in text and "- one" in text
    assert "var x" not in text and "p{}" not in text


def test_chunks_follow_headings_and_know_their_lines() -> None:
    text = (
        "# 报销制度\n"          # 1
        "\n"                    # 2
        "总则。\n"              # 3
        "\n"                    # 4
        "## 发票要求\n"         # 5
        "\n"                    # 6
        "发票必须真实。\n"      # 7
        "金额必须一致。\n"      # 8
        "\n"                    # 9
        "```\n# not a heading\n```\n"  # 10-12
    )
    chunks = chunk_text(text, TextKind.MARKDOWN)
    assert [(c.heading, c.line_start, c.line_end) for c in chunks] == [
        (("报销制度",), 3, 3),
        (("报销制度", "发票要求"), 7, 12),
    ]


def test_long_chinese_text_is_cut_at_sentence_ends_with_overlap() -> None:
    sentence = "发票必须真实有效，金额与实际一致。"  # 17 characters
    text = "# 发票\n\n" + sentence * 200 + "\n"
    chunks = chunk_text(text, TextKind.MARKDOWN, max_chars=300, overlap_chars=40)
    assert len(chunks) > 10
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert chunk.text.startswith("发票") and chunk.text.endswith("。")
    for first, second in itertools.pairwise(chunks):
        assert first.text[-len(sentence):] == second.text[: len(sentence)]  # one sentence overlap


def test_plain_text_without_structure_is_chunked_by_size() -> None:
    text = "\n".join(f"line {i} with some words" for i in range(400))
    chunks = chunk_text(text, TextKind.PLAIN, max_chars=500)
    assert all(len(c.text) <= 500 for c in chunks)
    assert chunks[0].line_start == 1 and chunks[-1].line_end == 400


def test_scan_skips_with_reasons(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    write(root / "keep.md", "hello")
    write(root / "sub" / "deeper.txt", "deep")
    write(root / ".git" / "config.txt", "x")
    write(root / ".obsidian" / "notes.md", "x")
    write(root / "node_modules" / "pkg" / "README.md", "x")
    write(root / "build" / "out.txt", "x")
    write(root / "__pycache__" / "x.txt", "x")
    write(root / "big.txt", "x" * 5000)
    write(root / "photo.png", "x")  # not a note: ignored silently
    write(root / "old.doc", "x")  # a document we cannot read: listed
    write(root / "~$lock.docx", "x")  # Office lock file: ignored
    os.symlink(root, root / "sub" / "loop")  # a link back to the root
    os.symlink(tmp_path / "missing.md", root / "dangling.md")
    result = scan_folder(root, max_file_size=1000)
    found = {Path(f.path).relative_to(root).as_posix() for f in result.files}
    assert found == {"keep.md", "sub/deeper.txt"}
    reasons = {Path(s.path).relative_to(root).as_posix(): s.reason for s in result.skipped}
    assert reasons == {
        ".git": SkipReason.HIDDEN_FOLDER,
        ".obsidian": SkipReason.HIDDEN_FOLDER,
        "node_modules": SkipReason.EXCLUDED_FOLDER,
        "build": SkipReason.EXCLUDED_FOLDER,
        "__pycache__": SkipReason.EXCLUDED_FOLDER,
        "big.txt": SkipReason.TOO_LARGE,
        "old.doc": SkipReason.UNSUPPORTED,
        "sub/loop": SkipReason.SYMLINK_LOOP,
        "dangling.md": SkipReason.UNREADABLE,
    }


def test_binary_file_with_a_text_name_is_skipped_on_read(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"\x00\x01\x02binary\x00" * 50)
    st = path.stat()
    change = read_file(FoundFile(str(path), st.st_size, st.st_mtime_ns), None, 10_000)
    assert isinstance(change, SkippedFile) and change.reason is SkipReason.BINARY
    text = write(tmp_path / "ok.md", "# T\n\nbody\n")
    st = text.stat()
    change = read_file(FoundFile(str(text), st.st_size, st.st_mtime_ns), None, 10_000)
    assert isinstance(change, IndexedFile) and change.chunks[0].text == "body"


def test_docx_via_conftest_helper(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "a.docx", "标题", ["第一段。", "第二段。"])
    note = extract_text(path, path.read_bytes())
    assert note.kind is TextKind.MARKDOWN and "第一段。" in note.text
