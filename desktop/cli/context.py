"""The application context for one command: built as the window builds it, and what its building
found said on stderr (a damaged settings file that was recovered)."""

from __future__ import annotations

import sys

from desktop.core import paths
from desktop.core.appcontext import AppContext
from desktop.core.backup.service import BackupService
from desktop.core.history import HistoryStore
from desktop.core.recovery import DataFile, Recovery


def recovery_line(recovery: Recovery) -> str:
    kept = f" (the damaged file is kept as {recovery.kept_at})" if recovery.kept_at else ""
    if recovery.file is DataFile.HISTORY:
        return (f"qwen-desktop: the conversation history was damaged; starting a new, empty one{kept}. "
                "The old conversations may still be recovered from the damaged file.")
    if recovery.file is DataFile.NOTES:
        return f"qwen-desktop: the notes index was damaged; it is built again from your notes{kept}."
    if recovery.restored_from is not None:
        return f"qwen-desktop: the settings file was damaged; using the settings last saved{kept}."
    return (f"qwen-desktop: the settings file was damaged and no earlier copy exists; using default "
            f"settings{kept}. Notes folders must be added again; their index is kept.")


def open_history() -> HistoryStore:
    """The conversation history alone (for the history commands), a damaged file set aside."""
    BackupService(paths.data_dir()).before_start()  # before the history may migrate
    history, recovery = HistoryStore.open(paths.history_db())
    if recovery is not None:
        print(recovery_line(recovery), file=sys.stderr)
    return history


def open_context() -> AppContext:
    context = AppContext.create()
    for recovery in context.recoveries:
        print(recovery_line(recovery), file=sys.stderr)
    return context
