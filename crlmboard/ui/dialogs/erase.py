"""Erase patient for good: the confirmation (the MRN typed again, a reason that does not
name the patient, signed reviews only when asked) before `board.erasure.erase`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.models import Patient
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

REASON_MIN = 10  # the service's minimum (services/erasure.py), checked again there


class EraseDialog(QDialog):
    """Asks for the MRN again and a reason; Erase is offered only when both are given."""

    def __init__(
        self,
        mrn: str,
        parent: QWidget | None = None,
        attempt: Callable[[EraseDialog], None] | None = None,
        *,
        patient: Patient | None = None,
        today: dt.date | None = None,
    ):
        """`attempt(dialog)` erases; it calls `erased()` or `refused()` when answered (the
        dialog stays open meanwhile, and after a refusal, with what was typed).  Without it,
        Erase accepts the dialog.  `patient`: whom it erases, named in the title and a
        patient banner (not only by the MRN typed again)."""
        super().__init__(parent)
        self.mrn = mrn
        self.attempt = attempt
        self.busy = False
        title = "Erase patient for good"
        self.setWindowTitle(title if patient is None else f"{title} — {patient_name(patient)}")
        layout = QVBoxLayout(self)
        if patient is not None:
            banner = PatientBanner()
            banner.show_patient(patient, today or dt.date.today())
            layout.addWidget(banner)
        warning = QLabel(
            f"<b>Erase the case {mrn} for good?</b><br>"
            "The case, its records, reviews, review drafts, follow-ups and agenda entries are "
            "deleted, and the values its audit rows hold are wiped. This cannot be undone.<br>"
            "The audit trail keeps when, by whom and why — not who was erased. A new backup "
            "is made; older backups still hold the patient until they expire (listed "
            "afterwards).<br>Only for a test patient in the live database, a patient entered "
            "by mistake, or an erasure the hospital has confirmed."
        )
        warning.setWordWrap(True)
        layout.addWidget(warning)
        form = QFormLayout()
        self.confirm = QLineEdit()
        # not the MRN itself: greyed in the field, it looked filled in already
        self.confirm.setPlaceholderText("as shown above")
        self.confirm.setAccessibleName("Type the MRN again")
        form.addRow("Type the &MRN again:", self.confirm)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. test patient entered in the live database")
        self.reason.setAccessibleName("Reason")
        # the example whole, at any font size (it was cut off at 1280×720)
        self.reason.setMinimumWidth(
            self.reason.fontMetrics().horizontalAdvance(self.reason.placeholderText()) + 24
        )
        form.addRow("&Reason (not the patient's name):", self.reason)
        layout.addLayout(form)
        self.signed = QCheckBox("Also erase &signed reviews (only where no retention duty applies)")
        layout.addWidget(self.signed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        # a destructive button is never the default (an accepting one became it when shown):
        # Return after typing the reason neither erases nor cancels
        self.erase_button = buttons.addButton("&Erase", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.erase_button.setEnabled(False)
        for button in buttons.findChildren(QPushButton):
            button.setAutoDefault(False)
        self.erase_button.clicked.connect(self._erase)
        buttons.rejected.connect(self.reject)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        layout.addWidget(buttons)
        self.confirm.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self.confirm.setFocus()

    def _erase(self) -> None:
        if self.attempt is None:
            self.accept()
            return
        self._set_busy(True)
        self.attempt(self)

    def erased(self) -> None:
        """The erasure is done: the dialog closes."""
        self._set_busy(False)
        self.accept()

    def refused(self) -> None:
        """The erasure was refused (the reason is shown over the dialog): the dialog stays
        open with the MRN and reason as typed, to tick a box or reword the reason."""
        self._set_busy(False)
        self.reason.setFocus()

    def reject(self) -> None:
        if not self.busy:  # Esc or Cancel while the erasure runs: it is answered first
            super().reject()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in (self.confirm, self.reason, self.signed, self.cancel_button):
            widget.setEnabled(not busy)
        if busy:
            self.erase_button.setEnabled(False)
        else:
            self._update()

    def _update(self) -> None:
        self.erase_button.setEnabled(
            not self.busy
            and self.confirm.text().strip() == self.mrn
            and len(" ".join(self.reason.text().split())) >= REASON_MIN
        )
