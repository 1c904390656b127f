"""The application context for one command: built as the window builds it, and what its building
found said on stderr (a damaged settings file that was recovered)."""

from __future__ import annotations

import sys

from desktop.core.appcontext import AppContext
from desktop.core.recovery import Recovery


def recovery_line(recovery: Recovery) -> str:
    kept = f" (the damaged file is kept as {recovery.kept_at})" if recovery.kept_at else ""
    if recovery.restored_from is not None:
        return f"qwen-desktop: the settings file was damaged; using the settings last saved{kept}."
    return (f"qwen-desktop: the settings file was damaged and no earlier copy exists; using default "
            f"settings{kept}. Notes folders must be added again; their index is kept.")


def open_context() -> AppContext:
    context = AppContext.create()
    if context.settings_recovery is not None:
        print(recovery_line(context.settings_recovery), file=sys.stderr)
    return context
