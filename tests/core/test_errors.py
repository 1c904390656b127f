"""One exception root for core: every error a face can see is a QwenError, and its kind decides the rest.

The kind decides, in desktop/core/errors.py only, whether waiting and retrying helps, the command
line's exit code and whether the window offers "Open Settings"; each kind has a message with a
Chinese translation.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

import desktop.core
from desktop.core.errors import (
    DECISIONS,
    EXIT_AUTH,
    EXIT_OTHER,
    EXIT_SERVICE,
    MESSAGES,
    ErrorKind,
    QwenError,
    exit_code,
    offers_settings,
)
from desktop.core.notes.batch_remote import BatchUnavailable, CannotCancel
from desktop.core.notes.index_records import IndexModelChanged
from desktop.core.notes.store_records import IndexModel

ROOT = Path(__file__).resolve().parents[2]

# Exceptions defined in core that never leave it, so no face can meet them. Each is caught next to
# where it is raised and turned into a value (or a QwenError):
INTERNAL = {
    # a token count that cannot be true: the client drops the usage (shown as unknown), nothing raises on.
    "desktop.core.chat_stream.AbsurdCount",
    # extract_text's "why not": read_file turns it into a SkippedFile with its SkipReason.
    "desktop.core.notes.reader.NoteUnreadable",
    # decode_text's "not text": extract_text turns it into NoteUnreadable(BINARY).
    "desktop.core.notes.encoding.BinaryContent",
    # a result file this version cannot read: BatchIndexer._finish marks the job failed with it.
    "desktop.core.notes.batch_files.ResultFormatError",
    # a file read that hung: read_file turns it into a SkippedFile (TIMED_OUT).
    "desktop.core.notes.bounded.CallTimedOut",
    # the run ended while a read hung: raised on the reading pool, whose result nobody awaits then.
    "desktop.core.notes.bounded.CallCancelled",
}


def core_exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(desktop.core.__path__, "desktop.core."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                found[f"{info.name}.{cls.__qualname__}"] = cls
    return found


def test_every_core_exception_a_face_can_see_is_a_qwen_error() -> None:
    classes = core_exception_classes()
    # The walk sees the hierarchy (not an empty or wrong package).
    assert {"desktop.core.errors.QwenError", "desktop.core.secrets.KeyringUnavailable",
            "desktop.core.notes.index_records.IndexModelChanged"} <= set(classes)
    outside = sorted(name for name, cls in classes.items()
                     if not issubclass(cls, QwenError) and name not in INTERNAL)
    assert outside == []


def test_the_allow_list_names_real_internal_exceptions() -> None:
    """An entry that was renamed, removed or moved under QwenError must leave the list."""
    classes = core_exception_classes()
    assert INTERNAL <= set(classes)
    assert [name for name in INTERNAL if issubclass(classes[name], QwenError)] == []


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_kind_has_a_message_an_exit_code_and_a_retry_decision(kind: ErrorKind) -> None:
    assert MESSAGES[kind].strip()
    decision = DECISIONS[kind]
    assert isinstance(decision.retryable, bool)
    assert isinstance(decision.offers_settings, bool)
    assert exit_code(kind) in {EXIT_OTHER, EXIT_AUTH, EXIT_SERVICE}
    error = QwenError(kind, "detail")
    assert error.retryable is decision.retryable
    assert offers_settings(kind) is decision.offers_settings
    assert error.message == MESSAGES[kind]


def test_every_message_has_a_chinese_translation() -> None:
    translations = json.loads((ROOT / "resources/translations/zh_CN.json").read_text(encoding="utf-8"))
    missing = [text for text in MESSAGES.values() if not translations["Errors"].get(text)]
    assert missing == []


def test_what_the_kinds_decide() -> None:
    assert {k for k in ErrorKind if DECISIONS[k].retryable} == {
        ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED, ErrorKind.SERVICE_DOWN}
    assert {k for k in ErrorKind if DECISIONS[k].offers_settings} == {
        ErrorKind.NO_KEY, ErrorKind.AUTH, ErrorKind.MODEL_NOT_FOUND, ErrorKind.PROXY,
        ErrorKind.ACCESS_DENIED, ErrorKind.INVALID_KEY, ErrorKind.INVALID_URL}
    assert exit_code(ErrorKind.KEYRING) == EXIT_AUTH
    assert exit_code(ErrorKind.NETWORK) == EXIT_SERVICE
    assert exit_code(ErrorKind.INDEX_MODEL_CHANGED) == EXIT_OTHER
    assert exit_code(ErrorKind.CANNOT_CANCEL) == EXIT_OTHER
    assert offers_settings("auth") and not offers_settings("no such kind")


def test_the_notes_errors_keep_what_the_faces_read() -> None:
    changed = IndexModelChanged(IndexModel("text-embedding-v3", 1024), IndexModel("text-embedding-v4", 512))
    assert changed.kind is ErrorKind.INDEX_MODEL_CHANGED
    assert changed.stored.dimensions == 1024 and changed.wanted.model == "text-embedding-v4"
    assert str(changed) == ("the index was built with text-embedding-v3 (1024 dimensions), "
                            "settings ask for text-embedding-v4 (512)")

    refused = CannotCancel("task is running")
    assert refused.kind is ErrorKind.CANNOT_CANCEL and str(refused) == "task is running"

    answer = QwenError(ErrorKind.NOT_FOUND, "no batch here", status=404, request_id="rid-1")
    unavailable = BatchUnavailable("not supported by the Batch API", answer)
    assert unavailable.kind is ErrorKind.BATCH_UNAVAILABLE
    assert unavailable.detail == str(unavailable) == "not supported by the Batch API"
    assert unavailable.error is answer and unavailable.request_id == "rid-1"
    assert not unavailable.retryable


# ---- the more specific handler comes first ------------------------------------------------------------

def _handler_names(handler: ast.ExceptHandler) -> list[str]:
    node = handler.type
    nodes = node.elts if isinstance(node, ast.Tuple) else [node] if node is not None else []
    names = []
    for n in nodes:
        if isinstance(n, ast.Name):
            names.append(n.id)
        elif isinstance(n, ast.Attribute):
            names.append(n.attr)
    return names


def shadowed_handlers(source: str, hierarchy: dict[str, type[BaseException]]) -> list[str]:
    """``except Sub`` lines that an earlier ``except Base`` of the same ``try`` makes unreachable."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Try):
            continue
        earlier: list[type[BaseException]] = []
        for handler in node.handlers:
            classes = [hierarchy[n] for n in _handler_names(handler) if n in hierarchy]
            for cls in classes:
                if any(issubclass(cls, base) for base in earlier):
                    found.append(f"line {handler.lineno}: except {cls.__name__}")
            earlier += classes
    return found


def test_the_shadowing_check_finds_a_shadowed_handler() -> None:
    source = "try:\n    pass\nexcept QwenError:\n    pass\nexcept CannotCancel:\n    pass\n"
    assert shadowed_handlers(source, {"QwenError": QwenError, "CannotCancel": CannotCancel}) == [
        "line 5: except CannotCancel"]


def test_no_handler_for_a_core_error_is_shadowed_by_a_broader_one() -> None:
    hierarchy = {cls.__name__: cls for cls in core_exception_classes().values()}
    bad = []
    for path in sorted((ROOT / "desktop").rglob("*.py")):
        bad += [f"{path.relative_to(ROOT)} {hit}"
                for hit in shadowed_handlers(path.read_text(encoding="utf-8"), hierarchy)]
    assert bad == []
