"""Values copied from an earlier record into a new one (the previous scan's diameters, the
previous cycle's regimen): each is shown greyed and in italics, with where it came from,
until it is confirmed (Ctrl+Enter) or changed; a dialog holding one cannot be saved.

A copied value that nobody looked at must never reach the store as a new measurement."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableWidgetItem, QWidget

CONFIRM_KEYS = ("Ctrl+Return", "Ctrl+Enter")
CONFIRM_KEY_TEXT = "Ctrl+Enter"
COPIED = Qt.ItemDataRole.UserRole + 2
"""Item data (and widget property `copied`): where the value was copied from."""
GREY = "#6b6b6b"  # 5.3:1 on white
GREY_ON_DARK = "#a6a6a6"  # 7:1 on #1e1e1e


def grey() -> str:
    """The copied values' grey: dimmer than the text, readable on the palette's base."""
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    return GREY_ON_DARK if base.lightness() < 128 else GREY


def copied_style() -> str:
    return f"color: {grey()}; font-style: italic;"


def count_text(count: int) -> str:
    """`3 copied values to confirm` ('' when none is left)."""
    if count <= 0:
        return ""
    return f"{count} copied value{'s' if count != 1 else ''} to confirm"


def tooltip(source: str) -> str:
    return f"copied from {source} — {CONFIRM_KEY_TEXT} confirms it, or type the new value"


def widget_source(widget: QWidget) -> str:
    """Where the value in an input widget was copied from ('' when not copied)."""
    value = widget.property("copied")
    return str(value) if value else ""


def mark_widget(widget: QWidget, source: str | None, *, extra_style: str = "") -> None:
    """Show an input widget's value as copied from `source`, or (None) as the user's own."""
    widget.setProperty("copied", source or "")
    widget.setStyleSheet((copied_style() if source else "") + extra_style)
    widget.setToolTip(tooltip(source) if source else "")


def item_source(item: QTableWidgetItem | None) -> str:
    value = item.data(COPIED) if item is not None else None
    return str(value) if value else ""


def mark_item(item: QTableWidgetItem, source: str | None) -> None:
    """Show a grid cell's value as copied from `source`, or (None) as the user's own."""
    item.setData(COPIED, source or None)
    font = QFont(item.font())
    font.setItalic(bool(source))
    item.setFont(font)
    item.setForeground(QColor(grey()) if source else QBrush())
    if source:
        item.setToolTip(tooltip(source))
    elif item.toolTip().startswith("copied from"):
        item.setToolTip("")
