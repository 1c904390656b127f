"""Scans and photos in a notes folder: counted and priced first, read by qwen-vl-ocr on the
loopback server, kept by image hash (never read twice), searchable by words only in the images,
a page remembered in each chunk, a failing page listed while the rest goes on. From the command
line, as a person would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import run_cli
from tests.notes.conftest import write
from tests.support.dashscope_server import DashScopeServer
from tests.support.scans import photo_png, scanned_pdf

OCR_PATH = "/api/v1/services/aigc/multimodal-generation/generation"


def ocr_requests(srv: DashScopeServer) -> list[dict[str, object]]:
    return [r.body for r in srv.requests if r.path.endswith(OCR_PATH)]


def scans(root: Path) -> None:
    write(root / "readme.md", "# Office\n\nThe office opens at nine.\n")
    scanned_pdf(root / "contract.pdf",
                ["# 采购合同\n\n合同编号 HT-2026-88，付款期限三十天。", "", "| 项目 | 金额 |\n|---|---|\n| 打印纸 | 1200 元 |"],
                text_layer={2: "Signed in Hangzhou"})
    photo_png(root / "notice.png", "停水通知：本周五上午九点至十二点大楼停水。")


def search(query: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert run_cli(["notes", "search", query, "--json", "-k", "3"]) == 0
    hits: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return hits


def test_scans_and_photos_are_counted_then_read_once_and_found_by_their_words(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scans(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    capsys.readouterr()

    # Counted and priced first; nothing is sent without a yes (no terminal here to ask on).
    assert run_cli(["notes", "index", "--ocr"]) == 1
    err = capsys.readouterr().err
    assert "Scans and photos to read: 3 page(s) or image(s) in 2 file(s), about CNY" in err
    assert "run it again with --yes" in err and ocr_requests(service_env) == []

    assert run_cli(["notes", "index", "--ocr", "--yes"]) == 0
    err = capsys.readouterr().err
    assert "Scans and photos: 3 read" in err and "0 not read" in err
    sent = ocr_requests(service_env)
    assert len(sent) == 3
    assert all(b["model"] == "qwen-vl-ocr-latest"
               and b["parameters"] == {"ocr_options": {"task": "document_parsing"}} for b in sent)
    first = sent[0]["input"]["messages"][0]["content"]  # type: ignore[index]
    assert first[0]["image"].startswith(("data:image/jpeg;base64,", "data:image/png;base64,"))

    # Words that are only in the images find them; a PDF's chunks say their page.
    hits = search("HT-2026-88", capsys)
    assert hits[0]["file_name"] == "contract.pdf" and str(hits[0]["heading"]).startswith("Page 1")
    hits = search("停水通知", capsys)
    assert hits[0]["file_name"] == "notice.png"
    hits = search("打印纸", capsys)
    assert hits[0]["file_name"] == "contract.pdf" and str(hits[0]["heading"]).startswith("Page 3")
    assert search("Hangzhou", capsys)[0]["heading"] == "Page 2"  # the text layer, as text

    # Never read twice: not on the next run, not after a rename, not after a rebuild.
    (notes_dir / "notice.png").rename(notes_dir / "water-notice.png")
    assert run_cli(["notes", "index", "--ocr"]) == 0
    assert run_cli(["notes", "index", "--ocr", "--rebuild"]) == 0
    assert len(ocr_requests(service_env)) == 3
    assert search("停水通知", capsys)[0]["file_name"] == "water-notice.png"


def test_a_page_that_fails_is_listed_and_the_rest_is_indexed(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scans(notes_dir)
    service_env.ocr_fail_texts = {"打印纸"}  # page 3 of the contract fails every time
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index", "--ocr", "--yes"]) == 0
    err = capsys.readouterr().err
    assert "Scans and photos: 2 read" in err and "1 not read" in err
    assert f"not read: {notes_dir / 'contract.pdf'} page 3:" in err
    assert search("HT-2026-88", capsys)[0]["file_name"] == "contract.pdf"
    assert search("停水通知", capsys)[0]["file_name"] == "notice.png"

    service_env.ocr_fail_texts = set()  # the next run reads only what is missing
    before = len(ocr_requests(service_env))
    assert run_cli(["notes", "index", "--ocr", "--yes"]) == 0
    assert len(ocr_requests(service_env)) == before + 1
    assert str(search("打印纸", capsys)[0]["heading"]).startswith("Page 3")


def test_without_ocr_images_are_not_read_and_scans_stay_skipped(
    service_env: DashScopeServer, notes_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scans(notes_dir)
    assert run_cli(["notes", "add", str(notes_dir)]) == 0
    assert run_cli(["notes", "index"]) == 0
    assert ocr_requests(service_env) == []
    hits = search("停水通知", capsys)  # meaning finds something, but never the photo's words
    assert all(h["file_name"] != "notice.png" and "停水" not in str(h["snippet"]) for h in hits)
    assert [h["heading"] for h in search("Hangzhou", capsys) if h["file_name"] == "contract.pdf"] == [""]
