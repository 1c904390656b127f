"""``qwen-desktop notes …``: the notes index from the command line (no Qt).

    notes add DIR | notes remove DIR | notes list [--skipped]
    notes index [--rebuild] [--now | --batch] [--ocr]  progress on stderr; exit 0 done, 1 needs --now or
                                       --batch (large run), 3 key/auth, 4 service/network
    notes jobs [--wait] [--cancel ID]  offline (batch) embedding jobs: list, wait and import, cancel
    notes search QUERY [-k N] [--json] [--keyword-only]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from desktop.core.notes.index import normalise_folder

from desktop.cli.output import EXIT_FAIL, EXIT_OK, EXIT_USAGE, fail, fail_with
from desktop.cli.terminal import json_text, write_control
from desktop.cli.context import open_context, recovery_line
from desktop.core.appcontext import AppContext
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.batch import CannotCancel
from desktop.core.notes.index import PHASE_LABELS, IndexModelChanged, IndexProgress, Phase
from desktop.core.notes.jobs import STATUS_LABELS, BatchJob, Interface
from desktop.core.notes.models import is_async_model, live_model
from desktop.core.notes.reader import SKIP_MESSAGES
from desktop.core.notes.service import (
    AddResult,
    BatchFallback,
    IndexOutcome,
    IndexProgressed,
    JobOutcome,
    JobsUpdated,
    NotesEvent,
    OcrEstimate,
    OcrProgressed,
    RunMode,
    RunResult,
)

Command = Callable[[AppContext, argparse.Namespace], Awaitable[int]]


def _run(command: Command, args: argparse.Namespace) -> int:
    """Run one command with the application context, closed (settings written) at the end."""

    async def main() -> int:
        context = open_context()
        try:
            try:
                await context.session.refresh_key()
            except QwenError:  # the keyring cannot be read: keyword search still works
                pass
            return await command(context, args)
        finally:
            await context.aclose()

    return asyncio.run(main())


def _key_error(context: AppContext) -> QwenError | None:
    """Why nothing can be sent to the service (no key, keyring broken), or None."""
    try:
        context.session.client()
    except QwenError as error:
        return error
    return None


# ---- add / remove / list ----------------------------------------------------------------------


async def _add(context: AppContext, args: argparse.Namespace) -> int:
    result, folder = context.notes.add_folder(args.dir)
    if result is AddResult.NOT_A_FOLDER:
        return fail(f"not a folder: {folder}", EXIT_USAGE)
    if result is AddResult.ALREADY:
        print(f"Already in the list: {folder}")
        return EXIT_OK
    print(f"Added {folder}. Run 'qwen-desktop notes index' to index it.")
    return EXIT_OK


async def _remove(context: AppContext, args: argparse.Namespace) -> int:
    folder = normalise_folder(args.dir)
    if not await context.notes.remove_folder(folder):
        return fail(f"not in the notes folders: {folder}", EXIT_FAIL)
    print(f"Removed {folder} and its index (the files themselves are untouched).")
    return EXIT_OK


async def _list(context: AppContext, args: argparse.Namespace) -> int:
    if not context.notes.folders:
        print("No notes folders yet. Add one with 'qwen-desktop notes add DIR'.")
        return EXIT_OK
    report = await context.notes.folder_report()
    for view in report.folders:
        status = view.status
        if status is None:
            print(f"{view.path}\n    not indexed yet")
            continue
        when = (time.strftime("%Y-%m-%d %H:%M", time.localtime(status.last_indexed_at))
                if status.last_indexed_at else "never")
        missing = "  (folder not found)" if status.missing else ""
        print(f"{view.path}{missing}\n    {status.files} files, {status.chunks} chunks "
              f"({status.embedded} by meaning), {status.skipped} skipped, last indexed {when}")
        if args.skipped:
            for entry in await context.notes.skipped(view.path):
                detail = f" ({entry.detail})" if entry.detail else ""
                print(f"      skipped: {entry.path}: {SKIP_MESSAGES[entry.reason]}{detail}")
    model = report.model
    if model:
        print(f"Embedding model: {model.model}, {model.dimensions} dimensions")
        if is_async_model(model.model):
            print(f"    (built offline; queries and changed notes are embedded with "
                  f"{live_model(model.model)}, which matches it)")
    return EXIT_OK


# ---- index ------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_line(p: IndexProgress) -> str:
    label = PHASE_LABELS[p.phase]
    if p.phase is Phase.SCANNING:
        return f"{label}: {p.files_found} files found"
    if p.phase is Phase.READING:
        return f"{label}: {p.files_read}/{p.files_to_read} files ({p.files_skipped} skipped)"
    text = f"{label}: {p.chunks_embedded}/{p.chunks_total} chunks, {p.tokens:,} tokens"
    if p.retry_in is not None:
        text += f", service busy, retrying in {p.retry_in:.0f}s"
    elif p.eta_seconds is not None and p.phase is Phase.EMBEDDING:
        text += f", about {_duration(p.eta_seconds)} left"
    return text


class _StderrProgress:
    """One updating line on a terminal; an occasional plain line when stderr is a file or pipe."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._width = 0
        self._line = ""

    def __call__(self, progress: IndexProgress) -> None:
        line = progress_line(progress)
        if line == self._line:
            return
        self._line = line
        if self.tty:
            pad = max(0, self._width - len(line))
            write_control(self.stream, "\r")  # ours: the terminal-safe stream would show it
            self.stream.write(line + " " * pad)
            self._width = len(line)
        else:
            now = time.monotonic()
            if now - self._last < 2.0 and progress.phase is not Phase.DONE:
                return
            self._last = now
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


