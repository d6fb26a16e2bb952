"""The editing tabs of a case: staging & molecular, plan, chemotherapy, imaging, procedures &
outcomes, reviews.  Each tab shows the case and asks the workspace to apply an edited case;
it never saves by itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain import models as m
from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine.readmodel import EvaluationView, LesionCell
from crlmboard.domain.labels import response_text
from crlmboard.ui.colours import colour
from crlmboard.ui.forms import RecordForm, code_text, locale_date, read_only_table
from crlmboard.ui.models.records import RecordTableModel

Apply = Callable[..., None]  # apply(edited case, undo text, done(saved: bool))
Index = QModelIndex | QPersistentModelIndex


def _t(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return locale_date(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return code_text(str(value))


def _table(model: QAbstractTableModel) -> QTableView:
    view = read_only_table(model)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class FormsTab(QScrollArea):
    """Several record forms with Save (Enter), Revert (the whole tab) and Esc (the field in
    focus back to its stored value).  What was typed and not saved is tracked per field:
    `modified()` and `modified_changed`; reading the case again (after a change made
    elsewhere) keeps it."""

    modified_changed = Signal(bool)

    def __init__(self, apply: Apply, parent: QWidget | None = None):
        super().__init__(parent)
        self.apply = apply
        self.case: Case | None = None
        self.setWidgetResizable(True)
        inner = QWidget()
        self.body = QVBoxLayout(inner)
        self.setWidget(inner)
        self.forms: dict[str, RecordForm] = {}
        self._loading = False
        self._modified = False
        buttons = QHBoxLayout()
        self.status = QLabel()
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save these fields (Enter or Ctrl+S)")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip(
            "Undo what you typed on this tab (Esc undoes the field you are in)"
        )
        self.save_button.clicked.connect(lambda: self.save())
        self.revert_button.clicked.connect(self.revert)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        self.buttons = buttons
        for key, handler in (
            ("Return", self.save),
            ("Enter", self.save),
            ("Ctrl+S", self.save),
            ("Escape", self.revert_field),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda h=handler: h())

    def add_form(
        self, key: str, title: str, model: type[m.Record], fields: list[str] | None = None
    ) -> RecordForm:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        form = RecordForm(model, fields)
        form.edited.connect(self._edited)
        layout.addWidget(form)
        self.body.addWidget(box)
        self.forms[key] = form
        return form

    def finish(self) -> None:
        self.body.addLayout(self.buttons)
        self.body.addStretch(1)

    def _edited(self) -> None:
        if self._loading:  # the case as stored: nothing typed, nothing to check yet
            return
        problems = sum(len(f.problems) for f in self.forms.values())
        modified = self._update_modified()
        self.status.setText(
            f"{problems} field(s) to correct before saving"
            if problems
            else "Unsaved changes"
            if modified
            else ""
        )

    def _update_modified(self) -> bool:
        modified = self.modified()
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)
        return modified

    def modified(self) -> bool:
        """True when a field shows something typed and not saved (valid or not)."""
        return self.case is not None and any(f.modified() for f in self.forms.values())

    def dirty(self) -> bool:
        return self.modified()

    def set_today(self, today: dt.date) -> None:
        for form in self.forms.values():
            form.today = today

    def show_case(self, case: Case, *, keep_edits: bool = False) -> None:
        """Show the case as stored; with `keep_edits` (the same case read again) fields
        typed and not saved keep what was typed."""
        self.case = case
        self._loading = True
        try:
            self.load(case)
            if not keep_edits:
                for form in self.forms.values():
                    form.revert()
        finally:
            self._loading = False
        if self._update_modified():
            self._edited()
        else:
            self.status.setText("")

    def load(self, case: Case) -> None:
        raise NotImplementedError

    def build(self, case: Case) -> Case | None:
        raise NotImplementedError

    def save(self, done: Callable[[bool], None] | None = None) -> None:
        """Save the tab's fields; `done(saved)` once the database answered (False at once
        when a field is wrong)."""

        def finish(ok: bool) -> None:
            if done is not None:
                done(ok)

        if self.case is None:
            return finish(False)
        new = self.build(self.case)
        if new is None:
            self.status.setText("Correct the fields marked in red, then save.")
            return finish(False)
        if new == self.case:
            self.status.setText("Nothing to save.")
            self.revert()  # what is shown is what is stored (e.g. "3.0" and 3)
            return finish(True)
        self.status.setText("Saving…")

        def saved(ok: bool) -> None:
            if ok:
                self.revert()  # the fields as stored now
            self.status.setText("Saved." if ok else "Not saved.")
            finish(ok)

        self.apply(new, f"Edit {self.windowTitle().lower()}", saved)

    def revert(self) -> None:
        """Every field of the tab back to its stored value."""
        self._loading = True
        try:
            for form in self.forms.values():
                form.revert()
        finally:
            self._loading = False
        self._update_modified()
        self.status.setText("")

    def revert_field(self) -> None:
        """Esc: the field in focus back to its stored value; the rest stays as typed."""
        focus = QApplication.focusWidget()
        for form in self.forms.values():
            editor = form.editor_of(focus)
            if editor is not None:
                form.revert_field(editor)
                return


class StagingTab(FormsTab):
    """Patient, primary tumour, liver metastases diagnosis and molecular profile."""

    def __init__(self, apply: Apply, parent: QWidget | None = None):
        super().__init__(apply, parent)
        self.setWindowTitle("Staging & molecular")
        self.add_form("patient", "Patient", m.Patient)
        self.add_form("primary", "Primary tumour", m.PrimaryTumour)
        self.add_form("liver", "Liver metastases", m.LabResult, ["date"])
        label = self.forms["liver"].layout_.labelForField(self.forms["liver"].editors["date"])
        if isinstance(label, QLabel):
            label.setText("Diagnosed on")
        self.add_form("molecular", "Molecular profile", m.MolecularProfile)
        self.finish()

    def load(self, case: Case) -> None:
        self.forms["patient"].load_record(case.patient)
        self.forms["primary"].load_record(case.primary)
        self.forms["liver"].load_record(None, {"date": case.liver_metastases_diagnosis_date})
        self.forms["molecular"].load_record(case.molecular)

    def build(self, case: Case) -> Case | None:
        patient = self.forms["patient"].record()
        primary_values, _ = self.forms["primary"].values()
        primary = self.forms["primary"].record() if primary_values else None
        molecular_values, _ = self.forms["molecular"].values()
        molecular = self.forms["molecular"].record() if molecular_values else None
        liver_value, _ = self.forms["liver"].editors["date"].raw_value()
        liver = None
        if liver_value:
            holder = self.forms["liver"].record()
            if holder is None:
                return None
            liver = holder.date  # type: ignore[attr-defined]
        bad = (
            patient is None
            or (primary_values and primary is None)
            or (molecular_values and molecular is None)
        )
        if bad:
            return None
        return case.model_copy(
            update={
                "patient": patient,
                "primary": primary,
                "molecular": molecular,
                "liver_metastases_diagnosis_date": liver,
            }
        )


class PlanTab(FormsTab):
    """The board's current surgical plan."""

    def __init__(self, apply: Apply, parent: QWidget | None = None):
        super().__init__(apply, parent)
        self.setWindowTitle("Plan")
        self.add_form("plan", "Surgical plan", m.SurgicalPlan)
        self.finish()

    def load(self, case: Case) -> None:
        self.forms["plan"].load_record(case.plan)

    def build(self, case: Case) -> Case | None:
        values, _ = self.forms["plan"].values()
        if not values:
            return case.model_copy(update={"plan": None})
        plan = self.forms["plan"].record()
        return None if plan is None else case.model_copy(update={"plan": plan})


