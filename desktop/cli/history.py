"""``qwen-desktop history …``: conversations from the command line (no Qt).

    history list [--json]                                   newest first, with tokens and cost
    history export [ID | --last] [--format md|docx | --json] [-o FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from desktop.cli.context import open_history
from desktop.cli.output import EXIT_FAIL, EXIT_OK, fail
from desktop.cli.terminal import json_text
from desktop.core.export import conversation_json, conversation_markdown, write_docx
from desktop.core.history import Conversation
from desktop.core.pricing import PriceTable, format_cny, totals


def _list(args: argparse.Namespace) -> int:
    prices = PriceTable()
    history = open_history()
    try:
        rows: list[dict[str, Any]] = []
        for conversation in history.conversations():
            messages = history.messages(conversation.id)
            sums = totals(prices, ((m.model, m.usage) for m in messages if m.role == "assistant"))
            rows.append({
                "id": conversation.id, "title": conversation.title,
                "created": conversation.created, "updated": conversation.updated,
                "messages": len(messages), "tokens": sums.tokens, "cost_cny": round(sums.cost, 6),
            })
    finally:
        history.close()
    if args.json:
        print(json_text(rows))
        return EXIT_OK
    if not rows:
        print("No conversations yet.")
        return EXIT_OK
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["updated"]))
        print(f"{row['id']:>5}  {when}  {row['messages']:>4} messages  {row['tokens']:>9,} tokens  "
              f"{format_cny(row['cost_cny']):>9}  {row['title'] or '(untitled)'}")
    return EXIT_OK


def _file_name(conversation: Conversation, extension: str) -> str:
    slug = re.sub(r"[\\/:*?\"<>|\s]+", "-", conversation.title).strip("-.")[:60]
    return f"{slug or 'conversation'}-{conversation.id}.{extension}"


def _export(args: argparse.Namespace) -> int:
    output: Path | None = Path(args.output) if args.output else None
    fmt = args.format or ("docx" if output is not None and output.suffix.lower() == ".docx" else "md")
    history = open_history()
    try:
        if args.last or args.id is None:
            conversation = history.latest_conversation()
            if conversation is None:
                return fail("there are no conversations to export", EXIT_FAIL)
        else:
            conversation = history.conversation(args.id)
            if conversation is None:
                return fail(f"no conversation with id {args.id} (see 'qwen-desktop history list')",
                             EXIT_FAIL)
        messages = history.messages(conversation.id)
    finally:
        history.close()
    if args.json or fmt == "md":
        text = (json_text(conversation_json(conversation, messages)) + "\n" if args.json
                else conversation_markdown(conversation, messages))
        if output is None or str(output) == "-":
            sys.stdout.write(text)
            return EXIT_OK
        output.write_text(text, encoding="utf-8")
    else:
        if output is None:
            output = Path(_file_name(conversation, "docx"))
        write_docx(conversation, messages, output)
    print(f"Exported conversation {conversation.id} to {output}", file=sys.stderr)
    return EXIT_OK


def add_history_parser(subparsers: Any) -> None:
    history = subparsers.add_parser("history", help="list and export conversations")
    sub = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="conversations, newest first, with tokens and cost")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(func=_list)

    export = sub.add_parser("export", help="export a conversation to Markdown or Word (.docx)")
    which = export.add_mutually_exclusive_group()
    which.add_argument("id", nargs="?", type=int, help="conversation id (see 'history list')")
    which.add_argument("--last", action="store_true", help="the most recent conversation (default)")
    export.add_argument("--format", "-f", choices=("md", "docx"),
                        help="md or docx (default: from the -o file name, else md)")
    export.add_argument("--json", action="store_true",
                        help="the conversation as JSON: every message with its sources and usage")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="where to write (default: stdout for md, TITLE-ID.docx for docx)")
    export.set_defaults(func=_export)
