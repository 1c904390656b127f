"""Marking user-facing text in the Qt-free core for translation.

The core cannot import Qt, yet its messages (error explanations, progress texts) are shown in the
window in the user's language. Strings are marked with ``QT_TRANSLATE_NOOP(context, text)``: the
name is what ``pyside6-lupdate`` looks for, so they land in the ``.ts`` files, and the window
translates them with ``QCoreApplication.translate(context, text)``. The command line prints the
English source text.
"""


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate recognises
    del context
    return text
