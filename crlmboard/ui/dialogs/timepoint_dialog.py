"""Edit one imaging timepoint: its fields (modality, volumetry) and its lesion measurements."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain import models as m
from crlmboard.domain.case import ImagingTimepoint
from crlmboard.domain.labels import value_label
from crlmboard.domain.validation import Problem, problems_from_error
from crlmboard.ui.forms import RecordForm, problems_text

COLUMNS = [spec for spec in m.field_specs(m.LesionMeasurement)]
BAD_CELL = Qt.ItemDataRole.UserRole + 1
"""Item data: the cell holds a value the lesion was refused for."""


class TimepointDialog(QDialog):
    """`result_timepoint` holds the validated timepoint after OK."""

    def __init__(
        self,
        timepoint: ImagingTimepoint,
        title: str,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(900, 600)
        self.result_timepoint: ImagingTimepoint | None = None
        layout = QVBoxLayout(self)
        self.form = RecordForm(m.ImagingTimepointFields)
        if today is not None:
            self.form.today = today
        self.form.set_record(timepoint)
        layout.addWidget(self.form)
        self.flr = QLabel()
        layout.addWidget(self.flr)
        self.form.edited.connect(self._update_flr)

        layout.addWidget(
            QLabel(
                "Lesion measurements (one row per lesion; the same id at two "
                "dates is the same lesion)"
            )
        )
        self.table = QTableWidget(0, len(COLUMNS))
        headers = [spec.label + (f" ({spec.unit})" if spec.unit else "") for spec in COLUMNS]
        self.table.setHorizontalHeaderLabels(headers)
        header = self.table.horizontalHeader()  # every heading readable in full
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        for lesion in timepoint.lesions:
            self._add_row(lesion)
        row = QHBoxLayout()
        add = QPushButton("Add lesion")
        add.clicked.connect(lambda: self._add_row(None))
        remove = QPushButton("Remove lesion")
        remove.clicked.connect(self._remove_row)
        row.addStretch(1)
        row.addWidget(add)
        row.addWidget(remove)
        layout.addLayout(row)
        self.problems_label = QLabel()
        self.problems_label.setStyleSheet("color: #b00020;")
        self.problems_label.setWordWrap(True)
        layout.addWidget(self.problems_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._update_flr()

    def _update_flr(self) -> None:
        values, _ = self.form.values()
        total, flr = values.get("total_liver_volume_ml"), values.get("flr_volume_ml")
        if values.get("flr_percent") is None and total and flr is not None:
            self.flr.setText(
                f"Future liver remnant from the volumes: {round(flr / total * 100, 1):g} %"
            )
        else:
            self.flr.setText("")

    def _add_row(self, lesion: m.LesionMeasurement | None) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        if lesion is None:
            ids = {self._text(r, 0) for r in range(row)}
            number = 1
            while f"L{number}" in ids:
                number += 1
            lesion = m.LesionMeasurement(id=f"L{number}", status=m.LesionStatus.PRESENT)
        for column, spec in enumerate(COLUMNS):
            value = getattr(lesion, spec.name)
            if spec.kind in ("choice", "flag"):
                combo = QComboBox()
                combo.addItem("—", None)
                options: list[tuple[str, Any]] = (
                    [(value_label(c), c) for c in spec.choices]
                    if spec.kind == "choice"
                    else [("yes", True), ("no", False)]
                )
                for text, data in options:
                    combo.addItem(text, data)
                for index in range(combo.count()):
                    if combo.itemData(index) == value:
                        combo.setCurrentIndex(index)
                self.table.setCellWidget(row, column, combo)
            else:
                shown = (
                    ""
                    if value is None
                    else (f"{value:g}" if isinstance(value, float) else str(value))
                )
                self.table.setItem(row, column, QTableWidgetItem(shown))

    def _remove_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def lesions(self) -> tuple[list[m.LesionMeasurement], list[Problem]]:
        lesions: list[m.LesionMeasurement] = []
        problems: list[Problem] = []
        seen: set[str] = set()
        for row in range(self.table.rowCount()):
            values: dict[str, Any] = {}
            for column, spec in enumerate(COLUMNS):
                widget = self.table.cellWidget(row, column)
                if isinstance(widget, QComboBox):
                    value = widget.currentData()
                else:
                    text = self._text(row, column)
                    value = text or None
                    if text and spec.kind in ("integer", "number"):
                        try:
                            value = (
                                int(text)
                                if spec.kind == "integer"
                                else float(text.replace(",", "."))
                            )
                        except ValueError:
                            problems.append(
                                Problem(
                                    f"lesions[{row}].{spec.name}",
                                    "must be a whole number"
                                    if spec.kind == "integer"
                                    else "must be a number",
                                )
                            )
                            continue
                if value is not None:
                    values[spec.name] = value
            try:
                lesion = m.LesionMeasurement.model_validate(values)
            except ValidationError as error:
                problems.extend(problems_from_error(error, f"lesions[{row}]"))
                continue
            if lesion.id in seen:
                problems.append(
                    Problem(
                        f"lesions[{row}].id", f"lesion {lesion.id} appears twice at this timepoint"
                    )
                )
            seen.add(lesion.id)
            lesions.append(lesion)
        return lesions, problems

    def show_problems(self, problems: list[Problem]) -> None:
        """List the lesion problems as the grid shows them (`Row 2, Longest diameter: …`,
        rows counted from 1) and mark each bad cell; the first one gets the focus."""
        for row in range(self.table.rowCount()):
            for column in range(self.table.columnCount()):
                self._mark(row, column, None)
        first: tuple[int, int] | None = None
        for problem in problems:
            found = re.match(r"lesions\[(\d+)\]\.(\w+)", problem.path)
            if not found:
                continue
            bad_row, name = int(found[1]), found[2]
            bad_column = next((i for i, s in enumerate(COLUMNS) if s.name == name), None)
            if bad_column is None:
                continue
            self._mark(bad_row, bad_column, problem.message)
            first = first or (bad_row, bad_column)
        self.problems_label.setText(problems_text(problems, m.ImagingTimepointFields))
        self.problems_label.setVisible(bool(problems))
        if first is not None:  # focus on the first bad cell, its tint left visible
            self.table.clearSelection()
            self.table.selectionModel().setCurrentIndex(
                self.table.model().index(*first), QItemSelectionModel.SelectionFlag.NoUpdate
            )
            self.table.setFocus()

    def _mark(self, row: int, column: int, reason: str | None) -> None:
        """A bad cell: tinted, with its reason as tooltip (and the list below says it)."""
        widget = self.table.cellWidget(row, column)
        if widget is not None:
            widget.setStyleSheet("background: #f8d7da;" if reason else "")
            widget.setToolTip(reason or "")
            return
        item = self.table.item(row, column)
        if item is None and not reason:
            return
        if item is None:
            item = QTableWidgetItem("")
            self.table.setItem(row, column, item)
        item.setBackground(QColor("#f8d7da") if reason else QBrush())
        item.setToolTip(reason or "")
        item.setData(BAD_CELL, bool(reason))

    def accept(self) -> None:
        fields = self.form.record()
        lesions, problems = self.lesions()
        self.show_problems(problems)
        if fields is None or problems:
            return
        self.result_timepoint = ImagingTimepoint(
            **{name: getattr(fields, name) for name in m.ImagingTimepointFields.model_fields},
            lesions=lesions,
        )
        super().accept()
