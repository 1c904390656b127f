"""desktop.core never imports Qt: the command line and the tests of the core run without it."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import desktop.core

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6")

_PROBE = """
import importlib, json, pkgutil, sys
import desktop.core
names = ["desktop.core"] + [m.name for m in pkgutil.walk_packages(desktop.core.__path__, "desktop.core.")]
for name in names:
    importlib.import_module(name)
qt = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[1])))
print(json.dumps({"modules": names, "qt": qt}))
"""


def test_every_core_module_imports_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(QT_MODULES)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {m.name for m in pkgutil.walk_packages(desktop.core.__path__, "desktop.core.")}
    assert expected <= set(report["modules"])
    assert {"desktop.core.client", "desktop.core.chat", "desktop.core.markdown"} <= set(report["modules"])
    assert report["qt"] == []


def test_the_command_line_module_imports_without_qt() -> None:
    probe = (
        "import json, sys, desktop.cli, desktop.__main__\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.argv[1])))))"
    )
    result = subprocess.run([sys.executable, "-c", probe, json.dumps(QT_MODULES)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
