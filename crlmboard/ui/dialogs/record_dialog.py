"""A dialog that edits one record with its generated form (Enter saves, Esc cancels)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from crlmboard.domain.models import Record
from crlmboard.ui.forms import RecordForm

MIN_WIDTH = 600


class RecordDialog(QDialog):
    """Edit or create one record; `result_record` holds the validated record after OK."""

    def __init__(
        self,
        model: type[Record],
        record: Record | None,
        title: str,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
        note: str = "",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        # wide enough that the longest reason (the MRN's rule) reads on one or two lines
        self.setMinimumWidth(MIN_WIDTH)
        self.form = RecordForm(model)
        if today is not None:
            self.form.today = today
        self.form.set_record(record)
        self.base = record
        self.result_record: Record | None = None
        layout = QVBoxLayout(self)
        if note:
            hint = QLabel(note)
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addWidget(self.form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.form.edited.connect(self._update_ok)
        self.form.focus_first()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not self.form.problems)

    def accept(self) -> None:
        record = self.form.record()
        if record is None:
            return  # the reasons are shown next to the fields
        self.result_record = record
        super().accept()
