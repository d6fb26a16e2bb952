"""The progress of a schema upgrade while the app opens a database before its window (the
normal path: an old schema the window-first start cannot read, T30).  The upgrade runs on
the GUI thread there, so each step repaints the dialog itself."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from crlmboard.ui.ops import upgrade_text


class UpgradeProgress:
    """`progress(step, done, total)` for `Board.open`: a progress dialog, shown at the
    upgrade's first step (an open without an upgrade shows nothing)."""

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent
        self.dialog: QProgressDialog | None = None
        self.steps: list[str] = []  # each step shown, in order

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.dialog is None:
            self.dialog = QProgressDialog("", "", 0, 0, self.parent)
            self.dialog.setWindowTitle("Upgrading the database")
            self.dialog.setCancelButton(None)  # an upgrade on a copy: stopped, it is undone
            self.dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
            self.dialog.setMinimumDuration(0)
            self.dialog.setAutoClose(False)
            self.dialog.setAutoReset(False)
            self.dialog.show()
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
        self.dialog.setLabelText(f"Upgrading the database: {upgrade_text(step, done, total)}")
        self.dialog.setMaximum(max(total, 0))
        self.dialog.setValue(min(done, total) if total > 0 else 0)
        QCoreApplication.processEvents()

    def finish(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
