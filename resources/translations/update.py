"""Refresh the Simplified Chinese translation: Python sources -> .ts -> .qm.

Usage (from the repository root)::

    .venv/bin/python resources/translations/update.py          # update .ts, zh_CN.json and .qm
    .venv/bin/python resources/translations/update.py --check  # change nothing; exit 1 if anything is stale

What a normal run does:

1. ``pyside6-lupdate -no-obsolete`` over every ``desktop/**/*.py`` refreshes
   ``qwen_desktop_zh_CN.ts``: new messages are added, vanished ones dropped, translations kept.
2. ``zh_CN.json`` (``{context: {source: translation}}``) is the source of truth for translations and
   is applied to the .ts: every message with a non-empty translation there is marked finished.
   Translations made in Qt Linguist (open the .ts) for messages the JSON has none for are copied
   into the JSON; where both have one, the JSON wins. New messages get an empty ``""`` entry in the
   JSON, entries for messages that no longer exist are removed. Plural messages (``%n``) take one
   string, as Chinese has one plural form. A message with a disambiguation comment is keyed
   ``source + "\\u0004" + comment``.
3. ``pyside6-lrelease`` compiles the .ts to ``qwen_desktop_zh_CN.qm``, which the app loads.
4. Prints the counts (total, finished, unfinished) and lists what is unfinished.

Before step 1 the sources are read with Python's ``ast`` to find text lupdate cannot see: a
``QT_TRANSLATE_NOOP``/``tr()``/``translate()`` whose context or text is not a plain string literal
(a variable, an f-string), or a literal call lupdate skipped anyway (e.g. ``self.tr()`` inside an
f-string's braces). Those are listed as problems: move the text into a literal call.

After adding or changing UI text:

1. run update.py; the new messages are reported as unfinished and appear in zh_CN.json as ``""``;
2. write their translations into zh_CN.json (keep ``%1``, ``%n`` and HTML tags);
3. run update.py again until it reports 0 unfinished, and commit the .ts, the .qm and zh_CN.json.

``--check`` (used by tests/ui/test_i18n.py) writes nothing and fails when the sources have messages
the .ts lacks or still has vanished ones, when a message is unfinished or its translation differs
from zh_CN.json, when the .qm is missing or differs from what lrelease makes of the .ts, or when a
problem from the source scan is found.

The tools are found in this order: ``pyside6-lupdate``/``pyside6-lrelease`` beside the running
Python, the ``lupdate``/``lrelease`` binaries bundled inside the PySide6 package, then ``lupdate``
/``lrelease`` on PATH or in /usr/lib/qt6/bin (Debian's qt6-l10n-tools).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCE_DIR = ROOT / "desktop"
TS = HERE / "qwen_desktop_zh_CN.ts"
QM = HERE / "qwen_desktop_zh_CN.qm"
MAPPING = HERE / "zh_CN.json"
LANGUAGE = "zh_CN"
SOURCE_LANGUAGE = "en"
COMMENT_SEP = "\u0004"  # between source and disambiguation comment in zh_CN.json keys

Key = tuple[str, str, str]  # context, source, comment


# -- tools -----------------------------------------------------------------------------------

def find_tool(name: str) -> list[str]:
    """The command for Qt's ``lupdate`` or ``lrelease``."""
    exe = ".exe" if os.name == "nt" else ""
    bindir = Path(sys.executable).parent
    for candidate in (bindir / f"pyside6-{name}{exe}", bindir / f"pyside6-{name}"):
        if candidate.is_file():
            return [str(candidate)]
    found = shutil.which(f"pyside6-{name}")
    if found:
        return [found]
    try:
        import PySide6

        bundled = Path(PySide6.__file__).parent / f"{name}{exe}"
        if bundled.is_file():
            return [str(bundled)]
    except ImportError:
        pass
    found = shutil.which(name) or shutil.which(f"{name}6")
    if found:
        return [found]
    debian = Path("/usr/lib/qt6/bin") / name
    if debian.is_file():
        return [str(debian)]
    raise SystemExit(f"cannot find {name}: install PySide6-Essentials (pyside6-{name}) or qt6-l10n-tools")


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout + proc.stderr


def source_files() -> list[Path]:
    return sorted(p for p in SOURCE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def lupdate(ts: Path) -> str:
    files = [str(p.relative_to(ROOT)) for p in source_files()]
    return run([*find_tool("lupdate"), "-no-obsolete", "-locations", "relative",
                "-source-language", SOURCE_LANGUAGE, "-target-language", LANGUAGE, *files, "-ts", str(ts)])


def lrelease(ts: Path, qm: Path) -> str:
    return run([*find_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)])


# -- the .ts file ----------------------------------------------------------------------------

