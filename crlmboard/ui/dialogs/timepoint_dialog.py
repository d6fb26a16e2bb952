"""Edit one imaging timepoint: its fields (modality, volumetry) and its lesion measurements.

A new timepoint starts from the previous one's lesions: its measurements are shown as
copied (grey, italic, "copied from <date>") and the dialog is not saved until each is
confirmed (Ctrl+Enter confirms the row in focus) or retyped.  Its date starts empty: the
scan's date is typed, never assumed to be today."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QBrush, QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
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
from crlmboard.ui import copied
from crlmboard.ui.colours import colour, problem_style
from crlmboard.ui.discard import discard_typed
from crlmboard.ui.forms import RecordForm, date_hint, locale_date, problems_text
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

COLUMNS = [spec for spec in m.field_specs(m.LesionMeasurement)]
BAD_CELL = Qt.ItemDataRole.UserRole + 1
"""Item data: the cell holds a value the lesion was refused for."""
MEASURED = ("longest_diameter_mm", "depth_mm", "morphology_group", "status")
"""What is measured anew at each scan (copied values to confirm); the lesion's id, segment
and target choice name the lesion and carry over as they are."""


class TimepointDialog(QDialog):
    """`result_timepoint` holds the validated timepoint after OK.

    `copied_from` is the date of the timepoint whose values `timepoint` was prefilled
    with (a new timepoint); those values must be confirmed or changed before OK."""

    def __init__(
        self,
        timepoint: ImagingTimepoint,
        title: str,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
        patient: m.Patient | None = None,
        copied_from: dt.date | None = None,
    ):
        super().__init__(parent)
        # whose record this writes: "Add imaging timepoint — DEMOSON, Lukas"
        self.setWindowTitle(title if patient is None else f"{title} — {patient_name(patient)}")
        self.resize(1100, 640)
        self.result_timepoint: ImagingTimepoint | None = None
        self.source = locale_date(copied_from) if copied_from is not None else ""
        self._styling = False  # the dialog itself is changing a cell's look
        self._grid_typed = False  # a lesion row typed in, chosen, confirmed, added or removed
        layout = QVBoxLayout(self)
        self.banner = PatientBanner()
        if patient is not None:
            self.banner.show_patient(patient, today or dt.date.today())
        layout.addWidget(self.banner)
        self.copied_note = QLabel()
        self.copied_note.setWordWrap(True)
        self.copied_note.setObjectName("copiedNote")
        layout.addWidget(self.copied_note)
        self.form = RecordForm(m.ImagingTimepointFields)
        if today is not None:
            self.form.today = today
        self.form.set_record(timepoint)
        date_line = self.form.editors["date"].line
        if date_line is not None and not date_line.text():
            date_line.setPlaceholderText(f"date of the scan: {date_hint()}")
        layout.addWidget(self._in_two_columns(self.form))
        self.flr = QLabel()
        self.flr.hide()  # shown with a figure only: the lesion table gets the room
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
            self._add_row(lesion, from_before=bool(self.source))
        self.table.itemChanged.connect(self._cell_changed)
        self.table.itemDelegate().commitData.connect(self._cell_committed)
        row = QHBoxLayout()
        self.count_label = QLabel()
        self.count_label.setObjectName("copiedCount")
        row.addWidget(self.count_label)
        row.addStretch(1)
        self.confirm_button = QPushButton(f"Confirm row ({copied.CONFIRM_KEY_TEXT})")
        self.confirm_button.setToolTip(
            "Keep the copied values of the selected lesion row: they were measured "
            "unchanged on this scan"
        )
        self.confirm_button.clicked.connect(self.confirm_current)
        add = QPushButton("Add lesion")
        add.clicked.connect(self._add_lesion)
        remove = QPushButton("Remove lesion")
        remove.clicked.connect(self._remove_row)
        row.addWidget(self.confirm_button)
        row.addWidget(add)
        row.addWidget(remove)
        layout.addLayout(row)
        self.problems_label = QLabel()
        self.problems_label.setStyleSheet(problem_style())
        self.problems_label.setWordWrap(True)
        layout.addWidget(self.problems_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.cancel)
        layout.addWidget(self.buttons)
        for key in copied.CONFIRM_KEYS:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(self.confirm_current)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.accept)
        modality = self.form.editors["modality"].combo
        if self.source and modality is not None and modality.currentData() is not None:
            copied.mark_widget(modality, self.source)
            modality.activated.connect(lambda _i: self._confirm_widget(modality))
            modality.currentIndexChanged.connect(lambda _i: self._confirm_widget(modality))
        if self.source:
            self.copied_note.setText(
                f"Values in grey italics are copied from {self.source} (the previous "
                "timepoint), not measured on this scan. Type the new value, or press "
                f"{copied.CONFIRM_KEY_TEXT} to confirm the copied values of the row in "
                "focus (in the Modality field: the modality). The dialog is saved only "
                "when none is left."
            )
        self.copied_note.setVisible(bool(self.source))
        self._update_flr()
        self._update_copied()

    @staticmethod
    def _in_two_columns(form: RecordForm) -> QWidget:
        """The timepoint's fields side by side in two columns (the study, then the liver's
        volumes), so that the lesion table below gets the height: in one column at
        1280×720 it showed two lesions at a time.  The editors stay the form's."""
        box = QWidget()
        columns = QHBoxLayout(box)
        columns.setContentsMargins(0, 0, 0, 0)
        right = QFormLayout()
        right.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        fields = len(form.editors)
        # the last row is the form's own line for other problems: it stays in the left
        for _ in range(fields - (fields + 1) // 2):
            row = form.layout_.takeRow((fields + 1) // 2)
            label = row.labelItem.widget() if row.labelItem is not None else None
            field = row.fieldItem.widget() if row.fieldItem is not None else None
            if label is not None and field is not None:
                right.addRow(label, field)
        columns.addWidget(form, 1)
        holder = QWidget()
        holder.setLayout(right)
        right.setContentsMargins(0, 0, 0, 0)
        columns.addWidget(holder, 1)
        columns.setAlignment(holder, Qt.AlignmentFlag.AlignTop)
        columns.setAlignment(form, Qt.AlignmentFlag.AlignTop)
        return box

    def _update_flr(self) -> None:
        values, _ = self.form.values()
        total, flr = values.get("total_liver_volume_ml"), values.get("flr_volume_ml")
        if values.get("flr_percent") is None and total and flr is not None:
            self.flr.setText(
                f"Future liver remnant from the volumes: {round(flr / total * 100, 1):g} %"
            )
        else:
            self.flr.setText("")
        self.flr.setVisible(bool(self.flr.text()))

    def _add_row(self, lesion: m.LesionMeasurement | None, *, from_before: bool = False) -> None:
        """A lesion row; `from_before`: its measurements are copied from the last scan."""
        row = self.table.rowCount()
        self._styling = True  # a row being filled: nothing typed yet
        try:
            self._fill_row(row, lesion, from_before)
        finally:
            self._styling = False
        self._update_copied()

    def _fill_row(self, row: int, lesion: m.LesionMeasurement | None, from_before: bool) -> None:
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
                combo.currentIndexChanged.connect(self._grid_changed)
                if from_before and spec.name in MEASURED and value is not None:
                    copied.mark_widget(combo, self.source)
                    combo.activated.connect(lambda _i, c=combo: self._confirm_widget(c))
                    combo.currentIndexChanged.connect(lambda _i, c=combo: self._confirm_widget(c))
            else:
                shown = (
                    ""
                    if value is None
                    else (f"{value:g}" if isinstance(value, float) else str(value))
                )
                item = QTableWidgetItem(shown)
                if from_before and spec.name in MEASURED and value is not None:
                    copied.mark_item(item, self.source)
                self.table.setItem(row, column, item)

    def _cell_widget(self, row: int, column: int) -> QComboBox | None:
        """The choice a cell holds (its combo box), None for a typed cell — also while it
        is being typed in: the grid answers `cellWidget` with its editor then."""
        widget = self.table.cellWidget(row, column)
        return widget if isinstance(widget, QComboBox) else None

    # -- copied values ----------------------------------------------------------------

    def copied_cells(self) -> list[tuple[int, int]]:
        """(row, column) of each copied value in the grid not yet confirmed or changed."""
        cells = []
        for row in range(self.table.rowCount()):
            for column in range(self.table.columnCount()):
                widget = self._cell_widget(row, column)
                if widget is not None:
                    if copied.widget_source(widget):
                        cells.append((row, column))
                elif copied.item_source(self.table.item(row, column)):
                    cells.append((row, column))
        return cells

    def copied_count(self) -> int:
        """Copied values left to confirm (the grid's and the modality)."""
        modality = self.form.editors["modality"].combo
        own = 1 if modality is not None and copied.widget_source(modality) else 0
        return len(self.copied_cells()) + own

    def _update_copied(self) -> None:
        if not hasattr(self, "buttons"):
            return  # still being built
        count = self.copied_count()
        self.count_label.setText(copied.count_text(count))
        self.count_label.setVisible(bool(count))
        self.confirm_button.setEnabled(bool(count))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(count == 0)
        ok.setToolTip(
            f"{copied.count_text(count)} first ({copied.CONFIRM_KEY_TEXT} on each row)"
            if count
            else ""
        )

    def _cell_changed(self, item: QTableWidgetItem) -> None:
        """A value typed (or pasted) into a copied cell is the user's own."""
        if not self._styling:
            self._grid_typed = True
        if not self._styling and copied.item_source(item):
            self._unmark(item.row(), item.column())

    def _grid_changed(self) -> None:
        self._grid_typed = True

    def _add_lesion(self) -> None:
        """Add lesion: a new row, typed in by the user."""
        self._grid_changed()
        self._add_row(None)

    def _cell_committed(self, _editor: QWidget) -> None:
        """The same value typed again is confirmed too (the grid reports no change)."""
        index = self.table.currentIndex()
        if index.isValid() and copied.item_source(self.table.item(index.row(), index.column())):
            self._unmark(index.row(), index.column())

    def _unmark(self, row: int, column: int) -> None:
        widget = self._cell_widget(row, column)
        if widget is not None:
            self._confirm_widget(widget)
            return
        item = self.table.item(row, column)
        if item is not None:
            self._styling = True
            try:
                copied.mark_item(item, None)
            finally:
                self._styling = False
        self._update_copied()

    def _confirm_widget(self, widget: QWidget) -> None:
        if copied.widget_source(widget):
            bad = "background: #f8d7da;" if widget.property("bad") else ""
            copied.mark_widget(widget, None, extra_style=bad)
            if widget.property("bad_reason"):
                widget.setToolTip(str(widget.property("bad_reason")))
            self._update_copied()

    def confirm_row(self, row: int) -> None:
        """Keep the copied values of lesion row `row` (counted from 0) as measured."""
        self._grid_typed = True
        for column in range(self.table.columnCount()):
            self._unmark(row, column)

    def confirm_current(self) -> None:
        """Ctrl+Enter: confirm the copied values of the row in focus (or the modality when
        it has the focus); the next row with copied values becomes the current one."""
        modality = self.form.editors["modality"].combo
        if modality is not None and modality.hasFocus():
            self._confirm_widget(modality)
            return
        row = self.table.currentRow()
        if row < 0:
            self.problems_label.setText(
                f"Select a lesion row, then press {copied.CONFIRM_KEY_TEXT} to confirm its "
                "copied values."
            )
            return
        self.confirm_row(row)
        rows = sorted({r for r, _c in self.copied_cells()})
        following = [r for r in rows if r > row] or rows
        if following:
            self.table.setCurrentCell(following[0], max(self.table.currentColumn(), 0))

    def _remove_row(self) -> None:
        self._grid_changed()
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        self._update_copied()

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
                widget = self._cell_widget(row, column)
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
            measured = lesion.status in (None, m.LesionStatus.PRESENT, m.LesionStatus.DISAPPEARED)
            if lesion.target and lesion.longest_diameter_mm is None and measured:
                # RECIST could not read the scan: the sum needs every target's diameter
                problems.append(
                    Problem(
                        f"lesions[{row}].longest_diameter_mm",
                        f"target lesion {lesion.id} needs its longest diameter "
                        "(0 if it has disappeared)",
                    )
                )
                continue
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
        """A bad cell: tinted, with its reason as tooltip (and the list below says it);
        a copied value keeps its grey italics."""
        widget = self._cell_widget(row, column)
        if widget is not None:
            source = copied.widget_source(widget)
            widget.setProperty("bad", bool(reason))
            widget.setProperty("bad_reason", reason or "")
            copied.mark_widget(
                widget,
                source or None,
                extra_style=f"background: {colour('bad_cell').name()};" if reason else "",
            )
            if reason:
                widget.setToolTip(reason)
            return
        item = self.table.item(row, column)
        if item is None and not reason:
            return
        self._styling = True
        try:
            if item is None:
                item = QTableWidgetItem("")
                self.table.setItem(row, column, item)
            item.setBackground(colour("bad_cell") if reason else QBrush())
            source = copied.item_source(item)
            item.setToolTip(reason or (copied.tooltip(source) if source else ""))
            item.setData(BAD_CELL, bool(reason))
        finally:
            self._styling = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter saves (as OK does), and says why when copied values are left."""
        plain = event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        )
        if plain and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
            return
        if plain and event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return
        super().keyPressEvent(event)

    def typed(self) -> bool:
        """Whether anything was typed, chosen, confirmed, added or removed here."""
        return self._grid_typed or self.form.modified()

    def cancel(self) -> None:
        """Esc or Cancel: closed, after asking when what was typed here would be lost."""
        if self.typed() and not discard_typed(self):
            return
        self.reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window's close button asks as Cancel does."""
        if event.spontaneous() and self.typed() and not discard_typed(self):
            event.ignore()
            return
        super().closeEvent(event)

    def _commit_typing(self) -> None:
        """A cell still being typed in is taken as typed."""
        editor = QApplication.focusWidget()
        if (
            self.table.state() == QAbstractItemView.State.EditingState
            and editor is not None
            and self.table.isAncestorOf(editor)
        ):
            self.table.commitData(editor)
            self.table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def accept(self) -> None:
        self._commit_typing()
        count = self.copied_count()
        if count:
            self.problems_label.setText(
                f"Not saved: {copied.count_text(count)}. Type each new value, or press "
                f"{copied.CONFIRM_KEY_TEXT} on a row to confirm its copied values."
            )
            self.problems_label.setVisible(True)
            cells = self.copied_cells()
            if cells:
                self.table.setCurrentCell(*cells[0])
                self.table.setFocus()
            return
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
