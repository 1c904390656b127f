"""Marking user-facing text in the Qt-free core for translation.

The core cannot import Qt, yet its messages (error explanations, progress texts) are shown in the
window in the user's language. Strings are marked with ``QT_TRANSLATE_NOOP(context, text)``: the
name is what ``pyside6-lupdate`` looks for, so they land in the ``.ts`` files, and the window
translates them with ``QCoreApplication.translate(context, text)``. The command line prints the
English source text.
"""

import re


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate recognises
    del context
    return text


_PLACEHOLDER = re.compile(r"%(\d+)")


def fill(template: str, *values: object) -> str:
    """Fill Qt-style ``%1``, ``%2`` placeholders of a (translated) text in one pass.

    One pass, so a value that itself contains "%2" is never substituted again, and the order of
    placeholders can differ between languages. PySide's ``tr()`` returns ``str``, with no ``.arg``.
    """
    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return str(values[index]) if 0 <= index < len(values) else match.group(0)

    return _PLACEHOLDER.sub(value, template)