class _Renderer:
    """Notes events as text on stderr."""

    def __init__(self) -> None:
        self.progress = _StderrProgress(sys.stderr)

    def __call__(self, event: NotesEvent) -> None:
        if isinstance(event, IndexProgressed):
            self.progress(event.progress)
        elif isinstance(event, BatchFallback):
            self.progress.done()
            print(f"Batch mode is not available for this model or region ({event.detail}); "
                  "indexing now instead.", file=sys.stderr)
        elif isinstance(event, JobsUpdated):
            pass
        elif isinstance(event, OcrProgressed):
            p = event.progress
            if p.total:
                print(f"Reading scans and photos: {p.done}/{p.total} ({p.failed} failed)", file=sys.stderr)


def _confirm(question: str) -> bool:
    """A yes/no question on a terminal; False when nobody can answer (a pipe, a script)."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _ask_mode(outcome: IndexOutcome) -> RunMode | None:
    """Above the large-run threshold on a terminal: ask now, batch or not now."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    try:
        answer = input("Index them now (n), in batch mode (b, cheaper, minutes to hours), "
                       "or not now (q)? [b] ").strip().lower()
    except EOFError:
        return None
    if answer in ("", "b", "batch"):
        return RunMode.BATCH
    if answer in ("n", "now"):
        return RunMode.LIVE
    return None


def _print_prepared(outcome: IndexOutcome, mode: RunMode) -> None:
    report, estimate = outcome.report, outcome.estimate
    if report is not None:
        print(f"{report.files_found} files, {report.files_read} read, {report.files_unchanged} unchanged, "
              f"{report.files_removed} removed, {report.files_skipped} skipped", file=sys.stderr)
    if estimate is not None and estimate.chunks:
        batch = mode is not RunMode.LIVE
        print(f"To index by meaning: {estimate.chunks} chunks, about {estimate.tokens:,} tokens, "
              f"about CNY {estimate.cost_cny:.4f} with {estimate.model}"
              + (f" (batch mode: about CNY {estimate.batch_cost_cny:.4f})" if batch else ""),
              file=sys.stderr)


