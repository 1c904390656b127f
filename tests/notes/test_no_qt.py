"""The notes core and its command line never import Qt (the window is only one of their faces)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, pkgutil, sys
import desktop.core.notes as notes
for module in pkgutil.iter_modules(notes.__path__):
    importlib.import_module(f"desktop.core.notes.{module.name}")
import desktop.cli.notes
print(sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "qasync", "shiboken6"}))
"""


def test_notes_core_and_cli_import_no_qt() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
