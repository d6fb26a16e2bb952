"""A dialog that edits one record with its generated form (Enter or Ctrl+S saves, Esc
cancels); a record of a patient says whose in its title and its patient banner."""

from __future__ import annotations

import datetime as dt

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from crlmboard.domain.models import Patient, Record
from crlmboard.ui.forms import RecordForm
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

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
        patient: Patient | None = None,
    ):
        super().__init__(parent)
        # whose record this writes: "Add chemotherapy cycle — DEMOSON, Lukas"
        self.setWindowTitle(title if patient is None else f"{title} — {patient_name(patient)}")
        self.banner = PatientBanner()
        # wide enough that the longest reason (the MRN's rule) reads on one or two lines
        self.setMinimumWidth(MIN_WIDTH)
        self.form = RecordForm(model)
        if today is not None:
            self.form.today = today
        self.form.set_record(record)
        self.base = record
        self.result_record: Record | None = None
        layout = QVBoxLayout(self)
        if patient is not None:
            self.banner.show_patient(patient, today or dt.date.today())
        layout.addWidget(self.banner)
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
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.accept)
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
