"""Forms generated from the domain's field sets: label, unit, bounds and choices come from
the model; each field is checked as you type and its reason is shown next to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from enum import Enum
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QDate, QEvent, QLocale, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain import models as m
from crlmboard.domain.labels import value_label
from crlmboard.domain.models import FieldSpec, Record, field_specs
from crlmboard.domain.validation import Problem, problems_from_error
from crlmboard.ui.colours import problem_style
from crlmboard.ui.dates import date_format as date_format
from crlmboard.ui.dates import locale_date as locale_date
from crlmboard.ui.empty import paint_empty_text

UNKNOWN = "—"
PLACEHOLDERS = {"cycle_length_days": "14, 21 or 28 (empty: the regimen's usual length)"}
"""Hints for fields whose allowed values the model checks across fields."""

# Where a problem's path starts: (what the form calls it, its record model).
BLOCKS: dict[str, tuple[str, type[Any] | None]] = {
    "patient": ("Patient", m.Patient),
    "primary": ("Primary tumour", m.PrimaryTumour),
    "molecular": ("Molecular profile", m.MolecularProfile),
    "plan": ("Surgical plan", m.SurgicalPlan),
    "labs": ("Lab values", m.LabResult),
    "imaging": ("Imaging timepoint", m.ImagingTimepointFields),
    "lesions": ("Row", m.LesionMeasurement),
    "treatments": ("Treatment", None),
    "surgery_outcomes": ("Surgery outcome", m.SurgeryOutcome),
    "extrahepatic_disease": ("Extrahepatic site", m.ExtrahepaticDisease),
    "reviews": ("Review", m.ReviewFields),
    "actions": ("Action row", m.ReviewAction),
    "attendees": ("Attendee row", m.Attendee),
}
_ALL_MODELS = [model for _label, model in BLOCKS.values() if model is not None] + [
    m.ChemotherapyCycle,
    m.ImmunotherapyDose,
    m.Procedure,
]


def _label_of(model: type[Any] | None, name: str) -> str:
    """What the form calls field `name` (of `model`, else of any record that has it)."""
    for candidate in ([model] if model is not None else []) + _ALL_MODELS:
        if name in candidate.model_fields:
            return m.field_label(candidate, name)
    return name.replace("_", " ").capitalize()


def problem_text(problem: Problem, model: type[Any] | None = None) -> str:
    """A problem in the words of the form: `Row 2, Longest diameter: must be a number`,
    `Imaging timepoint 3, Row 1, Segment: must be ≤ 8` — labels as shown, rows counted
    from 1 as shown — never `lesions[1].longest_diameter_mm`.  `model` is the record the
    path starts in (a form's own fields)."""
    words: list[str] = []
    current = model
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?", problem.path):
        if name in BLOCKS and (index or current is None or name not in current.model_fields):
            label, current = BLOCKS[name]
            words.append(f"{label} {int(index) + 1}" if index else label)
        else:
            words.append(_label_of(current, name))
    return f"{', '.join(words)}: {problem.message}" if words else problem.message


def problems_text(problems: Iterable[Problem], model: type[Any] | None = None) -> str:
    return "\n".join(problem_text(p, model) for p in problems)


def code_text(value: str) -> str:
    """A coded value as the clinic writes it (`t3` → T3, `folfox` → FOLFOX, `ct` → CT);
    text that is not a code stays as it is."""
    if re.fullmatch(r"[a-z0-9_]+", value):
        return value_label(value)
    return value


def choice_text(value: str) -> str:
    """`non_anatomical` → `non anatomical` (what a person reads)."""
    return value.replace("_", " ")


def date_hint() -> str:
    """How to type a date here, for a placeholder: `M/d/yyyy or yyyy-mm-dd`."""
    shown = date_format()
    if shown == "yyyy-MM-dd":
        return "yyyy-mm-dd"
    return f"{shown.replace(chr(0x200F), '')} or yyyy-mm-dd"


_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str, today: dt.date | None = None) -> dt.date | None:
    """A typed date: ISO (`2026-06-22`) or the locale's own short format, with a four- or
    two-digit year (`6/22/2026`, `6/22/26`; a two-digit year is the latest century that
    puts it no more than a year after `today`).  None when it is not a date."""
    text = text.strip()
    if not text:
        return None
    iso = _ISO.match(text)
    if iso:
        try:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    locale = QLocale()
    typed = text.replace("\u200f", "")
    short = locale.dateFormat(QLocale.FormatType.ShortFormat).replace("\u200f", "")
    patterns = [date_format().replace("\u200f", ""), short]
    for pattern in dict.fromkeys(patterns):
        loose = pattern.replace("dd", "d").replace("MM", "M")  # one or two digits
        for candidate in (pattern, loose):
            parsed = locale.toDate(typed, candidate)
            if not parsed.isValid():
                continue
            year = parsed.year()
            if "yyyy" not in candidate:  # a two-digit year: the right century
                now = today or dt.date.today()
                year = 2000 + year % 100
                if year > now.year + 1:
                    year -= 100
            try:
                return dt.date(year, parsed.month(), parsed.day())
            except ValueError:
                return None
    return None


