"""An OCR run over the notes folders: find the scans and photos, count and price what is not yet
recognised, then recognise it — several at a time, with the retry and rate-limit policy of
embeddings. Each page's text is stored as soon as it arrives, so a cancelled run resumes where
it stopped; a page that fails is listed with the reason and the rest goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desktop.core.errors import QwenError
from desktop.core.notes.index_reading import read_bytes
from desktop.core.notes.ocr import IMAGE_SUFFIXES, OcrClient, PageImage, cached_texts, page_cost, page_images
from desktop.core.notes.ocr import save_text
from desktop.core.notes.scanner import scan_folder
from desktop.core.pacing import EndpointKind, pacer_for
from desktop.core.retry import RetryPolicy, call_with_retries

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OcrFailure:
    path: str
    page: int | None  # None: the image file itself
    reason: str


@dataclass(frozen=True, slots=True)
class OcrEstimate:
    """What a run would send: ``pages`` images (``files`` files) not recognised yet."""

    files: int
    pages: int
    cached: int  # recognised before (same image): not sent again
    cost_cny: float
    unreadable: tuple[OcrFailure, ...] = ()  # pages that cannot be sent at all


@dataclass(frozen=True, slots=True)
class OcrProgress:
    done: int
    total: int
    failed: int


@dataclass(frozen=True, slots=True)
class OcrReport:
    recognised: int
    failures: tuple[OcrFailure, ...]
    input_tokens: int
    output_tokens: int
    paths: frozenset[str] = frozenset()  # files with pages read in this run: to be read again


@dataclass
class OcrPlan:
    estimate: OcrEstimate
    pending: list[PageImage]


def find_scans(folders: Sequence[str], max_file_size: int) -> list[PageImage]:
    """Every image, and every PDF page without a text layer, in ``folders`` (blocking)."""
    found: list[PageImage] = []
    for folder in folders:
        scan = scan_folder(folder, max_file_size=max_file_size, allowed=folders,
                           extra_suffixes=IMAGE_SUFFIXES)
        for file in scan.files:
            suffix = file.path.rsplit(".", 1)[-1].lower()
            if f".{suffix}" not in IMAGE_SUFFIXES and suffix != "pdf":
                continue
            try:
                data = read_bytes(file.path, max_file_size + 1)
            except Exception as exc:  # noqa: BLE001 - an unreadable file is the index run's to report
                log.info("OCR: cannot read %s: %s", file.path, type(exc).__name__)
                continue
            if len(data) <= max_file_size:
                found.extend(page_images(file.path, data))
    return found


async def plan_ocr(indexer: object, folders: Sequence[str], max_file_size: int) -> OcrPlan:
    """What an OCR run over ``folders`` would send (reads the files; no network)."""
    from desktop.core.notes.index import Indexer

    assert isinstance(indexer, Indexer)
    images = await indexer.in_io(functools.partial(find_scans, list(folders), max_file_size))
    unreadable = tuple(OcrFailure(i.path, i.page, i.problem) for i in images if i.problem)
    sendable = [i for i in images if not i.problem]

    def lookup() -> dict[str, str]:
        with indexer.store.reading() as db:
            return cached_texts(db, [i.sha256 for i in sendable])

    cached = await indexer.in_db(lookup)
    pending: list[PageImage] = []
    seen: set[str] = set()
    for image in sendable:
        if image.sha256 not in cached and image.sha256 not in seen:
            seen.add(image.sha256)
            pending.append(image)
    estimate = OcrEstimate(len({i.path for i in pending}), len(pending),
                           sum(i.sha256 in cached for i in sendable), page_cost(len(pending)), unreadable)
    return OcrPlan(estimate, pending)


async def run_ocr(indexer: object, plan: OcrPlan, client: OcrClient, policy: RetryPolicy, *,
                  concurrency: int = 4,
                  on_progress: Callable[[OcrProgress], None] | None = None) -> OcrReport:
    """Recognise the plan's pages; each text is stored when it arrives. Cancelling keeps them."""
    from desktop.core.notes.index import Indexer

    assert isinstance(indexer, Indexer)
    failures = list(plan.estimate.unreadable)
    read_paths: set[str] = set()
    done = 0
    tokens = [0, 0]
    total = len(plan.pending)
    gate = asyncio.Semaphore(max(1, concurrency))
    pacer = pacer_for(client.config.base_url, EndpointKind.EMBEDDINGS, policy.window)

    def report() -> None:
        if on_progress is not None:
            on_progress(OcrProgress(done, total, len(failures)))

    def store(sha256: str, text: str) -> None:
        with indexer.store.writing() as db:
            save_text(db, sha256, text, client.model)

    async def one(image: PageImage) -> None:
        nonlocal done
        async with gate:
            try:
                result = await call_with_retries(lambda: client.recognise(image), policy,
                                                 pacer=pacer, background=True)
            except QwenError as error:
                log.warning("OCR of %s page %s failed: %s", image.path, image.page or 1, error.kind.value)
                failures.append(OcrFailure(image.path, image.page, error.message or error.kind.value))
            else:
                await indexer.in_db(store, image.sha256, result.text)
                read_paths.add(image.path)
                tokens[0] += result.input_tokens
                tokens[1] += result.output_tokens
            done += 1
            report()

    report()
    await asyncio.gather(*(one(image) for image in plan.pending))
    return OcrReport(total - (len(failures) - len(plan.estimate.unreadable)), tuple(failures),
                     tokens[0], tokens[1], frozenset(read_paths))


# ---- as part of an index run ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OcrPrepared:
    """The scans and photos are counted: this is what reading them will send and cost."""

    estimate: OcrEstimate


@dataclass(frozen=True, slots=True)
class OcrProgressed:
    progress: OcrProgress


async def ocr_step(indexer: object, folders: Sequence[str], client: object, *, confirmed: bool,
                   emit: Callable[[object], None]) -> tuple[OcrEstimate, OcrReport | None]:
    """Count what is not recognised yet and, when ``confirmed`` (or nothing needs sending), read
    it; the report is None when it waits for the user's yes."""
    from desktop.core.client import QwenClient
    from desktop.core.notes.index import Indexer

    assert isinstance(indexer, Indexer) and isinstance(client, QwenClient)
    plan = await plan_ocr(indexer, folders, indexer.config.max_file_size)
    emit(OcrPrepared(plan.estimate))
    if plan.pending and not confirmed:
        return plan.estimate, None
    report = await run_ocr(indexer, plan, OcrClient(client), indexer.config.retry,
                           concurrency=indexer.config.concurrency,
                           on_progress=lambda p: emit(OcrProgressed(p)))
    indexer.reread = set(report.paths)  # their chunks gain the pages read now
    return plan.estimate, report
