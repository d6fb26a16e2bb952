"""Data-safety windows: a case's history (who changed what, when), the database check
report, and the list of backups to restore from."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crlmboard.ui.forms import read_only_table
from crlmboard.ui.models.records import RecordTableModel

# the audit trail's words for what happened -> the history's
ACTIONS = {"insert": "added", "update": "changed", "delete": "removed"}
# the database's keys and a list's order: no one's record, only how rows point at each
# other (the ones that point at a meeting, a scan or a review are named by `_Names`)
HIDDEN_COLUMNS = frozenset(
    {"id", "case_id", "row_id", "position", "meeting_id", "timepoint_id", "review_id"}
    | {"agenda_item_id"}
)
# records no one typed: derived by crlmboard from the case (audited so `check` sees a change)
DERIVED_RECORDS = {"engine_comparison": "older engines' comparison (made by crlmboard)"}
# the case list's summary of a case, worked out by crlmboard and stored with the patient
# (recomputed when the day or the profile changes, under the account running the program)
DERIVED_FIELDS = {
    "current_response": "Response (worked out)",
    "open_criticals": "Critical findings (worked out)",
    "open_warnings": "Warnings (worked out)",
    "resectability": "Resectability (worked out)",
    "liver_metastases_diagnosis_date": "Liver metastases diagnosed (worked out)",
}
RECOMPUTED = "recomputed by crlmboard"
# a record's own date, by the name its table gives it
DATE_FIELDS = ("date", "detected_on", "tested_on", "diagnosis_date", "meeting_date")


@cache
def _labels() -> dict[str, str]:
    """Every record field's label by its name, as the forms show it (`cea_ng_ml` ->
    "CEA")."""
    from pydantic import BaseModel

    from crlmboard.domain import models as m

    found: dict[str, str] = {}
    for value in vars(m).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            for name in value.model_fields:
                label = m.field_label(value, name)
                if label != name.replace("_", " "):
                    found.setdefault(name, label)
    return found


@cache
def _choices() -> dict[str, frozenset[str]]:
    """The coded values of every choice field, by field name (`t` -> t1, t2, ...)."""
    from pydantic import BaseModel

    from crlmboard.domain import models as m

    found: dict[str, set[str]] = {}
    for value in vars(m).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            for spec in m.field_specs(value):
                if spec.choices:
                    found.setdefault(spec.name, set()).update(spec.choices)
    return {name: frozenset(codes) for name, codes in found.items()}


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _shown(name: str, value: Any) -> str:
    """One stored value as the forms show it: codes as the clinic writes them (T3, CT),
    yes/no, lists without brackets; free text in quotes, so its ends can be seen."""
    from crlmboard.ui.forms import code_text

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if value in _choices().get(name, ()):
            return code_text(value)
        if _ISO_DAY.fullmatch(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ", ".join(_shown(name, v) for v in value) or "none"
    return json.dumps(value, ensure_ascii=False)


class _Names:
    """What the history calls the records it lists: by their date, the scan a lesion was
    measured on, the meeting an agenda item or review belongs to — never a database key.
    Read from the case's own history (every record was added in it) and the meetings."""

    def __init__(self, entries: list[Any], meetings: dict[int, str]):
        self.meetings = meetings
        self.values: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in entries:
            key = (entry.table, str(entry.record_id))
            known = self.values.setdefault(key, {})
            known.update(entry.before or {})
            known.update(entry.after or {})

    def _of(self, table: str, record_id: Any) -> dict[str, Any]:
        return self.values.get((table, str(record_id)), {})

    def meeting(self, meeting_id: Any) -> str:
        if meeting_id is None:
            return "—"
        return self.meetings.get(int(meeting_id), "a meeting since deleted")

    def scan(self, timepoint_id: Any) -> str:
        return str(self._of("imaging_timepoint", timepoint_id).get("date") or "—")

    def review(self, review_id: Any) -> str:
        review = self._of("review", review_id)
        return f"the review of the meeting of {review.get('meeting_date') or '—'}"

    def record(self, entry: Any) -> str:
        """`lab result of 2026-10-27`, `agenda item, meeting of 2026-12-14 16:00`."""
        if entry.table in DERIVED_RECORDS:
            return DERIVED_RECORDS[entry.table]
        words = entry.table.replace("_", " ")
        values = self._of(entry.table, entry.record_id)
        if entry.table == "lesion_measurement":
            scan = self.scan(values.get("timepoint_id"))
            return f"{words} {values.get('id', '')}, imaging of {scan}"
        if entry.table == "agenda_item":
            return f"{words}, meeting of {self.meeting(values.get('meeting_id'))}"
        if entry.table == "review":
            return f"{words}, meeting of {values.get('meeting_date') or '—'}"
        if entry.table in ("review_follow_up", "review_draft"):
            review = values.get(
                "review_id", entry.record_id if entry.table == "review_follow_up" else None
            )
            if review is not None:
                return f"{words} of {self.review(review)}"
            item = self._of("agenda_item", values.get("agenda_item_id"))
            return f"{words}, meeting of {self.meeting(item.get('meeting_id'))}"
        day = next((values[f] for f in DATE_FIELDS if values.get(f)), None)
        return f"{words} of {day}" if day else words

    @staticmethod
    def action(entry: Any) -> str:
        """ "added", "changed", "removed" — or, for the summary crlmboard keeps with the
        patient, that crlmboard worked it out again (no one typed it)."""
        if (
            entry.table == "patient"
            and entry.action == "update"
            and entry.fields
            and set(entry.fields) <= DERIVED_FIELDS.keys()
        ):
            return RECOMPUTED
        return ACTIONS.get(str(entry.action), str(entry.action))

    def values_text(
        self,
        values: dict[str, Any] | None,
        fields: list[str],
        sep: str = "; ",
        cut: int = 300,
        table: str = "",
    ) -> str:
        """The values a change wrote (or removed), labelled as the forms label them."""
        if not values:
            return ""
        shown = {k: values.get(k) for k in fields if k in values} or values
        labels = {**_labels(), **(DERIVED_FIELDS if table == "patient" else {})}
        parts = []
        for key, value in shown.items():
            if key == "meeting_id":
                parts.append(f"Meeting: {self.meeting(value)}")
            elif key == "timepoint_id":
                parts.append(f"Imaging: {self.scan(value)}")
            elif key == "review_id" and value is not None:
                parts.append(f"Review: {self.review(value)}")
            elif key not in HIDDEN_COLUMNS or (key == "id" and isinstance(value, str)):
                # a lesion's id is its name (L1); other ids are the database's
                parts.append(f"{labels.get(key, key.replace('_', ' '))}: {_shown(key, value)}")
        return sep.join(parts)[:cut]


