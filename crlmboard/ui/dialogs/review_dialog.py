"""The review of one case at a meeting: the question and the frozen evaluation (findings by
severity with icons and words, the key facts) on the left, the board's record on the right
(recommendation, decision, rationale, actions, next review, attendees, signer), and Sign.

A signed review is never changed: "Amend…" opens the same dialog prefilled from the signed
review and signs a new review that names it.  The follow-up of a signed recommendation is
recorded with `FollowUpDialog`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
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
from crlmboard.domain.meeting import (
    SIGNATURE_MEANING,
    Review,
    ReviewDraftText,
    signing_too_early,
)
from crlmboard.domain.models import (
    Attendee,
    FollowUpReason,
    FollowUpStatus,
    Patient,
    ReviewAction,
    ReviewFields,
    Strategy,
)
from crlmboard.domain.validation import InvalidInput, Problem, problems_from_error
from crlmboard.ui.colours import visible_outlines
from crlmboard.ui.dialogs.meeting_dialog import error_text, problem_label, role_text, show_problems
from crlmboard.ui.forms import DateEdit, date_hint, iso_text, locale_date, problems_text
from crlmboard.ui.ops import Door, ReviewDraft
from crlmboard.ui.views.overview import OverviewView
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

FINAL = "A signed review is never changed; corrections are amendments."
DRAFT_DELAY_MS = 800  # typing pauses this long before the draft is stored

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
            + f" — {patient_name(case.patient)} at the meeting of {locale_date(meeting.date)}"
        )
        self.resize(1240, 680)
        layout = QVBoxLayout(self)
        self.banner = PatientBanner()  # whose review is signed here
        self.banner.show_patient(case.patient, door.today())
        layout.addWidget(self.banner)

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
        self.draft_status = QLabel()
        self.draft_status.setObjectName("draftStatus")
        self.discard_button = QPushButton("&Discard draft…")
        self.discard_button.setAutoDefault(False)
        self.discard_button.setToolTip(
            "Forget what was typed in this review and not signed (asks first)"
        )
        self.discard_button.clicked.connect(self.discard_draft)
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
        row.addWidget(self.draft_status)
        row.addWidget(self.discard_button)
        row.addWidget(self.buttons)
        layout.addLayout(row)
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(key), self).activated.connect(self.accept)
        self.recommendation_combo.setFocus()

        # the draft: what is typed is stored (through the door) after a pause in typing,
        # and on Esc or close; it is read back when the review is opened again
        self._blank = self.draft_fields()  # the form as opened, before any draft
        if draft.saved is not None:
            self.show_draft(draft.saved)
            when = draft.saved.saved_at
            self.draft_status.setText(
                "Draft restored"
                + (
                    f" (typed {locale_date(when.astimezone().date())} {when.astimezone():%H:%M})"
                    if when is not None
                    else ""
                )
            )
        # what the database holds (or the form as opened); None: not known, store again
        self._stored: dict[str, Any] | None = self.draft_fields()
        self.discard_button.setEnabled(draft.saved is not None)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft)
        self._signing = False
        for signal in (
            self.recommendation_combo.currentIndexChanged,
            self.decision_edit.textChanged,
            self.rationale_edit.textChanged,
            self.next_review_edit.textChanged,
            self.actions_table.itemChanged,
            self.actions_table.model().rowsInserted,
            self.actions_table.model().rowsRemoved,
            self.attendees_list.itemChanged,
        ):
            signal.connect(self._typed)

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
        # the due date is typed and shown as every date field takes it (not only ISO)
        self.actions_table.setHorizontalHeaderLabels(["Action", "Owner", "Due"])
        due_header = self.actions_table.horizontalHeaderItem(2)
        if due_header is not None:
            due_header.setToolTip(f"Due date: {date_hint()}")
        header = self.actions_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # an owner's name has room before it is typed (it was as narrow as "Owner")
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        metrics = self.actions_table.fontMetrics()
        self.actions_table.setColumnWidth(1, metrics.horizontalAdvance("Medical oncology") + 16)
        self.actions_table.setColumnWidth(
            2, metrics.horizontalAdvance(locale_date(dt.date(2026, 12, 28))) + 24
        )
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
        visible_outlines(self.attendees_list)  # its check boxes, on a dark palette too
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
        # an encrypted file's passphrase, or the server login's password
        self._secret = "passphrase" if self.door.encrypted else "password"
        what = self._secret
        self.password_edit.setAccessibleName(what.capitalize())
        if self.door.needs_password:
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
                what = self._secret
                problems.append(Problem(what, f"re-enter your {what} to sign"))
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

    # -- the draft ----------------------------------------------------------------------

    def draft_fields(self) -> dict[str, Any]:
        """What is typed, as a draft stores it (dates and action rows as typed)."""
        actions = []
        for row in range(self.actions_table.rowCount()):
            cells = [self.actions_table.item(row, c) for c in range(3)]
            text, owner, due = ((c.text().strip() if c is not None else "") for c in cells)
            if text or owner or due:
                actions.append({"text": text or None, "owner": owner or None, "due": due or None})
        return {
            "recommendation": self.recommendation_combo.currentData(),
            "decision": self.decision_edit.toPlainText() or None,
            "rationale": self.rationale_edit.toPlainText() or None,
            "next_review": self.next_review_edit.text().strip() or None,
            "actions": actions,
            "attendees": [a.model_dump(mode="json") for a in self.attendees()],
        }

    def show_draft(self, saved: ReviewDraftText) -> None:
        """Fill the form with a stored draft."""
        combo = self.recommendation_combo
        combo.setCurrentIndex(max(combo.findData(saved.recommendation), 0))
        self.decision_edit.setPlainText(saved.decision or "")
        self.rationale_edit.setPlainText(saved.rationale or "")
        self.next_review_edit.setText(saved.next_review or "")
        self.actions_table.setRowCount(0)
        for action in saved.actions:
            row = self.actions_table.rowCount()
            self.actions_table.insertRow(row)
            for column, value in enumerate((action.text, action.owner, action.due)):
                self.actions_table.setItem(row, column, QTableWidgetItem(value or ""))
        present = {(a.name, a.role) for a in saved.attendees}
        for attendee in saved.attendees:  # someone no longer on the meeting's list
            if attendee not in self.people:
                if not any(isinstance(i, int) for i in self._numbers()):
                    self.attendees_list.clear()  # the "no attendees" line
                self.people.append(attendee)
                item = QListWidgetItem(f"{attendee.name} — {role_text(attendee.role)}")
                item.setData(Qt.ItemDataRole.UserRole, len(self.people) - 1)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                self.attendees_list.addItem(item)
        for row in range(self.attendees_list.count()):
            item = self.attendees_list.item(row)
            number = item.data(Qt.ItemDataRole.UserRole)
            if isinstance(number, int):
                person = self.people[number]
                on = (person.name, person.role) in present
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _numbers(self) -> list[Any]:
        return [
            self.attendees_list.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(self.attendees_list.count())
        ]

    def _typed(self, *_args: Any) -> None:
        if not self._signing:
            self._draft_timer.start()  # (again): stored after a pause in typing

    def save_draft(self) -> None:
        """Store what is typed, if it changed since it was last stored (through the door,
        audited); a draft of nothing removes the stored one."""
        self._draft_timer.stop()
        fields = self.draft_fields()
        if self._signing or fields == self._stored:
            return
        self._stored = fields
        meeting, mrn = self.draft.meeting.id, self.draft.case.mrn

        def kept(_changes: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
                self.draft_status.setText("Draft kept")
                self.discard_button.setEnabled(True)

        def refused(error: BaseException) -> None:
            self._stored = None  # stored again at the next change
            with contextlib.suppress(RuntimeError):
                self.draft_status.setText(f"The draft was not kept: {error_text(error)}")

        self.door.save_review_draft(meeting, mrn, self.amends, fields, kept, refused)

    def discard_draft(self) -> None:
        """Forget the stored draft (after asking) and show the review as it was opened."""
        answer = QMessageBox.question(
            self,
            "Discard draft",
            f"Discard what was typed in this review of {self.draft.case.mrn} and not "
            "signed? It cannot be brought back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._draft_timer.stop()
        self._signing = True  # no draft of the blank form
        try:
            self.show_draft(ReviewDraftText.model_validate(self._blank))
        finally:
            self._signing = False
        self._stored = self.draft_fields()
        self.discard_button.setEnabled(False)

        def discarded(_changes: Any) -> None:
            with contextlib.suppress(RuntimeError):
                self.draft_status.setText("Draft discarded")

        def refused(error: BaseException) -> None:
            with contextlib.suppress(RuntimeError):
                self.draft_status.setText(f"The draft was not discarded: {error_text(error)}")

        self.door.discard_review_draft(
            self.draft.meeting.id, self.draft.case.mrn, self.amends, discarded, refused
        )

    def reject(self) -> None:
        """Esc or Cancel: the dialog closes and what was typed stays as a draft."""
        self.save_draft()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_draft()
        super().closeEvent(event)

    # -- signing ------------------------------------------------------------------------

    def _focus_problem(self, paths: Sequence[str]) -> None:
        """The field of the first problem gets the focus, in sight, what it holds selected
        (the password sits at the foot of the form: out of sight at 1280×720, the focus
        left on Sign… and the next keys typed went nowhere)."""
        fields: dict[str, QWidget] = {
            "recommendation": self.recommendation_combo,
            "decision": self.decision_edit,
            "next_review_date": self.next_review_edit,
            "actions": self.actions_table,
            "password": self.password_edit,
            "passphrase": self.password_edit,
        }
        for path in paths:
            field = fields.get(path.split(".")[0].split("[")[0])
            if field is None or not field.isVisibleTo(self):
                continue
            field.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(field, QLineEdit):
                field.selectAll()
            scroll = field.parentWidget()
            while scroll is not None and not isinstance(scroll, QScrollArea):
                scroll = scroll.parentWidget()
            if scroll is not None:
                area = scroll
                area.ensureWidgetVisible(field)
                # again once the reasons shown above the buttons have taken their height
                QTimer.singleShot(0, area, lambda a=area, f=field: a.ensureWidgetVisible(f))
            return

    def confirm(self, signer: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Sign the review",
            f"Sign this review of {patient_name(self.draft.case.patient)} "
            f"({self.draft.case.mrn}) as {signer}, meaning “{SIGNATURE_MEANING}”?\n\n"
            # what the signature freezes: a letter typed in the list picks a strategy
            f"Recommendation: {self.recommendation_combo.currentText()}\n\n{FINAL}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def accept(self) -> None:
        values, problems = self.values()
        if problems:
            text = problems_text(problems, ReviewFields)
            show_problems(self.problems, "Please correct:\n" + text)
            self._focus_problem([p.path for p in problems])
            return
        show_problems(self.problems, "")
        if not self.confirm(self.door.identity.name):
            return
        self.setEnabled(False)  # until the database answered
        self.save_draft()  # kept should the signature be refused
        self._signing = True  # signed, the draft goes (in the same transaction)

        def signed(result: Any) -> None:
            self.setEnabled(True)
            self.review_index = result.index
            QDialog.accept(self)

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            self._signing = False
            show_problems(self.problems, error_text(error))
            if isinstance(error, InvalidInput):  # a passphrase or password not right
                self._focus_problem([p.path for p in error.problems])

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

    door.amendment(case.mrn, review.meeting_date, started, refused, amends=index)


class FollowUpDialog(QDialog):
    """Whether a signed recommendation was carried out: status, coded reason, note."""

    def __init__(
        self,
        door: Door,
        mrn: str,
        review_index: int,
        review: Review,
        parent: QWidget | None = None,
        *,
        patient: Patient | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.door = door
        self.mrn = mrn
        self.review_index = review_index
        who = patient_name(patient) if patient is not None else mrn
        self.setWindowTitle(f"Follow-up — {who}, review of {locale_date(review.meeting_date)}")
        self.resize(560, 0)
        layout = QVBoxLayout(self)
        self.banner = PatientBanner()
        if patient is not None:
            self.banner.show_patient(patient, door.today())
        layout.addWidget(self.banner)
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
    return bool(
        FollowUpDialog(
            door, case.mrn, index, case.reviews[index], parent, patient=case.patient
        ).exec()
    )


__all__: Sequence[str] = (
    "FollowUpDialog",
    "ReviewDialog",
    "amend_review",
    "follow_up_text",
    "latest_review_at",
    "record_follow_up",
)