async def _index(context: AppContext, args: argparse.Namespace) -> int:
    if not context.notes.folders:
        return fail("no notes folders; add one with 'qwen-desktop notes add DIR'", EXIT_USAGE)
    render = _Renderer()
    mode = RunMode.BATCH if args.batch else RunMode.LIVE if args.now or args.yes else RunMode.AUTO
    rebuild = args.rebuild
    ocr = True if args.ocr else None  # else as set in Settings ("Read scanned documents and photos")
    ocr_confirmed = args.yes
    try:
        while True:
            outcome = await context.notes.index(mode=mode, rebuild=rebuild, on_event=render,
                                                live_fallback=args.yes, ocr=ocr, ocr_confirmed=ocr_confirmed)
            render.progress.done()
            if outcome.result is RunResult.CONFIRM_OCR and outcome.ocr_estimate is not None:
                print(ocr_estimate_line(outcome.ocr_estimate), file=sys.stderr)
                if not _confirm("Read them now? [y/N] "):
                    return fail("nothing was sent; run it again with --yes to read the scans and "
                                "photos", EXIT_FAIL)
                ocr_confirmed, rebuild = True, False
                continue
            if outcome.result is RunResult.BATCH_UNAVAILABLE:
                _print_prepared(outcome, mode)
                cost = outcome.estimate.cost_cny if outcome.estimate else 0.0
                print(f"Batch mode is not available for this model or region ({outcome.batch_fallback}). "
                      f"Indexing now instead costs about CNY {cost:.4f}, about twice the batch price.",
                      file=sys.stderr)
                if not _confirm("Index them now instead? [y/N] "):
                    return fail("nothing was sent; run it again with --now to index now, or --yes to "
                                "accept the live price whenever batch mode is not available", EXIT_FAIL)
                mode, rebuild = RunMode.LIVE, False
                continue
            if outcome.result is not RunResult.CHOOSE:
                break
            _print_prepared(outcome, mode)
            settings = context.session.settings
            print(f"That is more than {settings.batch_threshold_chunks:,} chunks or more than about "
                  f"CNY {settings.confirm_cost_cny:g} (the large-run limits in settings.json).",
                  file=sys.stderr)
            chosen = _ask_mode(outcome)
            if chosen is None:
                print("Nothing was sent; keyword search works meanwhile.", file=sys.stderr)
                return fail("run 'qwen-desktop notes index --now' (or --yes) to index now, or with "
                            "--batch for the cheaper offline batch mode", EXIT_FAIL)
            mode, rebuild = chosen, False
    finally:
        render.progress.done()
    for recovery in context.notes.recoveries:
        print(recovery_line(recovery), file=sys.stderr)
    _print_ocr(outcome)
    return _report_index(context, outcome, mode)


def ocr_estimate_line(estimate: OcrEstimate) -> str:
    line = (f"Scans and photos to read: {estimate.pages} page(s) or image(s) in {estimate.files} "
            f"file(s), about CNY {estimate.cost_cny:.4f} with qwen-vl-ocr")
    if estimate.cached:
        line += f" ({estimate.cached} read before: not sent again)"
    return line


def _print_ocr(outcome: IndexOutcome) -> None:
    if outcome.ocr is None:
        return
    report = outcome.ocr
    print(f"Scans and photos: {report.recognised} read ({report.input_tokens + report.output_tokens:,} "
          f"tokens), {len(report.failures)} not read", file=sys.stderr)
    for failure in report.failures:
        page = f" page {failure.page}" if failure.page else ""
        print(f"  not read: {failure.path}{page}: {failure.reason}", file=sys.stderr)


