"""Board figures of a period (cases discussed, re-discussions, median delays, decisions
carried out, core-role attendance per meeting) in a table, and as CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.ui.dialogs.meeting_dialog import error_text, problem_label, show_problems
from crlmboard.ui.forms import DateEdit, date_hint, parse_date
from crlmboard.ui.ops import Door

Index = QModelIndex | QPersistentModelIndex

FIGURE_LABELS = {
    "period_start": "Period from",
    "period_end": "Period to",
    "cases_discussed": "Cases discussed",
    "reviews_signed": "Reviews signed",
    "rediscussions": "Re-discussions",
    "median_days_liver_metastases_diagnosis_to_first_decision": (
        "Median days, liver metastases diagnosis → first board decision"
    ),
    "median_days_referral_to_first_decision": "Median days, referral → first board decision",
    "median_days_liver_metastases_diagnosis_to_first_treatment": (
        "Median days, liver metastases diagnosis → first treatment"
    ),
    "median_days_referral_to_first_treatment": "Median days, referral → first treatment",
    "decisions_with_follow_up": "Decisions with a follow-up recorded",
    "decisions_carried_out": "Decisions carried out",
    "share_carried_out": "Share of decisions carried out",
}


def figure_label(code: str) -> str:
    """What a person reads for a figure's code (the CSV keeps the code)."""
    if code in FIGURE_LABELS:
        return FIGURE_LABELS[code]
    if code.startswith("core_roles_present_"):
        return f"Core roles present, meeting of {code.removeprefix('core_roles_present_')}"
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def figure_value(code: str, value: str) -> str:
    if value == "":
        return "— (no data in the period)"
    if code == "share_carried_out":
        return f"{float(value) * 100:.0f} %"
    return value


class FiguresModel(QAbstractTableModel):
    """Rows are (figure, value) pairs of `BoardFigures.rows()`."""

    HEADERS = ("Figure", "Value")

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[tuple[str, str]] = []

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < 2
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        code, value = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return figure_label(code) if index.column() == 0 else figure_value(code, value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{code} = {value}" if value else code
        if role == Qt.ItemDataRole.UserRole:
            return code
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _parse(text: str, field: str) -> tuple[dt.date | None, Problem | None]:
    parsed = parse_date(text)
    if parsed is None:
        return None, Problem(field, f"must be a date ({date_hint()})")
    return parsed, None


class FiguresDialog(QDialog):
    """Choose a period, see its figures, export them as CSV."""

    def __init__(
        self,
        door: Door,
        parent: QWidget | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.setWindowTitle("Board figures")
        self.resize(760, 560)
        today = door.today()
        layout = QVBoxLayout(self)
        period = QHBoxLayout()
        self.start_picker = DateEdit("Period from")
        self.start_edit = self.start_picker.line
        self.start_picker.set_date(start or today.replace(month=1, day=1))
        self.end_picker = DateEdit("Period to")
        self.end_edit = self.end_picker.line
        self.end_picker.set_date(end or today)
        start_label = QLabel("Period &from")
        start_label.setBuddy(self.start_edit)
        end_label = QLabel("&to")
        end_label.setBuddy(self.end_edit)
        self.show_button = QPushButton("&Show")
        self.show_button.clicked.connect(self.load)
        period.addWidget(start_label)
        period.addWidget(self.start_picker)
        period.addWidget(end_label)
        period.addWidget(self.end_picker)
        period.addWidget(self.show_button)
        period.addStretch(1)
        layout.addLayout(period)
        note = QLabel(
            "Reviews signed at meetings in the period (dates inclusive); delays count "
            "each case's first board decision."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.model = FiguresModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        layout.addWidget(self.table, 1)
        self.problems = problem_label()
        layout.addWidget(self.problems)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton(
            "&Export CSV…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.clicked.connect(self.export_csv)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for edit in (self.start_edit, self.end_edit):
            edit.returnPressed.connect(self.load)
        self.show_button.setDefault(True)
        self.load()

    def period(self) -> tuple[dt.date, dt.date] | None:
        start, bad_start = _parse(self.start_edit.text(), "from")
        end, bad_end = _parse(self.end_edit.text(), "to")
        problems = [p for p in (bad_start, bad_end) if p is not None]
        if start is not None and end is not None and end < start:
            problems.append(Problem("to", "must not be before the start of the period"))
        if problems or start is None or end is None:
            show_problems(self.problems, error_text(InvalidInput(problems)))
            return None
        return start, end

    def load(self) -> None:
        period = self.period()
        if period is None:
            self.model.set_rows([])
            return

        def found(figures: Any) -> None:
            show_problems(self.problems, "")
            self.model.set_rows(figures.rows())

        def refused(error: BaseException) -> None:
            show_problems(self.problems, error_text(error))
            self.model.set_rows([])

        self.door.figures(*period, found, refused)

    def export_csv(self) -> None:
        """Write the figures of the period as CSV (the title names the file written)."""
        period = self.period()
        if period is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export board figures",
            f"board-figures-{period[0].isoformat()}-{period[1].isoformat()}.csv",
            "CSV (*.csv)",
        )
        if not path:
            return

        def written(target: Path) -> None:
            show_problems(self.problems, "")
            self.setWindowTitle(f"Board figures — exported to {target.name}")

        def failed(error: BaseException) -> None:
            if isinstance(error, OSError):
                show_problems(
                    self.problems,
                    f"The file was not written ({error.strerror}); choose another folder.",
                )
            else:
                show_problems(self.problems, error_text(error))

        self.door.write_figures_csv(*period, Path(path), written, failed)
