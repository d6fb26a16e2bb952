"""The few colours the app sets itself, each in a light and a dark-palette version: text and
tints that read on a white form must also read on a dark one (seen in the screenshots: the
red of a refusal was near-invisible on a dark desktop)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# role -> (on a light palette, on a dark palette)
COLOURS: dict[str, tuple[str, str]] = {
    "problem": ("#b00020", "#ff8a8a"),  # the text of a refusal or a reason
    "bad_cell": ("#f8d7da", "#6b2a30"),  # a table cell that was refused
    "larger": ("#f6c9c9", "#6b2a2a"),  # a lesion ≥ 20 % larger
    "smaller": ("#cdeccd", "#24502c"),  # a lesion ≥ 30 % smaller
}


def dark(palette: QPalette | None = None) -> bool:
    """Whether the palette in force is a dark one (its base colour)."""
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def colour(role: str, palette: QPalette | None = None) -> QColor:
    """The colour of `role` for the palette in force."""
    light, on_dark = COLOURS[role]
    return QColor(on_dark if dark(palette) else light)


def problem_style() -> str:
    """The style sheet of a label that gives a refusal's reasons."""
    return f"color: {colour('problem').name()};"


def visible_outlines(widget: QWidget) -> None:
    """On a dark palette, give `widget` a light window colour: Qt's Fusion style draws the
    outline of a check box a shade darker than the window colour, which on a dark palette
    left the attendance boxes of a review nearly invisible (seen in the dark screenshots)."""
    palette = widget.palette()
    if dark(palette):
        palette.setColor(QPalette.ColorRole.Window, QColor("#a0a0a0"))
        widget.setPalette(palette)
