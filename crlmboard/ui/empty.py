"""What an empty list says, painted over its rows' area (an empty grid could as well be a
list still loading, or one that failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QAbstractItemView

if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    from crlmboard.ui.lazyqt import Qt  # built on first use (performance.md B1)


def paint_empty_text(view: QAbstractItemView, text: str) -> None:
    """Write `text` at the top of `view`'s rows area, in the placeholder colour (call from
    its `paintEvent`, after the view painted itself)."""
    # imported here: a list with rows never needs them (their enums are built on the first
    # import, performance.md B1)
    from PySide6.QtGui import QPainter, QPalette

    painter = QPainter(view.viewport())
    painter.setPen(view.palette().color(QPalette.ColorRole.PlaceholderText))
    painter.drawText(
        view.viewport().rect().adjusted(8, 8, -8, -8),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
        text,
    )
    painter.end()
