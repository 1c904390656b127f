"""Filling Qt-style ``%1``, ``%2`` placeholders in translated text (PySide's tr() returns str)."""

from __future__ import annotations


def fill(template: str, *values: object) -> str:
    # Replace from the highest number down so %1 does not eat the start of %10.
    for index in range(len(values), 0, -1):
        template = template.replace(f"%{index}", str(values[index - 1]))
    return template
