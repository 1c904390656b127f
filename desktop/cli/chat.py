"""``qwen-desktop chat``: stream an answer to stdout (from the notes with --notes, searching the
web with --web)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from desktop.cli.output import EXIT_OK, EXIT_USAGE, error_line, exit_code_for, fail
from desktop.cli.context import open_context
from desktop.cli.terminal import terminal_safe
from desktop.core.appcontext import AppContext
from desktop.core.ask import Source, no_notes_message
from desktop.core.chat import ChatOptions, ContextPrepared, RetryWaiting, TurnEnded
from desktop.core.client import ContentDelta, ReasoningDelta
from desktop.core.errors import QwenError
from desktop.core.history import Status
from desktop.core.models import offers_web_search
from desktop.core.websearch import MarkerFilter, WebSource, WebSourcesFound


def _read_prompt(args: argparse.Namespace) -> str | None:
    if args.prompt and args.prompt != ["-"]:
        return " ".join(args.prompt)
    if sys.stdin.isatty() and not args.prompt:
        return None
    return sys.stdin.read()


async def run_chat(args: argparse.Namespace) -> int:
    context = open_context()
    try:
        return await _chat(context, args)
    finally:
        await context.aclose()


async def _chat(context: AppContext, args: argparse.Namespace) -> int:
    settings = context.session.settings
    prompt = _read_prompt(args)
    if prompt is None or not prompt.strip():
        return fail("nothing to ask: give a PROMPT or pipe text on stdin", EXIT_USAGE)
    options = ChatOptions(
        model=args.model or settings.model,
        system_prompt=settings.system_prompt if args.system is None else args.system,
        temperature=settings.temperature,
        thinking=settings.thinking if args.thinking is None else args.thinking,
        use_notes=args.notes,
        web_search=args.web,
    )
    if args.web and not offers_web_search(options.model):
        return fail(f"{options.model} cannot search the web: choose a Qwen chat model with --model "
                    "(for example qwen-plus)", EXIT_USAGE)
    if args.notes and not settings.notes_folders:
        return fail("no notes folders: add one with 'qwen-desktop notes add DIR', then run "
                    "'qwen-desktop notes index'", EXIT_USAGE)
    try:
        await context.session.refresh_key()
        client = context.session.client()
    except QwenError as error:
        return fail(error_line(error), exit_code_for(error))
    history, service = context.history, context.chat
    conversation = history.create_conversation()
    service.add_user_message(conversation.id, prompt)
    out, err = sys.stdout, sys.stderr
    ended_with_text = True
    sources: tuple[Source, ...] = ()
    web: tuple[WebSource, ...] = ()
    markers = MarkerFilter()  # the web's "[ref_1]" reads "[1]", like the list printed after it
    async for event in service.run_turn(client, conversation.id, options):
        if isinstance(event, ContextPrepared):
            sources = event.sources or ()
            _report_context(event, err)
        elif isinstance(event, WebSourcesFound):
            web = event.sources
            markers.known = {source.index for source in web}
        elif isinstance(event, ContentDelta):
            text = markers.feed(event.text) if args.web else event.text
            out.write(text)
            out.flush()
            ended_with_text = text.endswith("\n") if text else ended_with_text
        elif isinstance(event, ReasoningDelta) and args.show_thinking:
            err.write(event.text)
            err.flush()
        elif isinstance(event, RetryWaiting):
            print(f"qwen-desktop: {event.error.message} Retrying in {event.seconds:.0f} s "
                  f"(attempt {event.attempt})…", file=err)
        elif isinstance(event, TurnEnded):
            if event.message.status is Status.NO_NOTES:
                print(no_notes_message(prompt), file=out)
                return EXIT_OK
            if rest := markers.flush():
                out.write(rest)
                ended_with_text = rest.endswith("\n")
            if not ended_with_text:
                out.write("\n")
                out.flush()
            if event.error is not None:
                return fail(error_line(event.error), exit_code_for(event.error))
            if sources:
                print_sources(sources, out)
            if event.message.web_sources or web:
                print_web_sources(event.message.web_sources or list(web), out)
    return EXIT_OK


def _report_context(event: ContextPrepared, err: Any) -> None:
    if event.input_limit:
        print(f"qwen-desktop: the model accepts at most {event.input_limit:,} tokens; "
              "sending a shorter request.", file=err)
    if event.omitted_messages:
        print(f"qwen-desktop: {event.omitted_messages} earlier messages were left out to fit the "
              "model's context.", file=err)
    if event.omitted_sources:
        print(f"qwen-desktop: {event.omitted_sources} relevant note excerpts did not fit into the "
              "model's context and were left out.", file=err)


def print_sources(sources: Sequence[Source], out: Any) -> None:
    """The numbered sources after an answer from notes: path and heading."""
    out.write("\nSources:\n")
    for source in sources:
        heading = f" — {source.heading}" if source.heading else ""
        out.write(f"[{source.number}] {source.path}{heading}\n")
    out.flush()


def print_web_sources(sources: Sequence[WebSource], out: Any) -> None:
    """The pages a web search read, after the answer: ``[n] Title — URL``."""
    out.write("\nWeb sources:\n")
    for source in sources:
        title = " ".join(source.title.split()) or source.site_name or source.url
        out.write(terminal_safe(f"[{source.index}] {title} — {source.url}") + "\n")
    out.flush()