@dataclass
class Message:
    context: str
    source: str
    comment: str
    numerus: bool
    translation: str  # the first (only) numerus form for plurals
    finished: bool
    element: ET.Element

    @property
    def key(self) -> Key:
        return (self.context, self.source, self.comment)


def read_ts(ts: Path) -> tuple[ET.ElementTree, list[Message]]:
    tree = ET.parse(ts)
    messages = []
    for context in tree.getroot().iter("context"):
        name = context.findtext("name") or ""
        for el in context.iter("message"):
            tr = el.find("translation")
            numerus = el.get("numerus") == "yes"
            if tr is None:
                text = ""
            elif numerus:
                text = next((f.text or "" for f in tr.iter("numerusform")), "")
            else:
                text = tr.text or ""
            kind = tr.get("type") if tr is not None else "unfinished"
            messages.append(Message(name, el.findtext("source") or "", el.findtext("comment") or "",
                                    numerus, text, kind is None and bool(text), el))
    return tree, messages


def set_translation(message: Message, text: str) -> None:
    tr = message.element.find("translation")
    if tr is None:
        tr = ET.SubElement(message.element, "translation")
    if message.numerus:
        forms = list(tr.iter("numerusform")) or [ET.SubElement(tr, "numerusform")]
        for form in forms:  # Chinese has one form; fill any extra the same
            form.text = text
    else:
        tr.text = text
    tr.attrib.pop("type", None)
    message.translation, message.finished = text, True


# -- zh_CN.json ------------------------------------------------------------------------------

def mapping_key(source: str, comment: str) -> str:
    return f"{source}{COMMENT_SEP}{comment}" if comment else source


def read_mapping() -> dict[Key, str]:
    if not MAPPING.exists():
        return {}
    data = json.loads(MAPPING.read_text(encoding="utf-8"))
    out: dict[Key, str] = {}
    for context, entries in data.items():
        for key, text in entries.items():
            source, _, comment = key.partition(COMMENT_SEP)
            out[(context, source, comment)] = text
    return out


def mapping_text(messages: list[Message], mapping: dict[Key, str]) -> str:
    data: dict[str, dict[str, str]] = {}
    for m in messages:
        data.setdefault(m.context, {})[mapping_key(m.source, m.comment)] = mapping.get(m.key, "")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# -- scanning the sources for text lupdate cannot see ----------------------------------------

_APP_CLASSES = {"QCoreApplication", "QApplication", "QGuiApplication"}
_NOOPS = {"QT_TRANSLATE_NOOP", "QT_TRANSLATE_NOOP3", "QT_TR_NOOP"}


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.classes: list[str] = []
        self.expected: dict[Key, str] = {}  # marked literal -> where
        self.problems: list[str] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802 - ast API
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def _problem(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"{self.path}:{getattr(node, 'lineno', '?')}: {what}")

    def _expect(self, node: ast.AST, context: str, source: str, comment: str = "") -> None:
        self.expected.setdefault((context, source, comment), f"{self.path}:{getattr(node, 'lineno', '?')}")

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802 - ast API
        func = node.func
        args = node.args
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in _NOOPS:
            literals = [_literal(a) for a in args[:2]]
            if name == "QT_TR_NOOP":
                self._problem(node, "QT_TR_NOOP has no context here; use QT_TRANSLATE_NOOP(\"Context\", ...)")
            elif len(args) < 2 or None in literals:
                self._problem(node, f"{name}() needs a string-literal context and text, or lupdate "
                                    "skips it (a variable such as _CTX is not read)")
            else:
                comment = _literal(args[2]) if name == "QT_TRANSLATE_NOOP3" and len(args) > 2 else ""
                self._expect(node, literals[0], literals[1], comment or "")  # type: ignore[arg-type]
        elif name == "tr" and isinstance(func, ast.Attribute) and args:
            source = _literal(args[0])
            comment = _literal(args[1]) if len(args) > 1 else ""
            if source is None or comment is None:
                self._problem(node, "tr() with a text that is not a string literal is invisible to lupdate")
            elif isinstance(func.value, ast.Name) and func.value.id == "self" and self.classes:
                self._expect(node, self.classes[-1], source, comment)
        elif (name == "translate" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id in _APP_CLASSES and len(args) >= 2):
            context, source = _literal(args[0]), _literal(args[1])
            comment = _literal(args[2]) if len(args) > 2 else ""
            if source is not None:  # a variable text is translated at run time from NOOP-marked text
                if context is None or comment is None:
                    self._problem(node, "translate() with a literal text needs a literal context")
                else:
                    self._expect(node, context, source, comment)
        self.generic_visit(node)


