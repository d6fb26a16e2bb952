"""Dialogs of a meeting: the meeting itself (date, time, location, attendees with their roles
and the live quorum), a case put on its agenda with the board's question, a short note
(hold back, edit a question), and the readiness check ("Prepare meeting").

Every dialog saves through `board.meetings` in `accept()`: a refused input keeps the dialog
open with the reasons as sentences (`path: message`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.board_work import Quorum, quorum
from crlmboard.domain.labels import value_label
from crlmboard.domain.meeting import MeetingFields
from crlmboard.domain.models import Attendee, Role
from crlmboard.domain.validation import InvalidInput, Problem, problems_from_error
from crlmboard.ui.colours import problem_style
from crlmboard.ui.forms import DateEdit, iso_text, locale_date, problems_text
from crlmboard.ui.ops import AgendaEntry, Door, MeetingListing, MeetingSummary
from crlmboard.ui.readonly import guard


def error_text(error: BaseException) -> str:
    """The sentences a coordinator reads for a refused input or a failed service call."""
    if isinstance(error, InvalidInput):
        return "Please correct:\n" + problems_text(error.problems)
    return str(error)


def problem_label() -> QLabel:
    """A label for refusals: red text that also starts with a word, never colour alone."""
    label = QLabel()
    label.setObjectName("problems")
    label.setStyleSheet(problem_style())
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def show_problems(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def role_text(role: Role | str) -> str:
    return value_label(role.value if isinstance(role, Role) else role)


def quorum_text(found: Quorum) -> str:
    """`4/5 core roles — missing: pathologist` (or `all 5 core roles present`)."""
    total = len(found.present) + len(found.missing)
    if found.complete:
        return f"Quorum: all {total} core roles present"
    missing = ", ".join(role_text(r).lower() for r in found.missing)
    return f"Quorum incomplete: {len(found.present)}/{total} core roles — missing {missing}"


def quorum_icon(widget: QWidget, found: Quorum) -> Any:
    pixmap = (
        QStyle.StandardPixmap.SP_DialogApplyButton
        if found.complete
        else QStyle.StandardPixmap.SP_MessageBoxWarning
    )
    return widget.style().standardIcon(pixmap)


class QuorumLine(QWidget):
    """An icon and a sentence naming the core roles present and missing."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)

    def show_quorum(self, found: Quorum | None) -> None:
        if found is None:
            self.icon.clear()
            self.text.clear()
            return
        size = self.fontMetrics().height()
        self.icon.setPixmap(quorum_icon(self, found).pixmap(QSize(size, size)))
        self.text.setText(quorum_text(found))


def _iso(value: dt.date | None) -> str:
    """A date in the field as every screen shows it (the name is historical)."""
    return locale_date(value)