def _report_index(context: AppContext, outcome: IndexOutcome, mode: RunMode) -> int:
    result = outcome.result
    if result is RunResult.DAMAGED:
        return fail("the notes index is damaged and cannot be read; run 'qwen-desktop notes index "
                    "--rebuild' to set it aside and build it again from your notes files (they are "
                    "not touched)", EXIT_FAIL)
    if result is RunResult.BUSY:
        return fail("another Qwen Desktop (a window or this command) is indexing these notes right "
                    "now; run this again when it has finished", EXIT_FAIL)
    if result is RunResult.MODEL_CHANGED:
        return fail(f"{outcome.model_change}. Run 'qwen-desktop notes index --rebuild' to re-embed all "
                    "notes (this costs tokens again).", EXIT_FAIL)
    if result is RunResult.FAILED:
        assert outcome.error is not None
        if outcome.report is not None:
            _print_prepared(outcome, mode)
        print("What was embedded so far is kept; run the command again to continue.", file=sys.stderr)
        return fail_with(outcome.error)
    _print_prepared(outcome, mode)
    if result is RunResult.KEYWORDS_ONLY:
        print("Keyword search is ready; indexing by meaning needs an API key.", file=sys.stderr)
        return fail_with(_key_error(context) or outcome.error or QwenError(ErrorKind.NO_KEY))
    if result is RunResult.UP_TO_DATE:
        print("Everything is up to date.", file=sys.stderr)
    elif result is RunResult.SUBMITTED:
        report = outcome.submitted
        assert report is not None
        kind = "native task" if outcome.interface is Interface.NATIVE else "batch"
        print(f"Submitted {report.chunks} chunks in {len(report.jobs)} {kind} job(s), about "
              f"CNY {report.cost_cny:.4f}. Results take from minutes to hours (at most "
              f"{context.notes.batch_config.completion_window}). Run 'qwen-desktop notes jobs --wait' "
              "to import them; the app also imports them when it starts.", file=sys.stderr)
    elif outcome.embedded is not None:
        embedded = outcome.embedded
        failed = f", {embedded.chunks_failed} refused by the service" if embedded.chunks_failed else ""
        print(f"Done: {embedded.chunks_embedded} chunks embedded, {embedded.tokens:,} tokens{failed}.",
              file=sys.stderr)
    return EXIT_OK


# ---- jobs -------------------------------------------------------------------------------------


def job_line(job: BatchJob, now: float | None = None) -> str:
    counts = f"{job.lines_done}/{job.lines} lines" + (f", {job.lines_failed} failed" if job.lines_failed else "")
    text = (f"{job.id:>4}  {job.interface.value:<6}  {STATUS_LABELS[job.status]:<20}  {job.chunks:>7} chunks  "
            f"{counts}  {_duration(job.age(now))} old")
    if job.vectors_saved or job.results_dropped:
        dropped = (f", {job.results_dropped} dropped because their notes changed"
                   if job.results_dropped else "")
        text += f"  ({job.vectors_saved} imported{dropped})"
    if job.remote_id:
        text += f"  [{job.remote_id}]"
    if job.message:
        text += f"\n        {job.message}"
    return text


def _print_jobs(jobs: list[BatchJob]) -> None:
    if not jobs:
        print("No batch jobs.")
        return
    now = time.time()
    for job in jobs:
        print(job_line(job, now))


def _print_outcome(outcome: JobOutcome) -> None:
    job = outcome.job
    text = f"Job {job.id} {STATUS_LABELS[job.status].lower()}: {outcome.vectors_saved} chunks imported"
    if outcome.results_dropped:
        text += f", {outcome.results_dropped} results dropped (those notes changed meanwhile)"
    if outcome.left:
        if outcome.retried_in:
            then = f"sent again in job {outcome.retried_in}"
        elif job.cancel_requested:
            then = "indexed the next time you index"
        else:
            then = "embedded live now"
        text += f", {len(outcome.left)} chunks without a result ({then})"
    if job.message:
        text += f" ({job.message})"
    print(text + ".", file=sys.stderr)


async def _jobs(context: AppContext, args: argparse.Namespace) -> int:
    notes = context.notes
    render = _Renderer()
    key_error = _key_error(context)
    try:
        if (args.wait or args.cancel is not None) and key_error is not None:
            return fail_with(key_error)
        if args.cancel is not None:
            try:
                job = await notes.cancel_job(args.cancel)
            except CannotCancel as exc:
                return fail(f"the service did not cancel job {args.cancel}: {exc}", EXIT_FAIL)
            if job is None:
                return fail(f"no batch job {args.cancel}", EXIT_USAGE)
            print(f"Job {job.id}: {STATUS_LABELS[job.status].lower()}.", file=sys.stderr)
        if args.wait:
            check = await notes.wait_for_jobs(retry_live=True, on_event=render)
            render.progress.done()
            for outcome in check.outcomes:
                _print_outcome(outcome)
        elif key_error is None:
            try:
                for outcome in (await notes.poll_jobs()).outcomes:
                    _print_outcome(outcome)
            except QwenError as error:  # the listing below still shows what is known
                print(f"Could not ask the service about the jobs: {error}", file=sys.stderr)
        _print_jobs(await notes.jobs())
        return EXIT_OK
    except IndexModelChanged as exc:
        render.progress.done()
        return fail(f"{exc}. Run 'qwen-desktop notes index --rebuild'.", EXIT_FAIL)
    except QwenError as error:
        render.progress.done()
        print("The jobs are kept; run the command again to continue.", file=sys.stderr)
        return fail_with(error)


