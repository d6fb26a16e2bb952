"""Edit one imaging timepoint: its fields (modality, volumetry) and its lesion measurements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
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
from crlmboard.domain.validation import Problem, problems_from_error
from crlmboard.ui.forms import RecordForm

COLUMNS = [spec for spec in m.field_specs(m.LesionMeasurement)]


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
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
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
                    [(c.replace("_", " "), c) for c in spec.choices]
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
                                Problem(f"lesions[{row}].{spec.name}", "must be a number")
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

    def accept(self) -> None:
        fields = self.form.record()
        lesions, problems = self.lesions()
        self.problems_label.setText("\n".join(str(p) for p in problems))
        if fields is None or problems:
            return
        self.result_timepoint = ImagingTimepoint(
            **{name: getattr(fields, name) for name in m.ImagingTimepointFields.model_fields},
            lesions=lesions,
        )
        super().accept()
