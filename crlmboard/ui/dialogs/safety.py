"""Data-safety windows: a case's history (who changed what, when), the database check
report, and the list of backups to restore from."""

from __future__ import annotations

import json
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
# the database's keys: no one's record, only how rows point at each other
HIDDEN_COLUMNS = frozenset({"id", "case_id"})
# records no one typed: derived by crlmboard from the case (audited so `check` sees a change)
DERIVED_RECORDS = {"engine_comparison": "older engines' comparison (made by crlmboard)"}


def _record(entry: Any) -> str:
    if entry.table in DERIVED_RECORDS:
        return DERIVED_RECORDS[entry.table]
    return f"{entry.table.replace('_', ' ')} {entry.record_id or ''}"


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


def _values(values: dict[str, Any] | None, fields: list[str]) -> str:
    if not values:
        return ""
    shown = {k: values.get(k) for k in fields if k in values} or values
    labels = _labels()
    return "; ".join(
        f"{labels.get(k, k.replace('_', ' '))}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in shown.items()
        if k not in HIDDEN_COLUMNS
    )[:300]


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
    """Every audited change of one case, oldest first."""

    def __init__(self, mrn: str, entries: list[Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"History of case {mrn}")
        self.resize(1100, 560)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"{len(entries)} recorded change(s). Times are UTC; the audit "
                "trail is hash-chained and cannot be edited."
            )
        )
        self.model = RecordTableModel(
            [
                ("When (UTC)", lambda e: e.at.strftime("%Y-%m-%d %H:%M:%S")),
                ("Who", lambda e: f"{e.app_user} ({e.os_login}@{e.host})"),
                ("Action", lambda e: ACTIONS.get(e.action, e.action)),
                ("Record", _record),
                ("Before", lambda e: _values(e.before, e.fields)),
                ("After", lambda e: _values(e.after, e.fields)),
            ],
            self,
        )
        self.model.set_records(entries)
        self.view = _table(self.model)
        for column, width in enumerate((150, 200, 70, 150, 240)):
            self.view.setColumnWidth(column, width)
        layout.addWidget(self.view, 1)
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