def iso_text(text: str) -> str:
    """A typed date as ISO for the model to read; other text as it is (the model then
    names what is wrong with it)."""
    parsed = parse_date(text)
    return parsed.isoformat() if parsed is not None else text.strip()


class DateEdit(QWidget):
    """A date field: type it (ISO or the locale's format) or pick it from a calendar
    (the button, F4 or Alt+Down)."""

    picked = Signal()

    def __init__(self, label: str = "Date", parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.line = QLineEdit()
        self.line.setAccessibleName(label)
        self.line.setPlaceholderText(date_hint())
        self.button = QToolButton()
        self.button.setText("▾")
        self.button.setToolTip(f"Choose {label.lower()} from a calendar (F4)")
        self.button.setAccessibleName(f"Choose {label.lower()} from a calendar")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # F4 or Alt+Down from the field
        self.button.clicked.connect(self.show_calendar)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.button)
        self.line.installEventFilter(self)
        self.calendar: QCalendarWidget | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """F4 or Alt+Down in the field opens the calendar."""
        if watched is self.line and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            alt_down = event.key() == Qt.Key.Key_Down and bool(
                event.modifiers() & Qt.KeyboardModifier.AltModifier
            )
            if event.key() == Qt.Key.Key_F4 or alt_down:
                self.show_calendar()
                return True
        return super().eventFilter(watched, event)

    def date(self) -> dt.date | None:
        return parse_date(self.line.text())

    def set_date(self, value: dt.date | None) -> None:
        self.line.setText(locale_date(value))

    def show_calendar(self) -> None:
        """The calendar pop-up on the date typed (today when none): Enter or a click
        takes the date, Esc closes it."""
        calendar = QCalendarWidget(self)
        calendar.setWindowFlags(Qt.WindowType.Popup)
        calendar.setAccessibleName(self.line.accessibleName() + ": calendar")
        calendar.setGridVisible(True)
        shown = self.date() or dt.date.today()
        calendar.setSelectedDate(QDate(shown.year, shown.month, shown.day))
        calendar.activated.connect(self._take)
        calendar.clicked.connect(self._take)
        calendar.move(self.mapToGlobal(self.rect().bottomLeft()))
        self.calendar = calendar
        calendar.show()
        calendar.setFocus()

    def _take(self, chosen: QDate) -> None:
        self.line.setText(locale_date(dt.date(chosen.year(), chosen.month(), chosen.day())))
        if self.calendar is not None:
            self.calendar.close()
            self.calendar = None
        self.line.setFocus()
        self.picked.emit()


