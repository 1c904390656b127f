"""The two-pane page shared by the Chat and Search tabs: a side list and a main area."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget


def side_and_main(owner: QWidget, side: QWidget, main: QWidget, sizes: tuple[int, int]) -> QSplitter:
    """Lay ``side`` and ``main`` out in ``owner`` with a splitter; the main area takes the extra room."""
    splitter = QSplitter(Qt.Orientation.Horizontal, owner)
    splitter.addWidget(side)
    splitter.addWidget(main)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes(list(sizes))
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(splitter)
    return splitter
