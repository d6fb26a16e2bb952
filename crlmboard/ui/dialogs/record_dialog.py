"""A dialog that edits one record with its generated form (Enter or Ctrl+S saves, Esc
cancels); a record of a patient says whose in its title and its patient banner.

A new record prefilled from an earlier one (the next chemotherapy cycle) shows each copied
value greyed and in italics, with where it came from; it is saved only when each is
confirmed (Ctrl+Enter confirms them all: the record is one row) or changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from crlmboard.domain.models import Patient, Record
from crlmboard.domain.validation import Problem
from crlmboard.ui import copied as copies
from crlmboard.ui.colours import problem_style
from crlmboard.ui.discard import discard_typed
from crlmboard.ui.forms import FieldEditor, RecordForm, date_hint, problems_text
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name

MIN_WIDTH = 600


class RecordDialog(QDialog):
    """Edit or create one record; `result_record` holds the validated record after OK.

    `copied` names the fields prefilled from another record, `copied_from` says which
    (`cycle 8 (2025-03-10)`); those fields must be confirmed or changed before OK."""

    def __init__(
        self,
        model: type[Record],
        record: Record | None,
        title: str,
        parent: QWidget | None = None,
        *,
        today: dt.date | None = None,
        note: str = "",
        patient: Patient | None = None,
        copied: Iterable[str] = (),
        copied_from: str = "",
        typed: bool = False,
    ):
        """`typed`: `record` is what the user typed and was refused, not a stored record
        (the New case dialog asked again): Esc and Cancel ask before it is thrown away."""
        super().__init__(parent)
        # whose record this writes: "Add chemotherapy cycle — DEMOSON, Lukas"
        self.setWindowTitle(title if patient is None else f"{title} — {patient_name(patient)}")
        self.banner = PatientBanner()
        # wide enough that the longest reason (the MRN's rule) reads on one or two lines
        self.setMinimumWidth(MIN_WIDTH)
        self.form = RecordForm(model)
        if today is not None:
            self.form.today = today
        self.form.set_record(record)
        self.base = record
        self.typed = typed
        for empty in self._empty_required_dates():  # no date is assumed: it is typed
            assert empty.line is not None
            empty.line.setPlaceholderText(f"required: {date_hint()}")
        self.result_record: Record | None = None
        layout = QVBoxLayout(self)
        if patient is not None:
            self.banner.show_patient(patient, today or dt.date.today())
        layout.addWidget(self.banner)
        if note:
            hint = QLabel(note)
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addWidget(self.form)
        self.count_label = QLabel()
        self.count_label.setObjectName("copiedCount")
        layout.addWidget(self.count_label)
        self.message = QLabel()
        self.message.setStyleSheet(problem_style())
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.cancel)
        layout.addWidget(self.buttons)
        self.form.edited.connect(self._update_ok)
        self.copied_from = copied_from
        for name in copied:
            editor = self.form.editors.get(name)
            if editor is not None and editor.raw_value()[0] is not None:
                self._mark(editor)
        for key in copies.CONFIRM_KEYS:
            QShortcut(QKeySequence(key), self).activated.connect(self.confirm_copied)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.accept)
        self._update_ok()
        self.form.focus_first()

    # -- copied values ----------------------------------------------------------------

    def _input(self, editor: FieldEditor) -> QWidget:
        widget = editor.combo or editor.line
        assert widget is not None
        return widget

    def _mark(self, editor: FieldEditor) -> None:
        widget = self._input(editor)
        copies.mark_widget(widget, self.copied_from)
        editor.changed.connect(lambda: self._confirm(editor))
        if editor.combo is not None:  # the same choice made again is a confirmation
            editor.combo.activated.connect(lambda _i: self._confirm(editor))

    def _confirm(self, editor: FieldEditor) -> None:
        widget = self._input(editor)
        if copies.widget_source(widget):
            copies.mark_widget(widget, None)
            self._update_ok()

    def copied_fields(self) -> list[str]:
        """Fields still holding a copied value nobody confirmed or changed."""
        return [
            name
            for name, editor in self.form.editors.items()
            if copies.widget_source(self._input(editor))
        ]

    def confirm_copied(self) -> None:
        """Ctrl+Enter: keep every copied value as it is (the record is one row)."""
        for editor in self.form.editors.values():
            self._confirm(editor)
        self.message.clear()

    def _update_ok(self) -> None:
        count = len(self.copied_fields())
        self.count_label.setText(copies.count_text(count))
        self.count_label.setVisible(bool(count))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not self.form.problems and not count)
        ok.setToolTip(
            f"{copies.count_text(count)} first ({copies.CONFIRM_KEY_TEXT})" if count else ""
        )

    def _empty_required_dates(self) -> list[FieldEditor]:
        return [
            editor
            for editor in self.form.editors.values()
            if editor.spec.kind == "date"
            and editor.spec.required
            and editor.line is not None
            and not editor.line.text().strip()
        ]

    # -- saving -----------------------------------------------------------------------

    def show_refusal(self, problems: Iterable[Problem], prefix: str = "") -> None:
        """What the database refused of this record when it was saved (an MRN another case
        has): each reason next to its field, all of them above the buttons, the focus in
        the first field named.  `prefix` is the record's place in the case (`patient.`)."""
        problems = [Problem(p.path.removeprefix(prefix), p.message) for p in problems]
        first: FieldEditor | None = None
        for problem in problems:
            editor = self.form.editors.get(problem.path.split(".")[0].split("[")[0])
            if editor is not None:
                editor.show_reason(problem.message)
                first = first or editor
        self.message.setText("Not saved: " + problems_text(problems, self.form.model))
        self.form.edited.connect(self.message.clear)  # the next change answers it
        target = first.line or first.combo if first is not None else None
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            if first is not None and first.line is not None:
                first.line.selectAll()

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

    def cancel(self) -> None:
        """Esc or Cancel: closed, after asking when values typed here would be lost."""
        if self.unsaved() and not discard_typed(self):
            return
        self.reject()

    def unsaved(self) -> bool:
        """Values here that are not stored: typed in this dialog, or brought back to it."""
        return self.typed or self.form.modified()

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window's close button asks as Cancel does."""
        if event.spontaneous() and self.unsaved() and not discard_typed(self):
            event.ignore()
            return
        super().closeEvent(event)

    def accept(self) -> None:
        count = len(self.copied_fields())
        if count:
            self.message.setText(
                f"Not saved: {copies.count_text(count)}. Change each, or press "
                f"{copies.CONFIRM_KEY_TEXT} to keep the copied values."
            )
            return
        missing = self._empty_required_dates()
        record = self.form.record()
        if record is None:
            # the reasons are shown next to the fields; a date left empty said here too
            if missing:
                labels = " and ".join(e.spec.label for e in missing)
                self.message.setText(
                    f"Not saved: {labels} is required (no date is assumed); type it."
                )
            return
        self.result_record = record
        super().accept()