def scan_sources() -> tuple[dict[Key, str], list[str]]:
    expected: dict[Key, str] = {}
    problems: list[str] = []
    for path in source_files():
        rel = str(path.relative_to(ROOT))
        scanner = _Scanner(rel)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=rel))
        for key, where in scanner.expected.items():
            expected.setdefault(key, where)
        problems += scanner.problems
    return expected, problems


def missed_by_lupdate(expected: dict[Key, str], messages: list[Message]) -> list[str]:
    present = {m.key for m in messages}
    return [f"{where}: lupdate did not pick up {source!r} (context {context}); call tr() "
            "outside f-string braces, with plain literals"
            for (context, source, comment), where in expected.items()
            if (context, source, comment) not in present]


# -- commands --------------------------------------------------------------------------------

def describe(messages: list[Message]) -> tuple[str, list[Message]]:
    unfinished = [m for m in messages if not m.finished]
    summary = (f"{TS.name}: {len(messages)} messages, {len(messages) - len(unfinished)} finished, "
               f"{len(unfinished)} unfinished")
    return summary, unfinished


def print_unfinished(unfinished: list[Message]) -> None:
    for m in unfinished:
        print(f"  unfinished  [{m.context}] {m.source!r}")


def update() -> int:
    expected, problems = scan_sources()
    lupdate(TS)
    tree, messages = read_ts(TS)
    mapping = read_mapping()
    merged: dict[Key, str] = {}
    for m in messages:
        wanted = mapping.get(m.key, "")
        if wanted:
            if not (m.finished and m.translation == wanted):
                set_translation(m, wanted)
            merged[m.key] = wanted
        elif m.finished:
            merged[m.key] = m.translation  # translated in Qt Linguist: keep it in the JSON too
        else:
            merged[m.key] = ""
    ET.indent(tree)
    tree.write(TS, encoding="utf-8", xml_declaration=True)
    lupdate(TS)  # once more, so the file is in lupdate's own layout (as Linguist writes it)
    _tree, messages = read_ts(TS)
    MAPPING.write_text(mapping_text(messages, merged), encoding="utf-8")
    lrelease(TS, QM)
    problems += missed_by_lupdate(expected, messages)
    summary, unfinished = describe(messages)
    print(summary)
    print_unfinished(unfinished)
    for p in problems:
        print(f"  PROBLEM  {p}")
    if unfinished:
        print(f"Add the missing translations to {MAPPING.relative_to(ROOT)} and run this again.")
    return 0


def check() -> int:
    failures: list[str] = []
    expected, problems = scan_sources()
    failures += problems
    if not TS.exists():
        print(f"{TS.relative_to(ROOT)} is missing: run {Path(__file__).relative_to(ROOT)}")
        return 1
    _tree, messages = read_ts(TS)
    failures += missed_by_lupdate(expected, messages)
    summary, unfinished = describe(messages)
    print(summary)
    print_unfinished(unfinished)
    if unfinished:
        failures.append(f"{len(unfinished)} unfinished message(s)")
    with tempfile.TemporaryDirectory(prefix="qwen-i18n-") as tmp:
        fresh = Path(tmp) / TS.name
        shutil.copyfile(TS, fresh)
        lupdate(fresh)
        _t, fresh_messages = read_ts(fresh)
        now = {m.key for m in fresh_messages}
        have = {m.key for m in messages}
        for context, source, _c in sorted(now - have):
            failures.append(f"new in the sources, not in the .ts: [{context}] {source!r}")
        for context, source, _c in sorted(have - now):
            failures.append(f"in the .ts, gone from the sources: [{context}] {source!r}")
        qm = Path(tmp) / QM.name
        lrelease(TS, qm)
        if not QM.exists():
            failures.append(f"{QM.name} is missing")
        elif QM.read_bytes() != qm.read_bytes():
            failures.append(f"{QM.name} is not what lrelease makes of {TS.name}")
    mapping = read_mapping()
    for m in messages:
        wanted = mapping.get(m.key)
        if wanted is None:
            failures.append(f"not in {MAPPING.name}: [{m.context}] {m.source!r}")
        elif wanted and wanted != m.translation:
            failures.append(f"{MAPPING.name} and {TS.name} differ for [{m.context}] {m.source!r}")
    for key in sorted(set(mapping) - {m.key for m in messages}):
        failures.append(f"{MAPPING.name} has an entry for a message that no longer exists: {key[:2]!r}")
    for f in failures:
        print(f"  FAIL  {f}")
    if failures:
        print(f"Run {Path(__file__).relative_to(ROOT)}, translate what it lists in {MAPPING.name}, "
              "run it again.")
        return 1
    print("OK: translations complete and up to date.")
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    args = parser.parse_args(argv)
    return check() if args.check else update()


if __name__ == "__main__":
    sys.exit(_main())

