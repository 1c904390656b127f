"""Contracts that hold the layers apart, checked on the source (every import, also inside functions).

- desktop.core imports no Qt, no qasync and no face (cli, gui, selftest);
- the command line and the window never import each other;
- the faces never open the notes index, searcher or stores themselves (the notes service does);
- no import cycles between desktop's modules;
- no module of desktop or of the test support code (the loopback server) over ~500 lines (a bound of 550: room for a docstring, not for a second job).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "desktop"
QT = ("PySide6", "shiboken6", "qasync")
FACES = ("desktop.cli", "desktop.gui", "desktop.selftest")
WINDOW = ("desktop.gui",)
MAX_MODULE_LINES = 550


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges[name] = {target for target in imports_of(path) if target in modules and target != name}
    return edges


def is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_core_imports_neither_qt_nor_a_face() -> None:
    bad = []
    for path in (PACKAGE / "core").rglob("*.py"):
        for target in imports_of(path):
            if is_under(target, QT) or is_under(target, FACES):
                bad.append(f"{module_name(path)} -> {target}")
    assert bad == []


def test_the_command_line_and_the_window_never_import_each_other() -> None:
    bad = []
    for source, targets in graph().items():
        for target in targets:
            if is_under(source, ("desktop.cli",)) and is_under(target, WINDOW):
                bad.append(f"{source} -> {target}")
            if is_under(source, WINDOW) and is_under(target, ("desktop.cli",)):
                bad.append(f"{source} -> {target}")
    for path in (PACKAGE / "cli").rglob("*.py"):
        assert not any(is_under(t, QT) for t in imports_of(path)), path
    assert bad == []


# What only the notes service opens: a face that opened one would run a workflow of its own.
NOTES_INTERNALS = (
    "desktop.core.notes.index.Indexer", "desktop.core.notes.search.Searcher",
    "desktop.core.notes.search.SharedSearcher", "desktop.core.notes.store.NoteStore",
    "desktop.core.notes.jobs.JobStore", "desktop.core.notes.batch.BatchIndexer",
)


def test_faces_take_notes_workflows_from_the_service() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        if is_under(module_name(path), ("desktop.cli", "desktop.gui")):
            bad += [f"{module_name(path)} -> {t}" for t in imports_of(path) if t in NOTES_INTERNALS]
    assert bad == []


def test_no_import_cycles() -> None:
    edges = graph()
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    for name in edges:
        edges[name] = {t for t in edges[name] if not name.startswith(t + ".") and not t.startswith(name + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_grows_past_the_bound() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "tests" / "support").rglob("*.py")]
    long = {module_name(p): n for p in sources
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_the_contracts_see_real_imports() -> None:
    """The checks above would pass vacuously on a parser that found nothing."""
    edges = graph()
    assert "desktop.core.chat" in edges["desktop.cli.chat"]
    assert "desktop.cli.output" in edges["desktop.cli.notes"]
    assert any(t.startswith("PySide6") for t in imports_of(PACKAGE / "gui" / "main_window.py"))


def test_every_package_is_installed() -> None:
    """pyproject lists packages by hand: a new folder left out would be missing from a wheel."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