def meeting_name(fields: Any) -> str:
    """`2026-12-14 16:00, Room 3`: a meeting as the meetings list names it."""
    when = " ".join(str(p) for p in (fields.date.isoformat(), fields.time) if p)
    return ", ".join(p for p in (when, fields.location) if p)


# why a backup was made, as its manifest records it -> as the list says it
BACKUP_REASONS = {
    "open": "on opening the database",
    "close": "on closing the database",
}


def backup_reason(reason: str | None) -> str:
    """Why a backup was made, in words ("open" -> "on opening the database")."""
    return BACKUP_REASONS.get(reason or "", reason or "")


def _table(model: RecordTableModel) -> QTableView:
    view = read_only_table(model)
    view.setWordWrap(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class HistoryDialog(QDialog):
    """Every audited change of one case, oldest first.  `meetings`: each meeting's name by
    its id (an agenda item names its meeting); `patient`: whose history it is, in the
    title and a patient banner."""

    def __init__(
        self,
        mrn: str,
        entries: list[Any],
        parent: QWidget | None = None,
        *,
        meetings: dict[int, str] | None = None,
        patient: Any = None,
        today: dt.date | None = None,
    ):
        from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

        super().__init__(parent)
        # the name isolated (as in the banner): a right-to-left name keeps "(MRN)" after it
        whose = (
            f"\u2068{patient_name(patient)}\u2069 ({mrn})" if patient is not None else f"case {mrn}"
        )
        self.setWindowTitle(f"History of {whose}")
        self.resize(1100, 560)
        layout = QVBoxLayout(self)
        if patient is not None:
            banner = PatientBanner()
            banner.show_patient(patient, today or dt.date.today())
            layout.addWidget(banner)
        layout.addWidget(
            QLabel(
                f"{len(entries)} recorded change(s). Times are UTC; the audit "
                "trail is hash-chained and cannot be edited."
            )
        )
        names = _Names(entries, meetings or {})
        self.model = RecordTableModel(
            [
                ("When (UTC)", lambda e: e.at.strftime("%Y-%m-%d %H:%M:%S")),
                ("Who", lambda e: f"{e.app_user} ({e.os_login}@{e.host})"),
                ("Action", names.action),
                ("Record", names.record),
                ("Before", lambda e: names.values_text(e.before, e.fields, table=e.table)),
                ("After", lambda e: names.values_text(e.after, e.fields, table=e.table)),
            ],
            self,
        )
        self.model.set_records(entries)
        self.view = _table(self.model)
        for column, width in enumerate((140, 150, 60, 230, 240)):
            self.view.setColumnWidth(column, width)
        layout.addWidget(self.view, 3)
        # the chosen change in full, one value a line (the table's cells cut long values)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("The chosen change in full")
        layout.addWidget(self.details, 2)

        def chosen(current: Any, _previous: Any = None) -> None:
            if not current.isValid() or not 0 <= current.row() < len(entries):
                self.details.setPlainText("")
                return
            entry = entries[current.row()]
            text = [f"{names.record(entry)}: {names.action(entry)}"]
            for heading, values in (("Before", entry.before), ("After", entry.after)):
                shown = names.values_text(values, entry.fields, "\n  ", 100_000, entry.table)
                if shown:
                    text.append(f"{heading}:\n  {shown}")
            self.details.setPlainText("\n".join(text))

        self.view.selectionModel().currentRowChanged.connect(chosen)
        if entries:
            self.view.setCurrentIndex(self.model.index(0, 0))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class CheckReportDialog(QDialog):
    """The result of Tools ▸ Check database."""

    def __init__(self, report: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Database check")
        self.resize(760, 480)
        layout = QVBoxLayout(self)
        verdict = QLabel(
            "No problem found."
            if report.ok
            else f"{len(report.problems)} problem(s) found: restore a verified backup "
            "(File ▸ Restore…) or ask your IT support before entering more data."
        )
        verdict.setWordWrap(True)
        font = verdict.font()
        font.setBold(True)
        verdict.setFont(font)
        icon = self.style().standardIcon(
            self.style().StandardPixmap.SP_DialogApplyButton
            if report.ok
            else self.style().StandardPixmap.SP_MessageBoxCritical
        )
        verdict_icon = QLabel()
        verdict_icon.setPixmap(icon.pixmap(32, 32))
        layout.addWidget(verdict_icon)
        layout.addWidget(verdict)
        text = QPlainTextEdit("\n".join(report.lines()))
        text.setReadOnly(True)
        layout.addWidget(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class RestoreDialog(QDialog):
    """The backups of this database, newest first; OK restores the chosen one."""

    def __init__(self, backups: list[Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        self.resize(820, 420)
        self.backups = backups
        layout = QVBoxLayout(self)
        note = QLabel(
            "Choose a backup to put in place of the database. The current state is "
            "backed up first, so a restore can itself be undone."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.model = RecordTableModel(
            [
                (
                    "Made (UTC)",
                    lambda b: b.created.strftime("%Y-%m-%d %H:%M") if b.created else "?",
                ),
                ("Patients", lambda b: "" if b.patients is None else b.patients),
                ("Schema", lambda b: b.schema or ""),
                ("Why", lambda b: backup_reason(b.reason)),
                ("State", lambda b: "verified" if b.verified else f"NOT usable: {b.problem}"),
            ],
            self,
        )
        self.model.set_records(backups)
        self.view = _table(self.model)
        # the time a backup was made is what one chooses by: never cut to "2026-12-07 …"
        self.view.resizeColumnsToContents()
        layout.addWidget(self.view, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restore")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if backups:
            self.view.selectRow(0)

    def chosen(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        backup = self.backups[rows[0].row()]
        return backup if backup.verified else None

    def accept(self) -> None:
        if self.chosen() is None:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        super().accept()
