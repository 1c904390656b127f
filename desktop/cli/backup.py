"""``qwen-desktop backup …``: backups from the command line (no Qt).

    backup create [-o FILE] [--with-index]   a backup now (into the backup folder, or FILE)
    backup list [--json]                     the backups in the backup folder, newest first
    backup restore FILE [--yes]              without --yes: what would change, exit 2

The workflow is :class:`desktop.core.backup.service.BackupService`, the same as the window's.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from desktop.cli.context import open_context
from desktop.cli.output import EXIT_FAIL, EXIT_OK, EXIT_USAGE, fail
from desktop.cli.terminal import json_text
from desktop.core import paths
from desktop.core.appcontext import AppContext
from desktop.core.backup.archive import LIMITS, NOTES, PRICES, SETTINGS, BackupInfo, BackupRefused, Kind
from desktop.core.backup.service import BackupService, RestoreFailed, RestorePlan


def _when(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created))


def _size(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


def _service(context: AppContext) -> BackupService:
    assert context.backups is not None
    return context.backups


def _close(context: AppContext) -> None:
    asyncio.run(context.aclose())


def _create(args: argparse.Namespace) -> int:
    context = open_context()
    try:
        context.session.load_key()  # known secrets are kept out of the backup
        output = Path(args.output).expanduser() if args.output else None
        try:
            info = _service(context).create(Kind.EXPORT if output else Kind.MANUAL, output,
                                            with_index=True if args.with_index else None)
        except OSError as exc:
            return fail(f"could not write the backup: {exc}", EXIT_FAIL)
    finally:
        _close(context)
    m = info.manifest
    print(f"Backed up {m.conversations} conversations ({m.messages} messages) to {info.path} "
          f"({_size(info.size)}).")
    if info.extra.get("index_left_out"):
        print("The notes index was left out (it could not be read or holds a secret); it can be rebuilt.")
    return EXIT_OK


def _row(info: BackupInfo) -> dict[str, Any]:
    m = info.manifest
    return {"file": str(info.path), "created": m.created, "kind": m.kind.value,
            "app_version": m.app_version, "conversations": m.conversations, "messages": m.messages,
            "size": info.size, "with_index": m.with_index}


def _list(args: argparse.Namespace) -> int:
    service = BackupService(paths.data_dir())
    backups = service.backups()
    if args.json:
        print(json_text([_row(b) for b in backups]))
        return EXIT_OK
    if not backups:
        print(f"No backups yet in {service.folder()}.")
        return EXIT_OK
    print(f"Backups in {service.folder()}:")
    for b in backups:
        m = b.manifest
        index = "  with notes index" if m.with_index else ""
        print(f"  {_when(m.created)}  {m.conversations:>5} conversations  {_size(b.size):>9}  "
              f"{m.kind.value:<16} {b.path.name}{index}")
    return EXIT_OK


_PART_LINES = {
    SETTINGS: "your settings (the API key is not in backups: the one you have stays)",
    PRICES: "the price table",
    LIMITS: "the model limits learnt so far",
    NOTES: "the notes index",
}


def plan_text(plan: RestorePlan, folder: Path) -> str:
    m = plan.info.manifest
    lines = [f"Backup {plan.info.path}",
             f"  made {_when(m.created)} by Qwen Desktop {m.app_version} ({m.kind.value}), "
             f"{_size(plan.info.size)}",
             f"  holds {m.conversations} conversations ({m.messages} messages)",
             "Restoring it replaces:",
             f"  your conversations: {plan.current_conversations} now ({plan.current_messages} messages)"]
    lines += [f"  {_PART_LINES[name]}" for name in plan.replaces if name in _PART_LINES]
    lines += [f"  and removes {name}, which the backup does not have" for name in plan.removes]
    lines.append(f"The current state is backed up first, into {folder}.")
    return "\n".join(lines)


def _restore(args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser()
    service = BackupService(paths.data_dir())
    try:
        plan = service.plan(path)
    except BackupRefused as refused:
        return fail(refused.message, EXIT_FAIL)
    print(plan_text(plan, service.folder()))
    if not args.yes:
        print("Nothing was changed. Run again with --yes to restore.")
        return EXIT_USAGE
    context = open_context()
    try:
        context.session.load_key()
        store = context.session.store
        restored = asyncio.run(_service(context).restore(
            path, holder=context.session, flush=store.flush if store is not None else None,
            notes=context.notes))
    except BackupRefused as refused:
        return fail(refused.message, EXIT_FAIL)
    except RestoreFailed as failed:
        return fail(f"{failed.message.replace('%1', str(failed.safety.path))} ({failed.detail})", EXIT_FAIL)
    except OSError as exc:
        return fail(f"could not restore: {exc}. Nothing was changed.", EXIT_FAIL)
    finally:
        _close(context)
    safety = f" The state before is in {restored.safety.path}." if restored.safety else ""
    print(f"Restored {plan.info.manifest.conversations} conversations.{safety}")
    return EXIT_OK


def add_backup_parser(subparsers: Any) -> None:
    backup = subparsers.add_parser("backup", help="back up and restore conversations and settings")
    sub = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="back up now (conversations, settings, prices; never the key)")
    create.add_argument("-o", "--output", metavar="FILE",
                        help="write the backup to FILE (default: the backup folder)")
    create.add_argument("--with-index", action="store_true",
                        help="include the notes index (larger; it can be rebuilt)")
    create.set_defaults(func=_create)

    listing = sub.add_parser("list", help="the backups in the backup folder, newest first")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(func=_list)

    restore = sub.add_parser("restore", help="replace conversations and settings with a backup's")
    restore.add_argument("file", metavar="FILE", help="the backup file (see 'backup list')")
    restore.add_argument("--yes", action="store_true",
                         help="restore (without it: print what would change and exit 2)")
    restore.set_defaults(func=_restore)
