"""Asking before a dialog's typing is thrown away: Esc, Cancel or the window's close button
on a record dialog that holds values typed and not saved."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def discard_typed(parent: QWidget) -> bool:
    """True: throw away what was typed in `parent` (a dialog); False: back to it (the
    default, and Esc, so that a second Esc pressed too quickly loses nothing)."""
    answer = QMessageBox.question(
        parent,
        parent.windowTitle(),
        "Discard what you typed in this dialog? Nothing of it has been saved.\n\n"
        "Cancel goes back to it.",
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard
