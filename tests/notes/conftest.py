"""Fixtures for the notes tests: a loopback DashScope server, the real client, note corpora."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from desktop.core.notes.index import Indexer
from desktop.core.notes.index_records import IndexConfig
from desktop.core.notes.search import Searcher
from desktop.core.paths import notes_db
from desktop.core.retry import RetryPolicy

# Retries in tests wait milliseconds, not seconds.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, quota_delay=0.01, jitter=0.0)


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return notes_db()


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    return path


@pytest.fixture
def config() -> IndexConfig:
    return IndexConfig(dimensions=64, retry=FAST_RETRY, concurrency=3)




@pytest.fixture
async def open_indexer(db_path: Path, config: IndexConfig) -> AsyncIterator[Callable[..., object]]:
    """``await open_indexer(embedder, **config_changes)``; all are closed at the end."""
    opened: list[Indexer] = []

    async def factory(embedder: object = None, **changes: object) -> Indexer:
        from dataclasses import replace

        indexer = await Indexer.open(db_path, replace(config, **changes), embedder)  # type: ignore[arg-type]
        opened.append(indexer)
        return indexer

    yield factory
    for indexer in opened:
        await indexer.close()


@pytest.fixture
async def open_searcher(db_path: Path) -> AsyncIterator[Callable[..., object]]:
    opened: list[Searcher] = []

    async def factory(embedder: object = None) -> Searcher:
        searcher = await Searcher.open(db_path, embedder)  # type: ignore[arg-type]
        opened.append(searcher)
        return searcher

    yield factory
    for searcher in opened:
        await searcher.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with a real text layer (Helvetica, ASCII text), written by hand."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL\n"
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content += f"({escaped}) Tj T*\n"
    content += "ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         "/Resources << /Font << /F1 5 0 R >> >> >>"),
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path