class MeetingDialog(QDialog):
    """Create or edit a meeting; `meeting_id` holds the saved meeting after OK."""

    def __init__(
        self,
        door: Door,
        meeting: MeetingSummary | None = None,
        parent: QWidget | None = None,
        *,
        template: MeetingSummary | None = None,
        when: dt.date | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.meeting = meeting
        self.meeting_id: int | None = meeting.id if meeting is not None else None
        self.core_roles = tuple(door.profile.core_roles)
        self.setWindowTitle("Edit meeting" if meeting is not None else "New meeting")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.date_picker = DateEdit("Meeting date")
        self.date_edit = self.date_picker.line
        self.date_picker.picked.connect(lambda: self._check())
        self.time_edit = QLineEdit()
        self.time_edit.setPlaceholderText("HH:MM")
        self.time_edit.setAccessibleName("Meeting time")
        self.location_edit = QLineEdit()
        self.location_edit.setAccessibleName("Location")
        form.addRow("Date *", self.date_picker)
        form.addRow("Time", self.time_edit)
        form.addRow("Location", self.location_edit)
        layout.addLayout(form)

        layout.addWidget(QLabel("Attendees (name and role; the core roles make the quorum)"))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Name", "Role"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemChanged.connect(lambda _item: self._check())
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Add attendee")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(lambda: self.add_attendee("", Role.OTHER, edit=True))
        self.remove_button = QPushButton("&Remove attendee")
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_attendee)
        row.addStretch(1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        self.quorum_line = QuorumLine()
        layout.addWidget(self.quorum_line)
        self.problems = problem_label()
        layout.addWidget(self.problems)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        source = meeting or template
        if meeting is not None:
            self.date_edit.setText(_iso(meeting.date))
        elif when is not None:
            self.date_edit.setText(_iso(when))
        if source is not None:
            self.time_edit.setText(source.fields.time or "")
            self.location_edit.setText(source.fields.location or "")
            for attendee in source.attendees:
                self.add_attendee(attendee.name, attendee.role)
        for edit in (self.date_edit, self.time_edit, self.location_edit):
            edit.textEdited.connect(lambda _t: self._check())
        self._check(show=False)
        self.date_edit.setFocus()

    # -- attendees ----------------------------------------------------------------------

    def add_attendee(self, name: str, role: Role | str, *, edit: bool = False) -> None:
        row = self.table.rowCount()
        # the row is checked once it is whole (name and role), not when its name arrives
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.blockSignals(False)
        combo = QComboBox()
        combo.setAccessibleName("Role")
        for value in Role:
            combo.addItem(role_text(value), value.value)
        combo.setCurrentIndex(max(combo.findData(str(getattr(role, "value", role))), 0))
        combo.currentIndexChanged.connect(lambda _i: self._check())
        self.table.setCellWidget(row, 1, combo)
        self._check(show=False)
        if edit:
            self.table.setCurrentCell(row, 0)
            item = self.table.item(row, 0)
            if item is not None:
                self.table.editItem(item)

    def remove_attendee(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self._check()

    def attendees(self) -> tuple[list[Attendee], list[Problem]]:
        """The attendees entered (rows without a name are left out) and their problems."""
        people: list[Attendee] = []
        problems: list[Problem] = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            name = item.text().strip() if item is not None else ""
            combo = self.table.cellWidget(row, 1)
            role = combo.currentData() if isinstance(combo, QComboBox) else None
            if not name:
                continue
            try:
                people.append(Attendee.model_validate({"name": name, "role": role}))
            except ValidationError as error:
                problems += problems_from_error(error, f"attendees[{row}]")
        return people, problems

    # -- checking and saving ------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return {
            "date": iso_text(self.date_edit.text()),
            "time": self.time_edit.text().strip() or None,
            "location": self.location_edit.text().strip() or None,
        }

    def _check(self, show: bool = True) -> list[Problem]:
        problems: list[Problem] = []
        try:
            MeetingFields.model_validate(self.values())
        except ValidationError as error:
            problems += problems_from_error(error)
        people, attendee_problems = self.attendees()
        problems += attendee_problems
        self.quorum_line.show_quorum(quorum(people, self.core_roles))
        if show:
            show_problems(self.problems, problems_text(problems, MeetingFields))
        return problems

    def accept(self) -> None:
        problems = self._check()
        if problems:
            return
        values = self.values()
        people, _ = self.attendees()
        fields = {
            "when": values["date"],
            "time": values["time"],
            "location": values["location"],
            "attendees": people,
        }
        self.setEnabled(False)  # until the database answered

        def saved(result: Any) -> None:
            if self.meeting is None:
                self.meeting_id = result.meeting_id
            self.setEnabled(True)
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            show_problems(self.problems, error_text(error))

        if self.meeting is None:
            self.door.create_meeting(fields, saved, refused)
        else:
            self.door.update_meeting(self.meeting.id, fields, saved, refused)


def whose(entry: AgendaEntry) -> str:
    """`EXAMPLE, Clara (EX-0003)`: an agenda case by name and MRN (the MRN alone when no
    name is recorded)."""
    family = (entry.family_name or "").upper()  # as the agenda's Name column reads
    name = ", ".join(x for x in (family, entry.given_name or "") if x)
    # the name isolated: a right-to-left name keeps "(MRN)" after it in a left-to-right text
    return f"\u2068{name}\u2069 ({entry.mrn})" if name else entry.mrn


class NoteDialog(QDialog):
    """One line of required text (a hold-back note, a question); Enter saves, Esc cancels.
    `save(text, done, failed)` is called on OK (through the door); a refusal is shown and
    the dialog stays open."""

    def __init__(
        self,
        title: str,
        prompt: str,
        parent: QWidget | None = None,
        *,
        text: str = "",
        required: str = "This is required.",
        save: Any = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(560, 0)
        self.save = save
        self.required = required
        self.result_value: Any = None
        layout = QVBoxLayout(self)
        label = QLabel(prompt)
        label.setWordWrap(True)
        # a dialog does not size itself by height-for-width: the prompt's lines are asked for
        # at the dialog's width, or all but the first were cut
        margins = layout.contentsMargins()
        label.setMinimumHeight(label.heightForWidth(560 - margins.left() - margins.right()))
        layout.addWidget(label)
        self.edit = QLineEdit(text)
        self.edit.setAccessibleName(title)
        label.setBuddy(self.edit)
        layout.addWidget(self.edit)
        self.problems = problem_label()
        layout.addWidget(self.problems)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.setFocus()

    @property
    def text(self) -> str:
        return self.edit.text().strip()

    def accept(self) -> None:
        if not self.text:
            show_problems(self.problems, self.required)
            return
        if self.save is None:
            super().accept()
            return
        self.setEnabled(False)

        def saved(value: Any) -> None:
            self.result_value = value
            self.setEnabled(True)
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            show_problems(self.problems, error_text(error))

        self.save(self.text, saved, refused)


class AgendaDialog(QDialog):
    """Put a case on a meeting's agenda with the question the board must answer."""

    def __init__(
        self,
        door: Door,
        meetings: Sequence[MeetingSummary | MeetingListing],
        meeting_id: int | None,
        mrn: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.setWindowTitle("Add case to agenda")
        self.resize(620, 0)
        self.item_id: int | None = None
        self.meeting_id: int | None = None
        self.mrn = ""
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.meeting_combo = QComboBox()
        self.meeting_combo.setAccessibleName("Meeting")
        for meeting in meetings:
            label = locale_date(meeting.date)
            if meeting.fields.time:
                label += f" {meeting.fields.time}"
            if meeting.fields.location:
                label += f" — {meeting.fields.location}"
            self.meeting_combo.addItem(label, meeting.id)
        if meeting_id is not None:
            self.meeting_combo.setCurrentIndex(max(self.meeting_combo.findData(meeting_id), 0))
        self.mrn_edit = QLineEdit(mrn)
        self.mrn_edit.setAccessibleName("MRN")
        self.name_label = QLabel()
        self.question_edit = QLineEdit()
        self.question_edit.setAccessibleName("Question for the board")
        self.question_edit.setPlaceholderText("What must the board decide?")
        form.addRow("Meeting *", self.meeting_combo)
        form.addRow("MRN *", self.mrn_edit)
        form.addRow("", self.name_label)
        form.addRow("Question for the board *", self.question_edit)
        layout.addLayout(form)
        self.problems = problem_label()
        layout.addWidget(self.problems)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.mrn_edit.editingFinished.connect(self._show_name)
        # a name shown stays only beside the MRN it was read for; the new one is looked up
        # when the field is left
        self.mrn_edit.textEdited.connect(lambda _text: self.name_label.setText(""))
        self._show_name()
        (self.question_edit if mrn else self.mrn_edit).setFocus()

    def _show_name(self) -> None:
        mrn = self.mrn_edit.text().strip()
        if not mrn:
            self.name_label.setText("")
            return

        def found(case: Any) -> None:
            if self.mrn_edit.text().strip() == mrn:
                self.name_label.setText(case.display_name())

        def missing(_error: BaseException) -> None:
            if self.mrn_edit.text().strip() == mrn:
                self.name_label.setText(f"There is no case with MRN {mrn}.")

        self.door.get_case(mrn, found, missing)

    def accept(self) -> None:
        meeting_id = self.meeting_combo.currentData()
        problems = []
        if meeting_id is None:
            problems.append("meeting: create a meeting first")
        if not self.mrn_edit.text().strip():
            problems.append("mrn: is required")
        if not self.question_edit.text().strip():
            problems.append("question: is required — say what the board must decide")
        if problems:
            show_problems(self.problems, "Please correct:\n" + "\n".join(problems))
            return
        mrn = self.mrn_edit.text().strip()
        self.setEnabled(False)

        def added(result: Any) -> None:
            self.setEnabled(True)
            self.item_id = result.item_id
            self.meeting_id = int(meeting_id)
            self.mrn = mrn
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            show_problems(self.problems, error_text(error))

        self.door.add_to_agenda(int(meeting_id), mrn, self.question_edit.text(), added, refused)


def short_readiness(message: str) -> str:
    """What is missing, without its details: `molecular profile incomplete: request RAS,
    BRAF and MMR/MSI — …` → `molecular profile incomplete`."""
    return message.split(" — ")[0].split(": ")[0].split(" (")[0]


class ReadinessDialog(QDialog):
    """Prepare meeting: per agenda case, what is missing or outdated as of the meeting
    date; a case can be held back to the next meeting from here."""

    changed = Signal()

    def __init__(self, door: Door, meeting_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.meeting_id = meeting_id
        self.setWindowTitle("Prepare meeting — readiness check")
        self.resize(1180, 620)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Case and what is missing or outdated", "Check"])
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setWordWrap(True)
        self.tree.currentItemChanged.connect(lambda *_a: self._update_buttons())
        layout.addWidget(self.tree, 1)
        self.problems = problem_label()
        layout.addWidget(self.problems)
        row = QHBoxLayout()
        self.hold_button = QPushButton("&Hold back to next meeting…")
        self.hold_button.setAutoDefault(False)
        self.hold_button.setToolTip("Move the selected case to the next meeting, with a note")
        self.hold_button.clicked.connect(self.hold_back)
        guard(door, self.hold_button)  # not while the database is read-only here
        row.addWidget(self.hold_button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.results: list[tuple[AgendaEntry, list[Any]]] = []
        self.load()

    def load(self) -> None:
        """Read the readiness of the agenda's cases (through the door) and show it."""

        def refused(error: BaseException) -> None:
            self.tree.clear()
            show_problems(self.problems, error_text(error))
            self.results = []
            self._update_buttons()

        self.door.prepare(self.meeting_id, self._show, refused)

    def _show(self, found: tuple[MeetingSummary, list[tuple[AgendaEntry, list[Any]]]]) -> None:
        meeting, self.results = found
        self.tree.clear()
        style = self.style()
        warn = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        ready = style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        not_ready = 0
        for position, (entry, items) in enumerate(self.results, 1):
            name = ", ".join(
                x for x in ((entry.family_name or "").upper(), entry.given_name or "") if x
            )
            state = (
                "discussed"
                if entry.status == "discussed"
                else f"{len(items)} to complete"
                if items
                else "ready"
            )
            top = QTreeWidgetItem([f"{position}. {entry.mrn}  {name} — {entry.question}", state])
            top.setIcon(0, warn if items else ready)
            top.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            top.setToolTip(0, entry.question)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            self.tree.addTopLevelItem(top)
            for item in items:
                what, _, detail = item.message.partition(" — ")
                child = QTreeWidgetItem([what, item.code])
                child.setIcon(0, warn)
                child.setToolTip(0, item.message)
                child.setData(0, Qt.ItemDataRole.UserRole, entry.id)
                top.addChild(child)
                if detail:
                    more = QTreeWidgetItem([detail, ""])
                    more.setToolTip(0, detail)
                    more.setData(0, Qt.ItemDataRole.UserRole, entry.id)
                    child.addChild(more)
            top.setExpanded(True)
            for index in range(top.childCount()):
                child_item = top.child(index)
                if child_item is not None:
                    child_item.setExpanded(True)
            not_ready += bool(items)
        cases = len(self.results)
        self.summary.setText(
            f"Meeting {locale_date(meeting.date)}: {cases} case(s) on the agenda, "
            f"{not_ready} with something missing or outdated as of the meeting date. "
            "Select a case to hold it back to the next meeting."
        )
        first = self.tree.topLevelItem(0)
        if first is not None:
            self.tree.setCurrentItem(first)
        self._update_buttons()

    def selected_item_id(self) -> int | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        value = item.data(0, Qt.ItemDataRole.UserRole)
        return None if value is None else int(value)

    def select_case(self, mrn: str) -> None:
        for index, (entry, _items) in enumerate(self.results):
            item = self.tree.topLevelItem(index)
            if entry.mrn == mrn and item is not None:
                self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        self.hold_button.setEnabled(self.selected_item_id() is not None)

    def hold_back(self) -> None:
        item_id = self.selected_item_id()
        if item_id is None:
            return
        entry = next(e for e, _i in self.results if e.id == item_id)
        target = hold_back_dialog(self.door, entry, self)
        if target is not None:
            self.changed.emit()
            self.load()


def hold_back_dialog(door: Door, entry: AgendaEntry, parent: QWidget) -> int | None:
    """Ask for the note and hold the case back; the next meeting's id, or None."""
    if entry.status == "discussed":
        QMessageBox.information(
            parent,
            "Hold back",
            f"Case {entry.mrn} was already discussed at this meeting; it cannot be held back.",
        )
        return None
    dialog = NoteDialog(
        "Hold back to next meeting",
        f"Why is the case of {whose(entry)} held back? It moves to the next meeting with "
        "its question.",
        parent,
        required="Say why the case is held back (for example: awaiting MRI).",
        save=lambda note, done, failed: door.hold_back(entry.id, note, done, failed),
    )
    if dialog.exec():
        return int(dialog.result_value.meeting_id)
    return None
