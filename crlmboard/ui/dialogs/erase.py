"""Erase patient for good: the confirmation (the MRN typed again, a reason that does not
name the patient, signed reviews only when asked) before `board.erasure.erase`."""

from __future__ import annotations

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

REASON_MIN = 10  # the service's minimum (services/erasure.py), checked again there


class EraseDialog(QDialog):
    """Asks for the MRN again and a reason; Erase is offered only when both are given."""

    def __init__(self, mrn: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.mrn = mrn
        self.setWindowTitle("Erase patient for good")
        layout = QVBoxLayout(self)
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
        self.erase_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.confirm.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self.confirm.setFocus()

    def _update(self) -> None:
        self.erase_button.setEnabled(
            self.confirm.text().strip() == self.mrn
            and len(" ".join(self.reason.text().split())) >= REASON_MIN
        )