class ListTab(QWidget):
    """A table of records with Add / Edit / Remove buttons."""

    add_requested = Signal()
    edit_requested = Signal(int)
    remove_requested = Signal(int)

    def __init__(
        self,
        title: str,
        columns: list[tuple[str, Callable[[Any], Any]]],
        add_text: str,
        parent: QWidget | None = None,
        *,
        noun: str = "record",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.noun = noun
        self.whose: Callable[[], str] = lambda: ""
        self.model = RecordTableModel(columns, self)
        self.view = _table(self.model)
        self.view.doubleClicked.connect(self._double_clicked)
        layout = QVBoxLayout(self)
        self.heading = QLabel(title)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton(add_text)
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(lambda: self._with_row(self.edit_requested.emit))
        self.remove_button.clicked.connect(lambda: self._with_row(self._confirm_remove))
        row.addStretch(1)
        for button in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.buttons = row

    def _double_clicked(self, index: QModelIndex) -> None:
        """A double click edits as Edit… does, and only when Edit… is offered (not while
        the database is read-only here)."""
        if self.edit_button.isEnabled():
            self.edit_requested.emit(index.row())

    def _with_row(self, emit: Callable[[int], None]) -> None:
        rows = self.view.selectionModel().selectedRows()
        if rows:
            emit(rows[0].row())

    def _confirm_remove(self, row: int) -> None:
        """Ask before a record is removed (No is the default), naming it as the row shows it
        and whose record it is; only Yes removes it."""
        model = self.model
        shown = [
            f"{model.headerData(c, Qt.Orientation.Horizontal)}: {text}"
            for c in range(model.columnCount())
            if (text := str(model.data(model.index(row, c)) or "").strip())
        ]
        whose = self.whose()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(f"Remove {self.noun}")
        owner = f" from the record of {whose}" if whose else ""
        box.setText(f"Remove this {self.noun}{owner}?")
        box.setInformativeText("\n".join(shown[:6]) + "\n\nEdit ▸ Undo can bring it back.")
        remove = box.addButton(f"Remove {self.noun}", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        if box.clickedButton() is remove:
            self.remove_requested.emit(row)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.view.selectRow(row)


def chemotherapy_lines(cycles: list[m.ChemotherapyCycle]) -> list[int]:
    """Line number of each cycle (in date order): a new line starts at cycle 1 or when the
    regimen changes."""
    lines: list[int] = []
    line = 0
    previous: m.ChemotherapyCycle | None = None
    for cycle in cycles:
        if previous is None or cycle.cycle <= previous.cycle or cycle.regimen != previous.regimen:
            line += 1
        lines.append(line)
        previous = cycle
    return lines


class LesionMatrixModel(QAbstractTableModel):
    """Rows = lesion ids, columns = imaging dates, cells = diameter with the engine's
    status and change (an arrow and a colour); the last row is RECIST per timepoint.  The
    status, the change and the targets are the evaluation's (its read model), computed
    nowhere here."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.lesions: list[str] = []
        self.timepoints: list[ImagingTimepoint] = []
        self.responses: dict[dt.date, str] = {}
        self.evaluation: EvaluationView | None = None
        self.response_codes: dict[dt.date, str] = {}  # the engine's, per timepoint

    def set_data(self, imaging: list[ImagingTimepoint], evaluation: EvaluationView | None) -> None:
        self.beginResetModel()
        self.timepoints = sorted(imaging, key=lambda tp: tp.date)
        self.evaluation = evaluation
        seen: dict[str, None] = {}
        for tp in self.timepoints:
            for lesion in tp.lesions:
                seen.setdefault(lesion.id, None)
        self.lesions = sorted(seen, key=lambda x: (len(x), x))
        self.responses = {}
        self.response_codes = {}
        facts = evaluation.facts if evaluation is not None else None
        baseline = facts.recist_baseline if facts is not None else None
        if baseline is not None and baseline.date is not None and baseline.sum_mm is not None:
            self.responses[baseline.date] = f"baseline · sum {baseline.sum_mm:g} mm"
        for point in facts.recist if facts is not None else ():
            if point.date is None:
                continue
            label = point.response  # the engine's category, shown as it comes
            if point.response:
                self.response_codes[point.date] = point.response
            if point.sum_mm is not None:
                label = (
                    f"{label} · sum {point.sum_mm:g} mm" if label else f"sum {point.sum_mm:g} mm"
                )
            self.responses[point.date] = label
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lesions) + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.timepoints)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.timepoints):
                tp = self.timepoints[section]
                return f"{locale_date(tp.date)}\n{_t(tp.modality)}"
            return None
        if section < len(self.lesions):
            return self.lesions[section]
        return "RECIST"

    def _measure(self, row: int, column: int) -> m.LesionMeasurement | None:
        lesion_id = self.lesions[row]
        for lesion in self.timepoints[column].lesions:
            if lesion.id == lesion_id:
                return lesion
        return None

    def _cell(self, row: int, column: int) -> LesionCell | None:
        if self.evaluation is None:
            return None
        return self.evaluation.lesion(self.lesions[row], self.timepoints[column].date)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row == len(self.lesions):
            when = self.timepoints[column].date
            if role == Qt.ItemDataRole.DisplayRole:
                return self.responses.get(when, "")
            if role == Qt.ItemDataRole.ToolTipRole and when in self.response_codes:
                return f"RECIST 1.1: {response_text(self.response_codes[when])}"
            return None
        lesion = self._measure(row, column)
        cell = self._cell(row, column)
        change = cell.change_percent if cell is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            if lesion is None:
                return ""
            text = _t(lesion.longest_diameter_mm) or "?"
            if cell is not None and cell.status != m.LesionStatus.PRESENT.value:
                text += f" ({cell.status})"
            if cell is not None and cell.target:
                text += " T"
            if change is not None and abs(change) >= 0.5:
                text += f"  {'↑' if change > 0 else '↓'}{abs(change):.0f}%"
            return text
        if role == Qt.ItemDataRole.BackgroundRole and change is not None:
            if change >= 20:
                return QBrush(colour("larger"))
            if change <= -30:
                return QBrush(colour("smaller"))
            return None
        if role == Qt.ItemDataRole.ToolTipRole and lesion is not None:
            return (
                f"{lesion.id}, segment {_t(lesion.segment) or '?'}: "
                f"{_t(lesion.longest_diameter_mm)} mm"
                + (f", depth {_t(lesion.depth_mm)} mm" if lesion.depth_mm is not None else "")
                + (f", change {change:+.0f} %" if change is not None else "")
            )
        return None


class ImagingTab(QWidget):
    """Imaging timepoints, the lesion × timepoint matrix and FLR volumetry."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Imaging")
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.timepoints = ListTab(
            "Imaging timepoints",
            [
                ("Date", lambda tp: _t(tp.date)),
                ("Modality", lambda tp: _t(tp.modality)),
                ("Lesions", lambda tp: str(len(tp.lesions))),
                ("New lesions", lambda tp: _t(tp.new_lesions)),
                ("Non-target progression", lambda tp: _t(tp.non_target_progression)),
                (
                    "FLR",
                    lambda tp: (
                        f"{tp.flr_measure_percent:g} %"
                        + (" (from volumes)" if tp.flr_percent is None else "")
                        if tp.flr_measure_percent is not None
                        else ""
                    ),
                ),
                (
                    "Volumes (FLR / total)",
                    lambda tp: (
                        f"{_t(tp.flr_volume_ml)} / {_t(tp.total_liver_volume_ml)} mL"
                        if tp.total_liver_volume_ml is not None
                        else ""
                    ),
                ),
                ("Extrahepatic findings", lambda tp: tp.extrahepatic_findings or ""),
            ],
            "Add timepoint…",
            noun="imaging timepoint",
        )
        splitter.addWidget(self.timepoints)
        matrix_box = QWidget()
        matrix_layout = QVBoxLayout(matrix_box)
        matrix_layout.setContentsMargins(0, 0, 0, 0)
        legend = QLabel(
            "Lesion × timepoint (longest diameter, mm). T = target lesion; "
            "↑/↓ change from the previous measurement (red ≥ 20 % larger, "
            "green ≥ 30 % smaller)."
        )
        legend.setWordWrap(True)
        matrix_layout.addWidget(legend)
        self.matrix = LesionMatrixModel(self)
        self.matrix_view = _table(self.matrix)
        self.matrix_view.verticalHeader().show()
        self.matrix_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.matrix_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        matrix_layout.addWidget(self.matrix_view)
        splitter.addWidget(matrix_box)
        layout.addWidget(splitter)

    def show_case(self, case: Case, evaluation: EvaluationView | None) -> None:
        self.timepoints.model.set_records(sorted(case.imaging, key=lambda tp: tp.date))
        self.matrix.set_data(case.imaging, evaluation)
