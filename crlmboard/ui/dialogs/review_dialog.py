"""The review of one case at a meeting: the question and the frozen evaluation (findings by
severity with icons and words, the key facts) on the left, the board's record on the right
(recommendation, decision, rationale, actions, next review, attendees, signer), and Sign.

A signed review is never changed: "Amend…" opens the same dialog prefilled from the signed
review and signs a new review that names it.  The follow-up of a signed recommendation is
recorded with `FollowUpDialog`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.case import Case
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.labels import value_label
from crlmboard.domain.meeting import SIGNATURE_MEANING, Review, signing_too_early
from crlmboard.domain.models import (
    Attendee,
    FollowUpReason,
    FollowUpStatus,
    ReviewAction,
    ReviewFields,
    Strategy,
)
from crlmboard.domain.validation import Problem, problems_from_error
from crlmboard.ui.dialogs.meeting_dialog import error_text, problem_label, role_text, show_problems
from crlmboard.ui.forms import DateEdit, iso_text, locale_date, problems_text
from crlmboard.ui.ops import Door, ReviewDraft
from crlmboard.ui.views.overview import OverviewView

FINAL = "A signed review is never changed; corrections are amendments."

FOLLOW_UP_LABELS = {
    FollowUpStatus.PENDING: "pending",
    FollowUpStatus.DONE: "done",
    FollowUpStatus.CHANGED: "changed",
    FollowUpStatus.NOT_DONE: "not done",
}


def follow_up_text(review: Review) -> str:
    """`not done — patient choice` as the Reviews tab shows it ('' when unsigned)."""
    if not review.signed:
        return ""
    follow_up = review.follow_up
    if follow_up is None:
        return "pending"
    text = FOLLOW_UP_LABELS.get(follow_up.status, str(follow_up.status))
    if follow_up.reason is not None:
        text += f" — {value_label(follow_up.reason).lower()}"
    if follow_up.recorded_on is not None:
        text += f" ({locale_date(follow_up.recorded_on)})"
    return text


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _text_edit(name: str, lines: int) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setAccessibleName(name)
    edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 12)
    return edit


class ActionsTable(QTableWidget):
    """The review's actions, one row each (action, owner, due), kept keyboard-only: Insert
    (or Space in an empty table) adds a row; Tab walks action → owner → due within the row
    and then leaves the table, Shift+Tab walks back."""

    add_requested = Signal()
    LAST = 2

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Insert or (key == Qt.Key.Key_Space and self.rowCount() == 0):
            self.add_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        row, column = self.currentRow(), self.currentColumn()
        if row >= 0:
            step = 1 if next else -1
            if 0 <= column + step <= self.LAST:
                self.setCurrentCell(row, column + step)
                return True
        return super().focusNextPrevChild(next)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        # Tab from the due date (Shift+Tab from the action) leaves the table instead of
        # wrapping to the next row's cell
        column = self.currentColumn()
        leave = (
            hint == QAbstractItemDelegate.EndEditHint.EditNextItem and column == self.LAST
        ) or (hint == QAbstractItemDelegate.EndEditHint.EditPreviousItem and column == 0)
        if not leave:
            super().closeEditor(editor, hint)
            return
        super().closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        forward = hint == QAbstractItemDelegate.EndEditHint.EditNextItem
        super().focusNextPrevChild(forward)


class ReviewDialog(QDialog):
    """Record and sign the board's review of one agenda case (or an amendment of a signed
    review when `amends` is given); `review_index` holds the signed review's index."""

    def __init__(
        self,
        door: Door,
        draft: ReviewDraft,
        parent: QWidget | None = None,
        *,
        amends: int | None = None,
        previous: Review | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.draft = draft
        self.amends = amends
        self.review_index: int | None = None
        case, meeting = draft.case, draft.meeting
        self.setWindowTitle(
            ("Amend review" if amends is not None else "Review")
            + f" — {case.mrn} at the meeting of {locale_date(meeting.date)}"
        )
        self.resize(1240, 680)
        layout = QVBoxLayout(self)

        question = QLabel(f"Question for the board: {draft.entry.question}")
        question.setWordWrap(True)
        question.setTextFormat(Qt.TextFormat.PlainText)
        question.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = question.font()
        font.setBold(True)
        question.setFont(font)
        layout.addWidget(question)
        if amends is not None and previous is not None:
            note = QLabel(
                f"This amendment corrects review {amends + 1} (meeting "
                f"{locale_date(previous.meeting_date)}, signed by "
                f"{previous.signed_by}). That review stays as it was; the "
                "amendment is a new signed review that names it."
            )
            note.setWordWrap(True)
            layout.addWidget(note)

        splitter = QSplitter()
        self.overview = OverviewView()
        self.overview.findings.setColumnWidth(0, 440)
        self.overview.rule_requested.connect(self._show_rule)
        self.evaluation = EvaluationView.parse(draft.evaluation, case)  # the frozen one
        self.overview.show_case(case, self.evaluation, _age(case.patient.birth_date, meeting.date))
        self.overview.engine_note.setText(
            "Frozen with the review: " + self.overview.engine_note.text()
        )
        findings = self.overview.findings
        findings.expandAll()  # each finding's message, values and sources
        for group in range(findings.topLevelItemCount()):
            top = findings.topLevelItem(group)
            for number in range(top.childCount() if top is not None else 0):
                finding = top.child(number) if top is not None else None
                for line in range(finding.childCount() if finding is not None else 0):
                    detail = finding.child(line) if finding is not None else None
                    if detail is not None:  # the details use the rule column's width too
                        detail.setFirstColumnSpanned(True)
                        detail.setToolTip(0, detail.text(0))
        left = QScrollArea()
        left.setWidgetResizable(True)
        left.setFrameShape(QScrollArea.Shape.NoFrame)
        # the summary keeps its height; the findings get the rest (scrolling if need be)
        self.overview.setMinimumHeight(self.overview.sizeHint().height() + 120)
        left.setWidget(self.overview)
        splitter.addWidget(left)
        splitter.addWidget(self._record_form(previous))
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([720, 500])
        layout.addWidget(splitter, 1)

        self.problems = problem_label()
        layout.addWidget(self.problems)
        final = QLabel(FINAL)
        self.buttons = QDialogButtonBox()
        self.sign_button = self.buttons.addButton(
            "&Sign…" if amends is None else "&Sign amendment…",
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.sign_button.setToolTip("Sign the review (Ctrl+Enter). " + FINAL)
        self.sign_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(final, 1)
        row.addWidget(self.buttons)
        layout.addLayout(row)
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(key), self).activated.connect(self.accept)
        self.recommendation_combo.setFocus()

    # -- the form -----------------------------------------------------------------------

    def _record_form(self, previous: Review | None) -> QWidget:
        box = QGroupBox("The board's review")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.recommendation_combo = QComboBox()
        self.recommendation_combo.setAccessibleName("Recommendation")
        self.recommendation_combo.addItem("— no strategy —", None)
        for strategy in Strategy:
            self.recommendation_combo.addItem(value_label(strategy), strategy.value)
        plan = self.draft.case.plan
        self.decision_edit = _text_edit("Decision", 4)
        self.rationale_edit = _text_edit("Rationale", 3)
        form.addRow("Recommendation", self.recommendation_combo)
        if plan is not None and plan.strategy is not None:
            # shown, not preselected: the board states its recommendation itself
            form.addRow("", QLabel(f"Strategy in the case's plan: {value_label(plan.strategy)}"))
        form.addRow("Decision *", self.decision_edit)
        form.addRow("Rationale", self.rationale_edit)

        actions = QWidget()
        actions_layout = QVBoxLayout(actions)
        actions_layout.setContentsMargins(0, 0, 0, 0)
        self.actions_table = ActionsTable(0, 3)
        self.actions_table.setAccessibleName("Actions")
        self.actions_table.add_requested.connect(lambda: self.add_action(edit=True))
        self.actions_table.setHorizontalHeaderLabels(["Action", "Owner", "Due (YYYY-MM-DD)"])
        header = self.actions_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.actions_table.verticalHeader().hide()
        self.actions_table.setMinimumHeight(self.fontMetrics().lineSpacing() * 6)
        self.actions_table.setTabKeyNavigation(False)
        actions_layout.addWidget(self.actions_table)
        buttons = QHBoxLayout()
        add = QPushButton("&Add action")
        add.setToolTip("Add an action row (Insert in the table)")
        add.setAutoDefault(False)
        add.clicked.connect(lambda: self.add_action(edit=True))
        remove = QPushButton("Remove action")
        remove.setAutoDefault(False)
        remove.clicked.connect(self.remove_action)
        buttons.addStretch(1)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        actions_layout.addLayout(buttons)
        form.addRow("Actions", actions)

        self.next_review_picker = DateEdit("Next review date")
        self.next_review_edit = self.next_review_picker.line
        form.addRow("Next review", self.next_review_picker)

        self.attendees_list = QListWidget()
        self.attendees_list.setAccessibleName("Attendees")
        self.attendees_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.attendees_list.setMinimumHeight(self.fontMetrics().lineSpacing() * 5)
        form.addRow("Attendees", self.attendees_list)
        # Who signs is who is logged in (the server's session user, or the OS account):
        # never a name typed here (21 CFR 11.50: printed name, time with zone, meaning).
        signer = self.door.identity.name
        meaning = (
            SIGNATURE_MEANING
            if self.amends is None
            else f"amendment of review {self.amends + 1} approved as the board's decision"
        )
        clock = "the server's" if self.door.is_server else "this computer's"
        self.signer_label = QLabel(
            f"<b>{escape(signer, quote=False)}</b> — dated by {clock} clock when you sign "
            f"(UTC) — meaning: <i>{escape(meaning, quote=False)}</i>"
        )
        self.signer_label.setWordWrap(True)
        self.signer_label.setAccessibleName("Signed by")
        form.addRow("Signed by", self.signer_label)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Password")
        if self.door.needs_password:
            what = "passphrase" if self.door.encrypted else "password"
            self.password_edit.setPlaceholderText(f"re-enter your {what} to sign")
            form.addRow(f"Your {what} *", self.password_edit)
        else:
            self.password_edit.hide()

        present = [a for a in self.draft.meeting.attendees]
        checked = None
        if previous is not None:
            checked = {(a.name, a.role) for a in previous.attendees}
            present += [a for a in previous.attendees if a not in present]
            self.recommendation_combo.setCurrentIndex(
                max(
                    self.recommendation_combo.findData(
                        previous.recommendation.value if previous.recommendation else None
                    ),
                    0,
                )
            )
            self.decision_edit.setPlainText(previous.decision or "")
            self.rationale_edit.setPlainText(previous.rationale or "")
            for action in previous.actions:
                self.add_action(action)
            if previous.next_review_date is not None:
                self.next_review_edit.setText(locale_date(previous.next_review_date))
        # the attendees stay in Python: a row's data is its index in `self.people`
        self.people: list[Attendee] = present
        for number, attendee in enumerate(present):
            item = QListWidgetItem(f"{attendee.name} — {role_text(attendee.role)}")
            item.setData(Qt.ItemDataRole.UserRole, number)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            # nobody is ticked present by default: the board records who attended
            on = checked is not None and (attendee.name, attendee.role) in checked
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.attendees_list.addItem(item)
        if not present:
            self.attendees_list.addItem(
                QListWidgetItem("No attendees recorded for this meeting (Edit meeting… adds them).")
            )

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(box)
        return scroll

    def add_action(self, action: ReviewAction | None = None, *, edit: bool = False) -> None:
        row = self.actions_table.rowCount()
        self.actions_table.insertRow(row)
        values = (
            ("", "", "")
            if action is None
            else (action.text, action.owner or "", locale_date(action.due))
        )
        for column, value in enumerate(values):
            self.actions_table.setItem(row, column, QTableWidgetItem(value))
        if edit:
            self.actions_table.setCurrentCell(row, 0)
            item = self.actions_table.item(row, 0)
            if item is not None:
                self.actions_table.editItem(item)

    def remove_action(self) -> None:
        row = self.actions_table.currentRow()
        if row >= 0:
            self.actions_table.removeRow(row)

    def _show_rule(self, rule: str) -> None:
        from crlmboard.ui.dialogs.rule_catalogue import RuleCatalogueDialog

        def show(found: tuple[list[dict[str, Any]], str]) -> None:
            dialog = RuleCatalogueDialog(found[0], found[1], self)
            dialog.select_rule(rule)
            dialog.exec()

        self.door.rule_catalogue(show)

    # -- values -------------------------------------------------------------------------

    def review_actions(self) -> tuple[list[ReviewAction], list[Problem]]:
        found: list[ReviewAction] = []
        problems: list[Problem] = []
        for row in range(self.actions_table.rowCount()):
            cells = [self.actions_table.item(row, c) for c in range(3)]
            text, owner, due = ((c.text().strip() if c is not None else "") for c in cells)
            if not (text or owner or due):
                continue
            try:
                found.append(
                    ReviewAction.model_validate(
                        {"text": text, "owner": owner or None, "due": iso_text(due) or None}
                    )
                )
            except ValidationError as error:
                problems += problems_from_error(error, f"actions[{row}]")
        return found, problems

    def attendees(self) -> list[Attendee]:
        chosen = []
        for row in range(self.attendees_list.count()):
            item = self.attendees_list.item(row)
            number = item.data(Qt.ItemDataRole.UserRole)
            if isinstance(number, int) and item.checkState() == Qt.CheckState.Checked:
                chosen.append(self.people[number])
        return chosen

    def values(self) -> tuple[dict[str, Any], list[Problem]]:
        """The fields for `board.reviews.sign`, and what is wrong with them."""
        problems: list[Problem] = []
        values: dict[str, Any] = {
            "recommendation": self.recommendation_combo.currentData(),
            "decision": self.decision_edit.toPlainText().strip(),
            "rationale": self.rationale_edit.toPlainText().strip(),
            "next_review_date": iso_text(self.next_review_edit.text()) or None,
            "attendees": self.attendees(),
        }
        if not values["decision"]:
            problems.append(Problem("decision", "record the board's decision"))
        early = signing_too_early(self.draft.meeting.date, self.door.today())
        if early:
            problems.append(Problem("meeting_date", early))
        if self.door.needs_password:
            values["password"] = self.password_edit.text()
            if not values["password"]:
                problems.append(Problem("password", "re-enter your password to sign"))
        try:
            fields = ReviewFields.model_validate(
                {
                    "meeting_date": self.draft.meeting.date,
                    "next_review_date": values["next_review_date"],
                    "recommendation": values["recommendation"],
                }
            )
            if (
                fields.next_review_date is not None
                and fields.next_review_date < self.draft.meeting.date
            ):
                problems.append(Problem("next_review_date", "must not be before the meeting date"))
        except ValidationError as error:
            problems += problems_from_error(error)
        actions, action_problems = self.review_actions()
        values["actions"] = actions
        return values, problems + action_problems

    # -- signing ------------------------------------------------------------------------

    def confirm(self, signer: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Sign the review",
            f"Sign this review of {self.draft.case.mrn} as {signer}, meaning "
            f"“{SIGNATURE_MEANING}”?\n\n{FINAL}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def accept(self) -> None:
        values, problems = self.values()
        if problems:
            text = problems_text(problems, ReviewFields)
            show_problems(self.problems, "Please correct:\n" + text)
            return
        show_problems(self.problems, "")
        if not self.confirm(self.door.identity.name):
            return
        self.setEnabled(False)  # until the database answered

        def signed(result: Any) -> None:
            self.setEnabled(True)
            self.review_index = result.index
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            show_problems(self.problems, error_text(error))

        if self.amends is None:
            self.door.sign_review(self.draft, values, signed, refused)
        else:
            self.door.amend_review(
                self.draft.case.mrn, self.amends, self.draft.meeting.id, values, signed, refused
            )


def latest_review_at(case: Case, meeting_date: dt.date) -> int | None:
    """The index of the latest signed review of a case made at a meeting date."""
    found = [i for i, r in enumerate(case.reviews) if r.signed and r.meeting_date == meeting_date]
    return found[-1] if found else None


def amend_review(parent: QWidget, door: Door, case: Case, index: int, done: Any = None) -> None:
    """Open the review dialog prefilled from signed review `index` and sign an amendment at
    the meeting the review was made at; `done(index of the amendment)` when one was
    signed."""
    if not 0 <= index < len(case.reviews) or not case.reviews[index].signed:
        QMessageBox.information(
            parent,
            "Amend review",
            "Only a signed review can be amended; select a signed review in the list.",
        )
        return
    review = case.reviews[index]

    def refused(error: BaseException) -> None:
        QMessageBox.warning(
            parent,
            "Amend review",
            f"{error} An amendment is signed at the meeting the review was "
            "made at; that meeting and its agenda entry are needed.",
        )

    def started(draft: ReviewDraft) -> None:
        dialog = ReviewDialog(door, draft, parent, amends=index, previous=review)
        if dialog.exec() and dialog.review_index is not None and done is not None:
            done(dialog.review_index)

    door.amendment(case.mrn, review.meeting_date, started, refused)


class FollowUpDialog(QDialog):
    """Whether a signed recommendation was carried out: status, coded reason, note."""

    def __init__(
        self,
        door: Door,
        mrn: str,
        review_index: int,
        review: Review,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.mrn = mrn
        self.review_index = review_index
        self.setWindowTitle(f"Follow-up — {mrn}, review of {locale_date(review.meeting_date)}")
        self.resize(560, 0)
        layout = QVBoxLayout(self)
        summary = QLabel(
            f"Recommendation: {value_label(review.recommendation)}\n"
            f"Decision: {review.decision or '—'}"
        )
        summary.setWordWrap(True)
        summary.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(summary)
        form = QFormLayout()
        self.status_combo = QComboBox()
        self.status_combo.setAccessibleName("Follow-up status")
        for status, label in FOLLOW_UP_LABELS.items():
            self.status_combo.addItem(label, status.value)
        self.reason_combo = QComboBox()
        self.reason_combo.setAccessibleName("Reason")
        self.reason_combo.addItem("—", None)
        for reason in FollowUpReason:
            self.reason_combo.addItem(value_label(reason), reason.value)
        self.note_edit = QLineEdit()
        self.note_edit.setAccessibleName("Note")
        self.reason_label = QLabel("Reason")
        form.addRow("Status *", self.status_combo)
        form.addRow(self.reason_label, self.reason_combo)
        form.addRow("Note", self.note_edit)
        layout.addLayout(form)
        current = review.follow_up
        if current is not None:
            self.status_combo.setCurrentIndex(
                max(self.status_combo.findData(current.status.value), 0)
            )
            self.reason_combo.setCurrentIndex(
                max(self.reason_combo.findData(current.reason.value if current.reason else None), 0)
            )
            self.note_edit.setText(current.note or "")
        self.problems = problem_label()
        layout.addWidget(self.problems)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.status_combo.currentIndexChanged.connect(lambda _i: self._update_reason())
        self._update_reason()
        self.status_combo.setFocus()

    def _needs_reason(self) -> bool:
        return self.status_combo.currentData() in (
            FollowUpStatus.CHANGED.value,
            FollowUpStatus.NOT_DONE.value,
        )

    def _update_reason(self) -> None:
        needed = self._needs_reason()
        self.reason_label.setText("Reason *" if needed else "Reason")
        self.reason_combo.setEnabled(needed)
        if not needed:
            self.reason_combo.setCurrentIndex(0)

    def accept(self) -> None:
        if self._needs_reason() and self.reason_combo.currentData() is None:
            show_problems(
                self.problems,
                "Please correct:\nreason: required when the "
                f"status is {self.status_combo.currentText()} — choose why",
            )
            return
        fields = {
            "status": self.status_combo.currentData(),
            "reason": self.reason_combo.currentData(),
            "note": self.note_edit.text().strip() or None,
        }
        self.setEnabled(False)

        def recorded(_changes: Any) -> None:
            self.setEnabled(True)
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            show_problems(self.problems, error_text(error))

        self.door.set_follow_up(self.mrn, self.review_index, fields, recorded, refused)


def record_follow_up(parent: QWidget, door: Door, case: Case, index: int) -> bool:
    """Ask for the follow-up of signed review `index`; True when it was recorded."""
    if not 0 <= index < len(case.reviews) or not case.reviews[index].signed:
        QMessageBox.information(
            parent,
            "Follow-up",
            "Follow-up is recorded for a signed review; select a signed review in the list.",
        )
        return False
    return bool(FollowUpDialog(door, case.mrn, index, case.reviews[index], parent).exec())


__all__: Sequence[str] = (
    "FollowUpDialog",
    "ReviewDialog",
    "amend_review",
    "follow_up_text",
    "latest_review_at",
    "record_follow_up",
)