# ---- search -----------------------------------------------------------------------------------


async def _search(context: AppContext, args: argparse.Namespace) -> int:
    results = await context.notes.search(args.query, k=args.k, keyword_only=args.keyword_only)
    if results.keyword_only and not args.keyword_only:
        reason = results.error.message if results.error else "nothing is indexed by meaning yet"
        print(f"Keyword search only: {reason}", file=sys.stderr)
    if results.exact is False:
        closest = "closest by meaning" if not results.keyword_only else "closest matches"
        print(f"No note contains “{results.exact_text}” exactly"
              + (f"; these are the {closest}." if results.hits else "."), file=sys.stderr)
    if args.json:
        print(json_text([h.to_json() for h in results.hits]))
        return EXIT_OK
    if not results.hits:
        print("No results.")
        return EXIT_OK
    for number, hit in enumerate(results.hits, start=1):
        lines = f"{hit.line_start}" if hit.line_start == hit.line_end else f"{hit.line_start}-{hit.line_end}"
        # What the user may trust: an exact match is one; a percentage is the meaning similarity.
        notes = (["exact match"] if hit.exact else []) + (
            [] if hit.similarity_percent is None else [f"{hit.similarity_percent}% similar"])
        print(f"{number}. {hit.path}:{lines}" + (f"  ({' · '.join(notes)})" if notes else ""))
        if hit.heading:
            print(f"   {hit.heading}")
        print(f"   {hit.snippet.marked('[', ']')}")
    return EXIT_OK


def _command(command: Command) -> Callable[[argparse.Namespace], int]:
    return lambda args: _run(command, args)


def _check_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        return fail("-k must be at least 1", EXIT_USAGE)
    return _run(_search, args)


# ---- parser -----------------------------------------------------------------------------------


def add_notes_parser(subparsers: Any) -> None:
    notes = subparsers.add_parser("notes", help="index and search your notes folders")
    sub = notes.add_subparsers(dest="notes_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a folder of notes")
    add.add_argument("dir")
    add.set_defaults(func=_command(_add))

    remove = sub.add_parser("remove", help="remove a folder and its index (files are untouched)")
    remove.add_argument("dir")
    remove.set_defaults(func=_command(_remove))

    listing = sub.add_parser("list", help="the folders with their index status")
    listing.add_argument("--skipped", action="store_true", help="also list skipped files and why")
    listing.set_defaults(func=_command(_list))

    index = sub.add_parser("index", help="bring the index up to date (progress on stderr)")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed everything (after changing the embedding model or size, or "
                            "when the index is damaged: it is then set aside and built again)")
    index.add_argument("--now", action="store_true",
                       help="embed now even when the run is larger than the large-run threshold")
    index.add_argument("--yes", "-y", action="store_true",
                       help="answer every question with yes: index a large run now, and index live "
                            "when batch mode is not available")
    index.add_argument("--ocr", action="store_true",
                       help="also read scanned PDFs and photos with qwen-vl-ocr (counted and priced "
                            "first; --yes to send without asking)")
    index.add_argument("--batch", action="store_true",
                       help="submit the chunks as offline batch jobs (cheaper, takes from minutes to "
                            "hours) and return; see 'notes jobs'")
    index.set_defaults(func=_command(_index))

    jobs = sub.add_parser("jobs", help="offline (batch) embedding jobs: list, wait for and import, cancel")
    jobs.add_argument("--wait", action="store_true", help="poll until every job is done and import it")
    jobs.add_argument("--cancel", type=int, metavar="ID", help="cancel a job (on the service too)")
    jobs.set_defaults(func=_command(_jobs))

    search = sub.add_parser("search", help="search the notes by meaning and keywords")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.add_argument("--keyword-only", action="store_true", help="do not contact the service")
    search.set_defaults(func=_check_search)

