"""``qwen-desktop notes …``: the notes index from the command line (no Qt).

    notes add DIR | notes remove DIR | notes list [--skipped]
    notes index [--rebuild] [--batch]  progress on stderr; exit 0 done, 3 key/auth, 4 service/network
    notes jobs [--wait] [--cancel ID]  offline (batch) embedding jobs: list, wait and import, cancel
    notes search QUERY [-k N] [--json] [--keyword-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any, TextIO

from desktop.cli.output import EXIT_FAIL, EXIT_OK, EXIT_USAGE, fail, fail_with
from desktop.core import paths
from desktop.core import settings as settings_mod
from desktop.core.errors import QwenError
from desktop.core.notes.batch import BatchIndexer, BatchUnavailable, CannotCancel, JobOutcome
from desktop.core.notes.index import (
    PHASE_LABELS,
    IndexConfig,
    Indexer,
    IndexModelChanged,
    IndexProgress,
    Phase,
    normalise_folder,
)
from desktop.core.notes.jobs import STATUS_LABELS, BatchJob, Interface
from desktop.core.notes.models import is_async_model, live_model
from desktop.core.notes.reader import SKIP_MESSAGES
from desktop.core.notes.search import Searcher
from desktop.core.notes.store import NoteStore


def _connection() -> Any:
    """A ConnectionConfig from settings and key; raises QwenError (NO_KEY…)."""
    from desktop.core.runtime import connection_config
    from desktop.core.secrets import KeyStore

    return connection_config(settings_mod.load(), KeyStore().get())


# ---- add / remove / list ----------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    folder = normalise_folder(args.dir)
    if not os.path.isdir(folder):
        return fail(f"not a folder: {folder}", EXIT_USAGE)
    settings = settings_mod.load()
    if folder in settings.notes_folders:
        print(f"Already in the list: {folder}")
        return EXIT_OK
    settings_mod.save(settings.replace(notes_folders=[*settings.notes_folders, folder]))
    print(f"Added {folder}. Run 'qwen-desktop notes index' to index it.")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    folder = normalise_folder(args.dir)
    settings = settings_mod.load()
    if folder not in settings.notes_folders:
        return fail(f"not in the notes folders: {folder}", EXIT_FAIL)
    settings_mod.save(settings.replace(notes_folders=[f for f in settings.notes_folders if f != folder]))
    with NoteStore(paths.notes_db()) as store:
        store.remove_folder(folder)
    print(f"Removed {folder} and its index (the files themselves are untouched).")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    settings = settings_mod.load()
    if not settings.notes_folders:
        print("No notes folders yet. Add one with 'qwen-desktop notes add DIR'.")
        return EXIT_OK
    with NoteStore(paths.notes_db()) as store:
        statuses = {s.path: s for s in store.folder_statuses()}
        model = store.index_model()
        for folder in settings.notes_folders:
            status = statuses.get(folder)
            if status is None:
                print(f"{folder}\n    not indexed yet")
                continue
            when = (time.strftime("%Y-%m-%d %H:%M", time.localtime(status.last_indexed_at))
                    if status.last_indexed_at else "never")
            missing = "  (folder not found)" if status.missing else ""
            print(f"{folder}{missing}\n    {status.files} files, {status.chunks} chunks "
                  f"({status.embedded} by meaning), {status.skipped} skipped, last indexed {when}")
            if args.skipped:
                for entry in store.skipped(folder):
                    detail = f" ({entry.detail})" if entry.detail else ""
                    print(f"      skipped: {entry.path}: {SKIP_MESSAGES[entry.reason]}{detail}")
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
            self.stream.write("\r" + line + " " * pad)
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


async def _index_async(args: argparse.Namespace) -> int:
    settings = settings_mod.load()
    if not settings.notes_folders:
        return fail("no notes folders; add one with 'qwen-desktop notes add DIR'", EXIT_USAGE)
    config = IndexConfig.from_settings(settings)
    progress = _StderrProgress(sys.stderr)
    client = None
    key_error: QwenError | None = None
    try:
        from desktop.core.client import QwenClient

        client = QwenClient(_connection())
    except QwenError as error:
        key_error = error
    indexer = await Indexer.open(paths.notes_db(), config, client)
    try:
        if args.rebuild:
            await indexer.reset_for_new_model()
        estimate, report = await indexer.prepare(settings.notes_folders, progress)
        progress.done()
        print(f"{report.files_found} files, {report.files_read} read, {report.files_unchanged} unchanged, "
              f"{report.files_removed} removed, {report.files_skipped} skipped", file=sys.stderr)
        if estimate.chunks:
            print(f"To index by meaning: {estimate.chunks} chunks, about {estimate.tokens:,} tokens, "
                  f"about CNY {estimate.cost_cny:.4f} with {estimate.model}"
                  + (f" (batch mode: about CNY {estimate.batch_cost_cny:.4f})" if args.batch else ""),
                  file=sys.stderr)
        if key_error is not None:
            print("Keyword search is ready; indexing by meaning needs an API key.", file=sys.stderr)
            return fail_with(key_error)
        if not estimate.chunks:
            await indexer.check_model()
            print("Everything is up to date.", file=sys.stderr)
            return EXIT_OK
        if args.batch and await _submit_batch(indexer):
            return EXIT_OK
        embedded = await indexer.embed_pending(progress)
        progress.done()
        failed = f", {embedded.chunks_failed} refused by the service" if embedded.chunks_failed else ""
        print(f"Done: {embedded.chunks_embedded} chunks embedded, {embedded.tokens:,} tokens{failed}.",
              file=sys.stderr)
        return EXIT_OK
    except IndexModelChanged as exc:
        progress.done()
        return fail(f"{exc}. Run 'qwen-desktop notes index --rebuild' to re-embed all notes "
                     "(this costs tokens again).", EXIT_FAIL)
    except QwenError as error:
        progress.done()
        print("What was embedded so far is kept; run the command again to continue.", file=sys.stderr)
        return fail_with(error)
    finally:
        await indexer.close()
        if client is not None:
            await client.aclose()


def _index(args: argparse.Namespace) -> int:
    return asyncio.run(_index_async(args))


async def _submit_batch(indexer: Indexer) -> bool:
    """Send the pending chunks as offline jobs; False when batch mode is not available here."""
    batch = BatchIndexer(indexer)
    try:
        report = await batch.submit()
    except BatchUnavailable as exc:
        print(f"Batch mode is not available for this model or region ({exc.detail}); "
              "indexing now instead.", file=sys.stderr)
        return False
    kind = "native task" if batch.interface is Interface.NATIVE else "batch"
    print(f"Submitted {report.chunks} chunks in {len(report.jobs)} {kind} job(s), about "
          f"CNY {report.cost_cny:.4f}. Results take from minutes to hours (at most "
          f"{batch.config.completion_window}). Run 'qwen-desktop notes jobs --wait' to import them; "
          "the app also imports them when it starts.", file=sys.stderr)
    return True


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


async def _jobs_async(args: argparse.Namespace) -> int:
    settings = settings_mod.load()
    client = None
    key_error: QwenError | None = None
    try:
        from desktop.core.client import QwenClient

        client = QwenClient(_connection())
    except QwenError as error:
        key_error = error
    indexer = await Indexer.open(paths.notes_db(), IndexConfig.from_settings(settings), client)
    batch = BatchIndexer(indexer)
    progress = _StderrProgress(sys.stderr)
    try:
        if (args.wait or args.cancel is not None) and key_error is not None:
            return fail_with(key_error)
        if args.cancel is not None:
            try:
                job = await batch.cancel(args.cancel)
            except CannotCancel as exc:
                return fail(f"the service did not cancel job {args.cancel}: {exc}", EXIT_FAIL)
            if job is None:
                return fail(f"no batch job {args.cancel}", EXIT_USAGE)
            print(f"Job {job.id}: {STATUS_LABELS[job.status].lower()}.", file=sys.stderr)
        if args.wait:
            outcomes = await batch.wait(on_progress=progress)
            progress.done()
            for outcome in outcomes:
                _print_outcome(outcome)
        elif client is not None:
            try:
                for outcome in await batch.poll_all():
                    _print_outcome(outcome)
            except QwenError as error:  # the listing below still shows what is known
                print(f"Could not ask the service about the jobs: {error}", file=sys.stderr)
        _print_jobs(await batch.list_jobs())
        return EXIT_OK
    except IndexModelChanged as exc:
        progress.done()
        return fail(f"{exc}. Run 'qwen-desktop notes index --rebuild'.", EXIT_FAIL)
    except QwenError as error:
        progress.done()
        print("The jobs are kept; run the command again to continue.", file=sys.stderr)
        return fail_with(error)
    finally:
        await indexer.close()
        if client is not None:
            await client.aclose()


def _jobs(args: argparse.Namespace) -> int:
    return asyncio.run(_jobs_async(args))


# ---- search -----------------------------------------------------------------------------------


async def _search_async(args: argparse.Namespace) -> int:
    client = None
    if not args.keyword_only:
        try:
            from desktop.core.client import QwenClient

            client = QwenClient(_connection())
        except QwenError:
            client = None
    searcher = await Searcher.open(paths.notes_db(), client)
    try:
        results = await searcher.search(args.query, k=args.k, keyword_only=args.keyword_only)
    finally:
        await searcher.close()
        if client is not None:
            await client.aclose()
    if results.keyword_only and not args.keyword_only:
        reason = results.error.message if results.error else "nothing is indexed by meaning yet"
        print(f"Keyword search only: {reason}", file=sys.stderr)
    if args.json:
        json.dump([h.to_json() for h in results.hits], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not results.hits:
        print("No results.")
        return EXIT_OK
    for number, hit in enumerate(results.hits, start=1):
        lines = f"{hit.line_start}" if hit.line_start == hit.line_end else f"{hit.line_start}-{hit.line_end}"
        print(f"{number}. {hit.path}:{lines}  ({hit.score:.0%})")
        if hit.heading:
            print(f"   {hit.heading}")
        print(f"   {hit.snippet.marked('[', ']')}")
    return EXIT_OK


def _search(args: argparse.Namespace) -> int:
    if args.k < 1:
        return fail("-k must be at least 1", EXIT_USAGE)
    return asyncio.run(_search_async(args))


# ---- parser -----------------------------------------------------------------------------------


def add_notes_parser(subparsers: Any) -> None:
    notes = subparsers.add_parser("notes", help="index and search your notes folders")
    sub = notes.add_subparsers(dest="notes_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a folder of notes")
    add.add_argument("dir")
    add.set_defaults(func=_add)

    remove = sub.add_parser("remove", help="remove a folder and its index (files are untouched)")
    remove.add_argument("dir")
    remove.set_defaults(func=_remove)

    listing = sub.add_parser("list", help="the folders with their index status")
    listing.add_argument("--skipped", action="store_true", help="also list skipped files and why")
    listing.set_defaults(func=_list)

    index = sub.add_parser("index", help="bring the index up to date (progress on stderr)")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed everything (after changing the embedding model or size)")
    index.add_argument("--batch", action="store_true",
                       help="submit the chunks as offline batch jobs (cheaper, takes from minutes to "
                            "hours) and return; see 'notes jobs'")
    index.set_defaults(func=_index)

    jobs = sub.add_parser("jobs", help="offline (batch) embedding jobs: list, wait for and import, cancel")
    jobs.add_argument("--wait", action="store_true", help="poll until every job is done and import it")
    jobs.add_argument("--cancel", type=int, metavar="ID", help="cancel a job (on the service too)")
    jobs.set_defaults(func=_jobs)

    search = sub.add_parser("search", help="search the notes by meaning and keywords")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.add_argument("--keyword-only", action="store_true", help="do not contact the service")
    search.set_defaults(func=_search)

