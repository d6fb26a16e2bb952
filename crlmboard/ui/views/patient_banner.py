"""The patient banner: whose record is on screen, as clinical systems show it — FAMILY name
in capitals, given name, MRN, birth date with age, sex.  One widget, shown above the open
case's tabs and at the top of every dialog that writes a record, so the identity check a
nurse makes before every action is the same everywhere; the same words name the patient in
window titles and undo steps."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from crlmboard.domain import models as m
from crlmboard.domain.labels import value_label
from crlmboard.ui.forms import locale_date


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def patient_name(patient: m.Patient) -> str:
    """`FAMILY, Given` (the MRN when the record has no name yet)."""
    family = (patient.family_name or "").upper()
    name = ", ".join(part for part in (family, patient.given_name or "") if part)
    return name or patient.mrn


def banner_text(patient: m.Patient, today: dt.date) -> str:
    """`DEMOSON, Lukas · MRN DS-0001 · born 14/05/1962 (64 y) · male`.  The name is a
    Unicode isolate (FSI … PDI) after a left-to-right mark: a right-to-left name reads right
    to left inside it, and the line keeps its order (name first; Qt takes a line's
    direction from its first strong letter, which was the Arabic name's in the
    screenshots)."""
    parts = [f"\u200e\u2068{patient_name(patient)}\u2069", f"MRN {patient.mrn}"]
    birth = patient.birth_date
    if birth is not None:
        parts.append(f"born {locale_date(birth)} ({_age(birth, today)} y)")
    else:
        parts.append("birth date not recorded")
    parts.append(value_label(patient.sex, "sex not recorded").lower())
    return "  ·  ".join(parts)


class PatientBanner(QLabel):
    """One line naming the patient whose record is shown (hidden when there is none)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("patientBanner")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)
        # the palette's own colours (readable in a dark palette), a frame and bold text
        self.setStyleSheet(
            "QLabel#patientBanner { font-weight: bold; padding: 4px 8px;"
            " border: 1px solid palette(mid); border-radius: 3px;"
            " background: palette(alternate-base); }"
        )
        self.setAccessibleName("Patient")
        self.hide()

    def show_patient(self, patient: m.Patient | None, today: dt.date) -> None:
        if patient is None:
            self.clear()
            self.hide()
            return
        self.setText(banner_text(patient, today))
        self.show()