class FieldEditor(QWidget):
    """One field's input widget with its unit and the reason it is refused."""

    changed = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        layout = QHBoxLayout()
        outer.addLayout(layout)
        self.combo: QComboBox | None = None
        self.line: QLineEdit | None = None
        self.date_edit: DateEdit | None = None
        self._indexes: dict[Any, int] = {}  # a choice's row in the combo
        self._reason: str | None = None
        self.saved: Any = None  # the stored value the form was loaded with
        if spec.kind in ("choice", "flag"):
            self.combo = QComboBox()
            self.combo.addItem(UNKNOWN if not spec.required else "", None)
            options = spec.choices if spec.kind == "choice" else ("yes", "no")
            for option in options:
                value: Any = option if spec.kind == "choice" else option == "yes"
                self._indexes.setdefault(value, self.combo.count())
                self.combo.addItem(value_label(option) if spec.kind == "choice" else option, value)
            self.combo.currentIndexChanged.connect(self.changed)
            self.combo.setAccessibleName(spec.label)
            layout.addWidget(self.combo, 1)
        elif spec.kind == "date":
            self.date_edit = DateEdit(spec.label)
            self.line = self.date_edit.line
            self.line.textEdited.connect(self.changed)
            self.date_edit.picked.connect(self.changed)
            layout.addWidget(self.date_edit, 1)
        else:
            self.line = QLineEdit()
            self.line.setAccessibleName(spec.label)
            self.line.setPlaceholderText(self._placeholder())
            self.line.textEdited.connect(self.changed)
            layout.addWidget(self.line, 1)
        self.unit: QLabel | None = None
        if spec.unit:
            self.unit = QLabel(spec.unit)
            layout.addWidget(self.unit)
        # the reason goes under the field, where a long one has the form's whole width
        self.reason = QLabel()
        self.reason.setObjectName("fieldReason")
        self.reason.setStyleSheet(problem_style())
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.reason.hide()
        outer.addWidget(self.reason)

    def _placeholder(self) -> str:
        spec = self.spec
        if spec.kind == "date":
            return date_hint()
        if spec.name in PLACEHOLDERS:
            return PLACEHOLDERS[spec.name]
        if spec.kind == "segments":
            return "e.g. 5, 6, 7, 8"
        if spec.kind == "texts":
            return "separate with ;"
        if spec.minimum is not None and spec.maximum is not None:
            low = f"{spec.minimum:g}"
            return f"{low}–{spec.maximum:g}"
        return ""

    def _index_of(self, value: Any) -> int:
        if isinstance(value, Enum) and isinstance(value, str):
            value = value.value  # equal to its text, hashed by its name
        try:
            return self._indexes.get(value, 0) if value is not None else 0
        except TypeError:  # not a choice
            return 0

    def _text_of(self, value: Any) -> str:
        if value is None:
            return ""
        if self.spec.kind == "date":
            return locale_date(value)
        if self.spec.kind == "segments":
            return ", ".join(str(v) for v in value)
        if self.spec.kind == "texts":
            return "; ".join(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def set_value(self, value: Any) -> None:
        if self.combo is not None:
            self.combo.setCurrentIndex(self._index_of(value))
            return
        assert self.line is not None
        self.line.setText(self._text_of(value))
        self.show_reason(None)

    # -- the stored value: what Esc goes back to, and whether the field was edited ------

    def modified(self) -> bool:
        """True when what the field shows is not its stored value (typed, not saved)."""
        if self.combo is not None:
            return self.combo.currentIndex() != self._index_of(self.saved)
        assert self.line is not None
        return self.line.text() != self._text_of(self.saved)

    def load(self, value: Any) -> None:
        """Take `value` as the stored value; what the user typed here and did not save
        stays (the field then still shows as edited)."""
        edited = self.modified()
        self.saved = value
        if not edited:
            self.set_value(value)

    def revert(self) -> None:
        """Back to the stored value (Esc in the field)."""
        self.set_value(self.saved)

    def raw_value(self) -> tuple[Any, str | None]:
        """The typed value entered, or a reason it cannot be read."""
        if self.combo is not None:
            return self.combo.currentData(), None
        assert self.line is not None
        text = self.line.text().strip()
        if not text:
            return None, None
        kind = self.spec.kind
        try:
            if kind == "integer":
                return int(text), None
            if kind == "number":
                return float(text.replace(",", ".")), None
            if kind == "segments":
                return [int(p) for p in text.replace(";", ",").split(",") if p.strip()], None
        except ValueError:
            return None, (
                "must be a whole number"
                if kind == "integer"
                else "must be a number"
                if kind == "number"
                else "segments are whole numbers 1–8, separated by commas"
            )
        if kind == "texts":
            return [p.strip() for p in text.split(";") if p.strip()], None
        if kind == "date":
            parsed = parse_date(text)
            if parsed is None:
                return None, f"not a date: write it as {date_hint()}"
            return parsed, None
        return text, None

    def show_reason(self, reason: str | None) -> None:
        if (reason or None) == self._reason:
            return
        self._reason = reason or None
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        self.setToolTip(reason or "")


class RecordForm(QWidget):
    """A form for one record type; `record()` returns a validated record or None."""

    edited = Signal()

    def __init__(
        self, model: type[Record], fields: list[str] | None = None, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.model = model
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.editors: dict[str, FieldEditor] = {}
        for spec in field_specs(model):
            if fields is not None and spec.name not in fields:
                continue
            editor = FieldEditor(spec)
            editor.changed.connect(self._on_change)
            label = spec.label + (" *" if spec.required else "")
            self.layout_.addRow(label, editor)
            self.editors[spec.name] = editor
        # every unit as wide as the widest: the fields with a unit end in one line
        units = [e.unit for e in self.editors.values() if e.unit is not None]
        widest = max((unit.sizeHint().width() for unit in units), default=0)
        for unit in units:
            unit.setMinimumWidth(widest)
        # problems of fields this form does not show, in the words of the record
        self.others = QLabel()
        self.others.setObjectName("formProblems")
        self.others.setStyleSheet(problem_style())
        self.others.setWordWrap(True)
        self.others.setTextFormat(Qt.TextFormat.PlainText)
        self.others.hide()
        self.layout_.addRow(self.others)
        self.problems: list[Problem] = []
        self.today = dt.date.today()
        self._loading = self._changed_while_loading = False

    def set_record(self, record: Record | None) -> None:
        # The form is checked once after the last field is set, not once per changed field
        # (each check re-validates the record, and a tab re-validates all its forms).
        self._loading, self._changed_while_loading = True, False
        try:
            for name, editor in self.editors.items():
                editor.saved = None if record is None else getattr(record, name, None)
                editor.set_value(editor.saved)
        finally:
            self._loading = False
        if self._changed_while_loading:
            self._on_change()
        self.problems = []

    def load_record(self, record: Record | None, values: dict[str, Any] | None = None) -> None:
        """Load the stored record (or `values` by field name), keeping what the user typed
        and did not save (see `FieldEditor.load`)."""
        self._loading, self._changed_while_loading = True, False
        try:
            for name, editor in self.editors.items():
                if values is not None:
                    editor.load(values.get(name))
                else:
                    editor.load(None if record is None else getattr(record, name, None))
        finally:
            self._loading = False
        if self._changed_while_loading:
            self._on_change()
        if not self.modified():
            self.problems = []

    def modified(self) -> bool:
        return any(editor.modified() for editor in self.editors.values())

    def revert(self) -> None:
        """Every field back to its stored value."""
        self._loading = True
        try:
            for editor in self.editors.values():
                editor.revert()
        finally:
            self._loading = False
        self.record()  # the reasons shown are the stored values' own
        self.problems = []
        self.edited.emit()

    def revert_field(self, editor: FieldEditor) -> None:
        """One field back to its stored value; the form is checked again."""
        self._loading = True
        try:
            editor.revert()
        finally:
            self._loading = False
        self._on_change()

    def editor_of(self, widget: QWidget | None) -> FieldEditor | None:
        """The field editor holding `widget` (the widget in focus), if it is one of ours."""
        for editor in self.editors.values():
            if widget is not None and (widget is editor or editor.isAncestorOf(widget)):
                return editor
        return None

    def values(self) -> tuple[dict[str, Any], list[Problem]]:
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, editor in self.editors.items():
            value, reason = editor.raw_value()
            if reason:
                problems.append(Problem(name, reason))
            elif value is not None:
                values[name] = value
        return values, problems

    def record(self, base: Record | None = None) -> Record | None:
        """Validate what is entered (over `base`'s other fields); show reasons; None if bad."""
        values, problems = self.values()
        if base is not None:
            merged = {
                k: getattr(base, k, None) for k in type(base).model_fields if k not in self.editors
            }
            values = {**merged, **values}
        record: Record | None = None
        try:
            record = self.model.model_validate(values)
        except ValidationError as error:
            # every field's problem at once, not the others only after a date is mended
            # (a field that could not be read is reported as such, not also as missing)
            unread = {p.path for p in problems}
            problems += [
                p for p in problems_from_error(error) if p.path.split(".")[0] not in unread
            ]
        if problems:
            record = None
        if record is not None and hasattr(record, "cross_checks"):
            problems = [Problem(f, m) for f, m in record.cross_checks(self.today)]
            if problems:
                record = None
        self.problems = problems
        by_field: dict[str, str] = {}
        unplaced: list[Problem] = []
        for problem in problems:
            name = problem.path.split(".")[0].split("[")[0]
            if name in self.editors:
                by_field.setdefault(name, problem.message)
            else:
                unplaced.append(problem)
        for name, editor in self.editors.items():
            editor.show_reason(by_field.get(name))
        self.others.setText(problems_text(unplaced, self.model))
        self.others.setVisible(bool(unplaced))
        return record

    def _on_change(self) -> None:
        if self._loading:
            self._changed_while_loading = True
            return
        self.record()
        self.edited.emit()

    def focus_first(self) -> None:
        first = next(iter(self.editors.values()), None)
        if first is not None:
            target = first.line or first.combo
            if target is not None:
                target.setFocus(Qt.FocusReason.OtherFocusReason)


class ListView(QTableView):
    """A table that says so when it has no rows (`placeholder`), instead of an empty grid
    that could be a list still loading or a list that failed."""

    placeholder = "None recorded."

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0 or not self.placeholder:
            return
        paint_empty_text(self, self.placeholder)


def read_only_table(model: Any, placeholder: str = ListView.placeholder) -> ListView:
    """A table view of a model: whole rows selected one at a time, not editable in place,
    alternating row colours, no row numbers; `placeholder` is shown while it has no rows."""
    view = ListView()
    view.placeholder = placeholder
    view.setTabKeyNavigation(False)  # Tab goes on to the next control, not the next cell
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    return view
