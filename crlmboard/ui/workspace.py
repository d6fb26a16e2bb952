"""The case workspace: the open case's tabs, and the controller that turns every edit into
one call through the door with the case version, pushed on the undo stack afterwards.

The open case follows the door's "changes applied" signal: a change to it made elsewhere
(a meeting, a follow-up, an import, a restore) reads it again, and a case that is no longer
in the database is closed with a word saying so."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QTabWidget, QWidget

from crlmboard.domain import models as m
from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine.history import signed_engine_version
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.validation import InvalidInput
from crlmboard.services.changes import BoardError, CaseNotFound, ChangeSet
from crlmboard.ui.forms import locale_date, problems_text
from crlmboard.ui.ops import CaseConflict, Door, failure_text
from crlmboard.ui.readonly import guard
from crlmboard.ui.views.overview import OverviewView
from crlmboard.ui.views.patient_banner import PatientBanner, patient_name
from crlmboard.ui.views.record_tabs import (
    FormsTab,
    ImagingTab,
    ListTab,
    PlanTab,
    StagingTab,
    _t,
    chemotherapy_lines,
)

log = logging.getLogger("crlmboard.ui")


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _follow_up_text(review: Any) -> str:
    from crlmboard.ui.dialogs.review_dialog import follow_up_text  # the dialog, on demand

    return follow_up_text(review)


class CaseEdit(QUndoCommand):
    """An edit already saved; undo and redo save the earlier or later case as new edits.
    Its text names the patient: "edit staging — DEMOSON, Lukas"."""

    def __init__(self, workspace: CaseWorkspace, before: Case, after: Case, text: str):
        super().__init__(f"{text[:1].lower()}{text[1:]} — {patient_name(after.patient)}")
        self.workspace = workspace
        self.before = before
        self.after = after
        self.first = True

    def patient_for(self, undo: bool) -> tuple[str, str]:
        """(MRN, name) of the case that undoing (or redoing) this step changes."""
        case = self.after if undo else self.before
        return case.mrn, patient_name(case.patient)

    def redo(self) -> None:
        if self.first:  # the edit was saved before it was pushed
            self.first = False
            return
        self.workspace.store(self.after, self.before.mrn, self._stored)

    def undo(self) -> None:
        self.workspace.store(self.before, self.after.mrn, self._stored)

    def _stored(self, ok: bool) -> None:
        if not ok:
            # refused: this step cannot be repeated, nor (answered later, from the
            # worker) can the steps around it be trusted
            self.setObsolete(True)
            self.workspace.undo_stack.clear()


class CaseWorkspace(QTabWidget):
    """Tabs of the open case; every change goes through `apply`."""

    case_replaced = Signal(str)  # the open case is no longer in the database (its MRN)
    case_shown = Signal(str)  # a case is shown (its MRN; "" when none is)
    rule_requested = Signal(str)
    modified_changed = Signal(bool)  # a tab has (or no longer has) changes not saved

    def __init__(self, door: Door, undo_stack: QUndoStack, parent: QWidget | None = None):
        super().__init__(parent)
        self.door = door
        self.undo_stack = undo_stack
        self.case: Case | None = None
        self.version = 0
        self.evaluation: EvaluationView | None = None
        self._engine_notes: list[str] = []
        self._keep = False  # the tabs filled from now keep what was typed (the same case)
        self._stale: set[QWidget] = set()  # tabs not showing the open case yet
        self.fills = 0  # tabs filled so far (each fill draws one tab)
        self.saving = False  # an edit on its way to the database
        self._arrived: list[Callable[[], None]] = []  # cases read, shown after the dialogs
        self.banner = PatientBanner()  # above the tabs (the main window places it)

        self.overview = OverviewView()
        self.overview.rule_requested.connect(self.rule_requested)
        self.timeline: QWidget | None = None
        self.staging = StagingTab(self.apply)
        self.plan = PlanTab(self.apply)
        self.chemotherapy = ListTab(
            "Chemotherapy cycles",
            [
                ("Line", lambda c: ""),
                ("Date", lambda c: _t(c.date)),
                ("Regimen", lambda c: _t(c.regimen)),
                ("Biologic", lambda c: _t(c.effective_biologic)),
                ("Cycle", lambda c: c.cycle),
                ("Days", lambda c: c.effective_cycle_length_days),
                ("Setting", lambda c: _t(c.setting)),
                ("Dose %", lambda c: _t(c.effective_dose_percent)),
                ("Toxicity", lambda c: _t(c.toxicity_grade)),
            ],
            "Add cycle",
            noun="chemotherapy cycle",
        )
        self.imaging = ImagingTab()
        self.procedures = ListTab(
            "Procedures and immunotherapy",
            [
                ("Date", lambda p: _t(p.date)),
                ("What", lambda p: _t(getattr(p, "procedure", None) or getattr(p, "agent", ""))),
                (
                    "Segments / cycle",
                    lambda p: _t(getattr(p, "segments", None) or getattr(p, "cycle", None)),
                ),
                ("Note", lambda p: getattr(p, "note", None) or _t(getattr(p, "setting", ""))),
            ],
            "Add procedure…",
            noun="procedure or dose",
        )
        self.outcomes = ListTab(
            "Surgery outcomes",
            [
                ("Date", lambda o: _t(o.date)),
                ("Procedure", lambda o: _t(o.procedure)),
                ("Margin", lambda o: f"{_t(o.margin_mm)} mm" if o.margin_mm is not None else ""),
                ("Margin status", lambda o: _t(o.margin_status)),
                ("Pathological response", lambda o: _t(o.pathological_response)),
                ("Clavien–Dindo", lambda o: _t(o.clavien_dindo)),
                ("Recurrence", lambda o: _t(o.recurrence_date)),
            ],
            "Add outcome…",
            noun="surgery outcome",
        )
        self.labs = ListTab(
            "Laboratory values",
            [
                ("Date", lambda x: _t(x.date)),
                ("CEA ng/mL", lambda x: _t(x.cea_ng_ml)),
                ("AST U/L", lambda x: _t(x.ast_u_l)),
                ("AST ULN U/L", lambda x: _t(x.ast_uln_u_l)),
                ("Platelets 10⁹/L", lambda x: _t(x.platelets_10e9_l)),
                ("Bilirubin µmol/L", lambda x: _t(x.bilirubin_umol_l)),
                ("Albumin g/L", lambda x: _t(x.albumin_g_l)),
            ],
            "Add lab values…",
            noun="lab result",
        )
        self.extrahepatic = ListTab(
            "Extrahepatic disease",
            [
                ("Site", lambda x: _t(x.site)),
                ("Detected on", lambda x: _t(x.detected_on)),
                ("Resectable", lambda x: _t(x.resectable)),
            ],
            "Add site…",
            noun="extrahepatic site",
        )
        self.reviews = ListTab(
            "Board reviews — signed reviews are never changed: Amend… "
            "signs a correction, Follow-up… records what was done",
            [
                ("#", self._review_number),
                ("Meeting", lambda r: _t(r.meeting_date)),
                ("Recommendation", lambda r: _t(r.recommendation)),
                ("Follow-up", _follow_up_text),
                ("Amends", lambda r: f"#{r.amends + 1}" if r.amends is not None else ""),
                (
                    "Signed",
                    lambda r: (
                        f"{r.signed_by}, {locale_date(r.signed_at.date())} {r.signed_at:%H:%M} UTC"
                        if r.signed_at
                        else "not signed"
                    ),
                ),
                ("Engine", lambda r: signed_engine_version(r.evaluation) or ""),
                ("Question", lambda r: r.question or ""),
                ("Decision", lambda r: r.decision or ""),
            ],
            "Follow-&up…",
        )
        self.reviews.edit_button.setText("Amen&d…")
        self.reviews.remove_button.hide()
        self.reviews.add_button.clicked.disconnect()
        self.reviews.add_button.clicked.connect(
            lambda: self.reviews._with_row(self.follow_up_review)
        )
        self.reviews.edit_requested.connect(self.amend_review)
        self.export_review_button = QPushButton("Export si&gned review PDF…")
        self.export_review_button.setToolTip(
            "The summary of the selected signed review, with the evaluation it was signed on"
        )
        self.export_letter_button = QPushButton("E&xport outcome letter…")
        self.export_letter_button.setToolTip(
            "The one-page letter of the selected signed review to the referring clinician "
            "and the GP"
        )
        self.export_review_button.clicked.connect(
            lambda: self.reviews._with_row(self.export_review)
        )
        self.export_letter_button.clicked.connect(
            lambda: self.reviews._with_row(self.export_letter)
        )
        self.reviews.buttons.insertWidget(1, self.export_review_button)
        self.reviews.buttons.insertWidget(2, self.export_letter_button)

        self.addTab(self.overview, "&Overview")
        self.addTab(self.staging, "&Staging")
        self.addTab(self.plan, "&Plan")
        self._titles = {self.staging: "&Staging", self.plan: "&Plan"}
        self._modified = False
        for form_tab in (self.staging, self.plan):
            form_tab.modified_changed.connect(lambda _m, t=form_tab: self._show_modified(t))
        self.addTab(self.chemotherapy, "Chemother&apy")
        self.addTab(self.imaging, "&Imaging")
        self.addTab(self.procedures, "P&rocedures")
        self.addTab(self.labs, "&Labs")
        self.addTab(self.reviews, "Re&views")
        self.labs.layout().addWidget(self.extrahepatic)  # type: ignore[union-attr]
        # outcomes live on the procedures tab, under the procedures
        self.procedures.layout().addWidget(self.outcomes)  # type: ignore[union-attr]

        self.chemotherapy.add_requested.connect(self.add_cycle)
        self.chemotherapy.edit_requested.connect(self.edit_cycle)
        self.chemotherapy.remove_requested.connect(self.remove_cycle)
        self.imaging.timepoints.add_requested.connect(self.add_timepoint)
        self.imaging.timepoints.edit_requested.connect(self.edit_timepoint)
        self.imaging.timepoints.remove_requested.connect(self.remove_timepoint)
        self.procedures.add_requested.connect(self.add_procedure)
        self.add_dose_button = QPushButton("Add immunotherapy &dose…")
        self.add_dose_button.clicked.connect(self.add_immunotherapy)
        self.procedures.buttons.insertWidget(2, self.add_dose_button)
        for tab in (
            self.chemotherapy,
            self.imaging.timepoints,
            self.procedures,
            self.outcomes,
            self.labs,
            self.extrahepatic,
        ):
            tab.whose = self._whose
        self.procedures.edit_requested.connect(self.edit_procedure)
        self.procedures.remove_requested.connect(self.remove_procedure)
        self.labs.add_requested.connect(
            lambda: self._add_record(m.LabResult, "labs", "Add lab values")
        )
        self.labs.edit_requested.connect(
            lambda row: self._edit_record(self.labs, row, "labs", "Edit lab values")
        )
        self.labs.remove_requested.connect(
            lambda row: self._remove_record(self.labs, row, "labs", "Remove lab values")
        )
        self.extrahepatic.add_requested.connect(
            lambda: self._add_record(
                m.ExtrahepaticDisease, "extrahepatic_disease", "Add extrahepatic site"
            )
        )
        self.extrahepatic.edit_requested.connect(
            lambda row: self._edit_record(
                self.extrahepatic, row, "extrahepatic_disease", "Edit extrahepatic site"
            )
        )
        self.extrahepatic.remove_requested.connect(
            lambda row: self._remove_record(
                self.extrahepatic, row, "extrahepatic_disease", "Remove extrahepatic site"
            )
        )
        self.outcomes.add_requested.connect(self.add_outcome)
        self.outcomes.edit_requested.connect(self.edit_outcome)
        self.outcomes.remove_requested.connect(self.remove_outcome)
        guard(door, *self._edit_controls())  # disabled while the database is read-only
        self.currentChanged.connect(self._tab_shown)
        self.setEnabled(False)

    def _edit_controls(self) -> list[QWidget]:
        """Every field and button of the tabs that changes the case."""
        controls: list[QWidget] = [self.add_dose_button]
        for forms in (self.staging, self.plan):
            for form in forms.forms.values():
                controls.extend(form.editors.values())
            controls += [forms.save_button, forms.revert_button]
        for tab in (
            self.chemotherapy,
            self.imaging.timepoints,
            self.procedures,
            self.outcomes,
            self.labs,
            self.extrahepatic,
            self.reviews,
        ):
            controls += [tab.add_button, tab.edit_button, tab.remove_button]
        return controls

    # -- opening and showing ----------------------------------------------------------

    def open_case(self, mrn: str, then: Any = None) -> None:
        """Read a case (and its evaluation) and show it; `then()` after it is shown."""

        def opened(found: tuple[Case, int, EvaluationView | None, list[str]]) -> None:
            self._after_dialogs(lambda: show(found))

        def show(found: tuple[Case, int, EvaluationView | None, list[str]]) -> None:
            shown = self.case
            # the case on screen stayed editable until the worker answered: what was typed
            # meanwhile is asked about now (the question before it came too early)
            if shown is not None and shown.mrn != found[0].mrn and not self.confirm_leave():
                self.case_shown.emit(shown.mrn)  # the list and the title back on it
                return
            self.show_case(*found)
            if then is not None:
                then()

        def failed(error: BaseException) -> None:
            QMessageBox.warning(self, "Cannot open the case", failure_text(error))

        self.door.open_case(mrn, opened, failed)

    def _after_dialogs(self, show: Callable[[], None]) -> None:
        """Show a case the worker read once no dialog is open: a dialog opened for the case
        on screen (its banner names it) writes to that case, so the workspace never
        changes patient under it.  Cases read meanwhile are shown in the order read."""
        self._arrived.append(show)
        if len(self._arrived) == 1:
            self._show_arrived()

    def _show_arrived(self) -> None:
        while self._arrived:
            if QApplication.activeModalWidget() is not None:
                QTimer.singleShot(50, self._show_arrived)
                return
            self._arrived.pop(0)()

    def close_case(self) -> None:
        """Show no case (it is gone from the database, or another database opened)."""
        self.case, self.version, self.evaluation = None, 0, None
        for tab in (self.staging, self.plan):
            tab.revert()
            tab.case = None
            tab._update_modified()
        self.setEnabled(False)
        # the tabs still hold the closed case (an erased patient's, too): none is shown
        # again until a case is open, and each is filled afresh before it is
        self._stale = set(self._pages())
        for page in self._pages():
            page.hide()
        self.banner.show_patient(None, self.door.today())
        self.case_shown.emit("")

    # -- changes not saved ------------------------------------------------------------

    def _show_modified(self, tab: FormsTab) -> None:
        """The tab's title carries a mark while it holds changes not saved; the window
        hears of the case as a whole (its modified flag)."""
        index = self.indexOf(tab)
        if index >= 0:
            self.setTabText(index, self._titles[tab] + (" •" if tab.modified() else ""))
        modified = self.modified()
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    def modified(self) -> bool:
        """True when a tab of the open case holds changes not saved."""
        return bool(self.unsaved_tabs())

    def unsaved_tabs(self) -> list[FormsTab]:
        return [tab for tab in (self.staging, self.plan) if tab.modified()]

    def confirm_leave(self) -> bool:
        """Before the open case is left (quit, close, another case, another database):
        when a tab holds changes not saved, ask Save / Discard / Cancel.  True: go on (saved,
        or discarded); False: stay (Cancel, or the save was refused — a field to correct,
        or someone else changed the case — and the case stays open with the changes)."""
        tabs = self.unsaved_tabs()
        if self.case is None or not tabs:
            return True
        box = self._unsaved_question(tabs, "Save them before leaving this case?")
        box.addButton(QMessageBox.StandardButton.Discard)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Discard:
            for tab in tabs:
                tab.revert()
            return True
        return answer == QMessageBox.StandardButton.Save and self._save_all(tabs)

    def confirm_stored(self, what: str) -> bool:
        """Before `what` (a PDF, a file) is made from the case as stored: when a tab holds
        changes not saved, ask Save first / As stored / Cancel, so a document never
        differs silently from what the screen shows.  True: go on."""
        tabs = self.unsaved_tabs()
        if self.case is None or not tabs:
            return True
        box = self._unsaved_question(
            tabs, f"{what} is made from the record as stored. Save the changes first?"
        )
        stored = box.addButton("As &stored", QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        if box.clickedButton() is stored:
            return True
        saved = box.clickedButton() is box.button(QMessageBox.StandardButton.Save)
        return saved and self._save_all(tabs)

    def _unsaved_question(self, tabs: list[FormsTab], question: str) -> QMessageBox:
        """ "The record of … has changes not saved on …" with Save (the default) and Cancel
        (Esc); the caller adds its other answer."""
        names = " and ".join(self._titles[tab].replace("&", "") for tab in tabs)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"The record of {self._whose()} has changes not saved on {names}.")
        box.setInformativeText(question)
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        return box

    def _save_all(self, tabs: list[FormsTab]) -> bool:
        """Save each tab in turn; a refused save shows its tab and stops (False)."""
        for tab in tabs:
            if not self._save_and_wait(tab):
                self.setCurrentWidget(tab)
                return False
        return True

    def _save_and_wait(self, tab: FormsTab) -> bool:
        """Save a tab and wait for the database's answer (the door's worker saves it; the
        window keeps painting meanwhile)."""
        answers: list[bool] = []
        loop = QEventLoop()

        def done(ok: bool) -> None:
            answers.append(ok)
            loop.quit()

        tab.save(done)
        if not answers:
            # disabling the window takes the focus from the field typed in: given back after
            focus = self.window().focusWidget()  # the window's own (a question just closed)
            self.window().setEnabled(False)  # nothing else happens until it is answered
            try:
                loop.exec()
            finally:
                self.window().setEnabled(True)
                if focus is not None and focus.isVisible() and focus.isEnabled():
                    focus.setFocus(Qt.FocusReason.OtherFocusReason)
        return bool(answers and answers[0])

    def changes_applied(self, changes: ChangeSet, origin: object) -> None:
        """Read the open case again when a change touched it (not when it was this
        workspace's own save, already shown)."""
        case = self.case
        if case is None or origin is self:
            return
        if changes.everything or case.mrn in changes.cases or "profile" in changes.settings:
            self._reread(case.mrn, replaced=changes.everything)
        elif "today" in changes.settings:
            self.open_case(case.mrn)

    def _reread(self, mrn: str, *, replaced: bool) -> None:
        def opened(found: tuple[Case, int, EvaluationView | None, list[str]]) -> None:
            self._after_dialogs(lambda: show(found))

        def show(found: tuple[Case, int, EvaluationView | None, list[str]]) -> None:
            if self.case is None or self.case.mrn != mrn:
                return  # another case opened meanwhile
            self.show_case(*found)

        def gone(error: BaseException) -> None:
            # closed once no dialog is open: a dialog of the case stays usable, and its OK
            # is told the case is gone (closing now would disable the dialog under it)
            self._after_dialogs(lambda: close(error))

        def close(error: BaseException) -> None:
            if self.case is None or self.case.mrn != mrn:
                return
            self.close_case()
            self.undo_stack.clear()
            self.case_replaced.emit(mrn)
            if replaced:
                text = f"The case {mrn} is not in the restored database; it was closed."
            else:
                text = f"The case {mrn} is no longer in the database; it was closed."
            QMessageBox.information(self, "Case closed", f"{text}\n\n{failure_text(error)}")

        self.door.open_case(mrn, opened, gone)

    def show_case(
        self,
        case: Case,
        version: int,
        evaluation: EvaluationView | None = None,
        engine_notes: Sequence[str] = (),
        *,
        keep_edits: bool | None = None,
    ) -> None:
        """Show a case with its evaluation and the notes on reviews signed with another
        engine (all read on the door's worker).  Fields typed and not saved stay when the
        same case is read again (`keep_edits`; by default only then): never carried to
        another patient.

        Only the tab in view is filled now; each other tab is filled when it is next shown
        (`currentChanged`), so a tab never shows a case other than the open one.  A form
        tab holding typed changes is filled at once (its changes are checked against the
        case as stored now)."""
        switched = self.case is None or self.case.mrn != case.mrn
        keep = not switched if keep_edits is None else keep_edits
        self.case, self.version = case, version
        self.evaluation = evaluation
        self._engine_notes = list(engine_notes)
        self._keep = keep
        self.setEnabled(True)
        self._stale = set(self._pages())
        if (current := self.currentWidget()) is not None:
            current.show()  # hidden while no case was open (`close_case`)
        for tab in (self.staging, self.plan):
            if tab.modified():
                self._fill(tab)
            elif switched:
                # nothing of the case before can be saved from it; with nothing typed, each
                # field takes the next case's value when the tab is filled
                tab.case = None
        self.ensure_filled(self.currentWidget())
        self.banner.show_patient(case.patient, self.door.today())
        self.case_shown.emit(case.mrn)

    def _pages(self) -> list[QWidget]:
        """The workspace's tabs (each filled as a whole)."""
        return [page for i in range(self.count()) if (page := self.widget(i)) is not None]

    def ensure_filled(self, page: QWidget | None = None) -> None:
        """Fill `page` (every tab when None) with the open case if it does not show it yet;
        the tab in view is always filled, others when they are shown."""
        for tab in self._pages() if page is None else [page]:
            if tab in self._stale:
                self._fill(tab)

    def _tab_shown(self, _index: int) -> None:
        self.ensure_filled(self.currentWidget())

    def _fill(self, page: QWidget) -> None:
        """Show the open case on one tab."""
        self._stale.discard(page)
        self.fills += 1
        case, evaluation = self.case, self.evaluation
        if case is None:
            return
        today = self.door.today()
        if page is self.overview:
            age = _age(case.patient.birth_date, today)
            self.overview.show_case(case, evaluation, age, self._engine_notes)
        elif page is self.staging or page is self.plan:
            assert isinstance(page, FormsTab)
            page.set_today(today)
            page.show_case(case, keep_edits=self._keep)
        elif page is self.chemotherapy:
            self._fill_chemotherapy(case, evaluation)
        elif page is self.imaging:
            self.imaging.show_case(case, evaluation)
        elif page is self.procedures:
            others = sorted(
                [t for t in case.treatments if not isinstance(t, m.ChemotherapyCycle)],
                key=lambda t: t.date,
            )
            self.procedures.model.set_records(others)
            self.outcomes.model.set_records(sorted(case.surgery_outcomes, key=lambda o: o.date))
        elif page is self.labs:
            self.labs.model.set_records(sorted(case.labs, key=lambda x: x.date))
            self.extrahepatic.model.set_records(case.extrahepatic_disease)
        elif page is self.reviews:
            self.reviews.model.set_records(case.reviews)
        elif page is self.timeline and hasattr(page, "show_case"):
            page.show_case(case, evaluation)

    def _fill_chemotherapy(self, case: Case, evaluation: EvaluationView | None) -> None:
        cycles = sorted(case.chemotherapy, key=lambda c: c.date)
        lines = chemotherapy_lines(cycles)
        line_of = {id(c): line for c, line in zip(cycles, lines, strict=True)}
        self.chemotherapy.model.columns[0] = ("Line", lambda c: line_of.get(id(c), ""))
        self.chemotherapy.model.set_records(cycles)
        summary = f"Chemotherapy cycles: {len(cycles)} in {max(lines, default=0)} line(s)"
        chemo = evaluation.facts.chemotherapy if evaluation is not None else None
        if chemo is not None and chemo.oxaliplatin_cycles is not None:
            summary += (
                f"; this episode: {chemo.oxaliplatin_cycles} oxaliplatin, "
                f"{chemo.irinotecan_cycles} irinotecan cycles"
            )
        if chemo is not None and chemo.last_bevacizumab_date:
            summary += f"; last bevacizumab {chemo.last_bevacizumab_date.isoformat()}"
        self.chemotherapy.heading.setText(summary)

    # -- saving -----------------------------------------------------------------------

    def apply(self, new: Case, text: str, done: Any = None) -> None:
        """Save an edited case and push it on the undo stack; `done(saved)` once the
        database answered (False if refused)."""
        before = self.case
        if before is None:
            return

        def stored(ok: bool) -> None:
            if ok:
                self.undo_stack.push(CaseEdit(self, before, new, text))
            if done is not None:
                done(ok)

        self.store(new, before.mrn, stored)

    def store(self, case: Case, mrn: str, done: Any = None) -> None:
        """Save `case` (known as `mrn` before this edit) with the version check, then show
        it with its evaluation; `done(ok)`.  One edit at a time: an edit made while the one
        before is on its way would be based on the case before it (and be refused as a
        conflict), so it is refused here with a word."""
        if self.saving:
            self._tell("Still saving", "The previous change is still being saved; try again.")
            if done is not None:
                done(False)
            return
        if self.case is None or self.case.mrn != mrn:
            self.open_case(mrn, lambda: self.store(case, mrn, done))
            return
        self.saving = True

        def saved(result: tuple[Any, EvaluationView | None, list[str]]) -> None:
            self.saving = False
            stored, evaluation, notes = result
            if self.case is None or self.case.mrn in (mrn, case.mrn):
                self.show_case(case, stored.version, evaluation, notes, keep_edits=True)
            # else another case was opened meanwhile: it stays on screen
            if done is not None:
                done(True)

        def refused(error: BaseException) -> None:
            self.saving = False
            if isinstance(error, InvalidInput):
                self._tell(
                    "This change cannot be saved",
                    "Please correct:\n" + problems_text(error.problems),
                )
            elif isinstance(error, CaseNotFound):  # erased, or not in a restored backup
                self._tell(
                    "The change was not saved",
                    f"The case {mrn} is no longer in the database (erased, or not in the "
                    "restored backup). Nothing was saved.",
                )
            elif isinstance(error, CaseConflict):  # its message names both values of each field
                self._tell("Someone else changed this case", str(error))
                if self.case is not None and self.case.mrn in (mrn, case.mrn):
                    self.open_case(error.theirs.mrn)  # never another patient's in its place
            elif isinstance(error, BoardError):
                self._tell("The change was not saved", str(error))
            else:
                self._tell("The change was not saved", failure_text(error, "The save"))
            if done is not None:
                done(False)

        self.door.save_case(case, self.version, mrn, saved, refused, origin=self)

    def _tell(self, title: str, text: str) -> None:
        log.info("edit refused: %s", title)
        QMessageBox.warning(self, title, text)

    # -- list edits -------------------------------------------------------------------

    def _dialog(
        self,
        model: type[m.Record],
        record: m.Record | None,
        title: str,
        note: str = "",
        *,
        copied: Sequence[str] = (),
        copied_from: str = "",
    ) -> Any:
        from crlmboard.ui.dialogs.record_dialog import RecordDialog

        dialog = RecordDialog(
            model,
            record,
            title,
            self,
            today=self.door.today(),
            note=note,
            patient=self.case.patient if self.case is not None else None,
            copied=copied,
            copied_from=copied_from,
        )
        if dialog.exec():
            return dialog.result_record
        return None

    def _replace(self, old: Any, new: Any | None, block: str, text: str) -> None:
        assert self.case is not None
        items = list(getattr(self.case, block))
        index = next(i for i, item in enumerate(items) if item is old)
        if new is None:
            del items[index]
        else:
            items[index] = new
        self.apply(self.case.model_copy(update={block: items}), text)

    def _append(self, new: Any, block: str, text: str) -> None:
        assert self.case is not None
        items = [*getattr(self.case, block), new]
        self.apply(self.case.model_copy(update={block: items}), text)

    def _add_record(self, model: type[m.Record], block: str, text: str) -> None:
        if self.case is None:
            return
        # no date is assumed (never today's): the record's date is typed
        record = self._dialog(model, None, text)
        if record is not None:
            self._append(record, block, text)

    def _edit_record(self, tab: ListTab, row: int, block: str, text: str) -> None:
        old = tab.model.records[row]
        record = self._dialog(type(old), old, text)
        if record is not None and record != old:
            self._replace(old, record, block, text)

    def _remove_record(self, tab: ListTab, row: int, block: str, text: str) -> None:
        self._replace(tab.model.records[row], None, block, text)

    def _review_number(self, review: Any) -> str:
        reviews = self.case.reviews if self.case is not None else []
        return next((str(i + 1) for i, r in enumerate(reviews) if r is review), "")

    def amend_review(self, row: int) -> None:
        """Sign an amendment of the selected signed review (it stays as it was)."""
        from crlmboard.ui.dialogs.review_dialog import amend_review

        if self.case is not None:
            amend_review(self, self.door, self.case, row)

    def export_review(self, row: int) -> None:
        """Write the summary PDF of the selected signed review."""
        from crlmboard.ui.exports import export_review_summary

        if self.case is not None:
            export_review_summary(self, self.door, self.case, row)

    def export_letter(self, row: int) -> None:
        """Write the outcome letter of the selected signed review."""
        from crlmboard.ui.exports import export_letter

        if self.case is not None:
            export_letter(self, self.door, self.case, row)

    def follow_up_review(self, row: int) -> None:
        """Record whether the selected signed review's recommendation was carried out."""
        from crlmboard.ui.dialogs.review_dialog import record_follow_up

        if self.case is not None:
            record_follow_up(self, self.door, self.case, row)

    def show_record(self, kind: str, when: dt.date) -> None:
        """Bring the record drawn at `when` into view (a click on the timeline)."""
        targets: dict[str, tuple[QWidget, ListTab | None]] = {
            "chemotherapy": (self.chemotherapy, self.chemotherapy),
            "imaging": (self.imaging, self.imaging.timepoints),
            "procedure": (self.procedures, self.procedures),
            "immunotherapy": (self.procedures, self.procedures),
            "review": (self.reviews, self.reviews),
            "cea": (self.labs, self.labs),
            "milestone": (self.staging, None),
        }
        page, table = targets.get(kind, (self.overview, None))
        self.setCurrentWidget(page)
        if table is not None:
            for row, record in enumerate(table.model.records):
                if getattr(record, "date", getattr(record, "meeting_date", None)) == when:
                    table.select_row(row)
                    break

    def open_record(self, kind: str, record: Any) -> None:
        """Open the record drawn on the timeline (Enter or a double click on it): its tab,
        its row, and its edit dialog where it has one (a signed review is only shown)."""
        when = getattr(record, "date", None) or getattr(record, "meeting_date", None)
        if kind == "milestone" or when is None:
            self.setCurrentWidget(self.staging if kind == "milestone" else self.overview)
            return
        self.show_record(kind, when)
        tables: dict[str, tuple[ListTab, Any]] = {
            "chemotherapy": (self.chemotherapy, self.edit_cycle),
            "imaging": (self.imaging.timepoints, self.edit_timepoint),
            "procedure": (self.procedures, self.edit_procedure),
            "immunotherapy": (self.procedures, self.edit_procedure),
            "cea": (
                self.labs,
                lambda row: self._edit_record(self.labs, row, "labs", "Edit lab values"),
            ),
            "review": (self.reviews, None),
        }
        table, edit = tables.get(kind, (None, None))
        if table is None:
            return
        row = next((i for i, r in enumerate(table.model.records) if r is record), None)
        if row is None:
            row = next((i for i, r in enumerate(table.model.records) if r == record), None)
        if row is None:
            return
        table.select_row(row)
        table.view.setFocus()
        if edit is not None and table.edit_button.isEnabled():  # not while read-only
            edit(row)

    def next_cycle(self) -> m.ChemotherapyCycle:
        """A new cycle copied from the latest, its date advanced by the cycle length; the
        first cycle has no date (typed, never today by default)."""
        assert self.case is not None
        cycles = sorted(self.case.chemotherapy, key=lambda c: c.date)
        if not cycles:
            # a partial record for the form: date, regimen and setting are still to be given
            return m.ChemotherapyCycle.model_construct(cycle=1)
        last = cycles[-1]
        return last.model_copy(
            update={
                "date": last.date + dt.timedelta(days=last.effective_cycle_length_days),
                "cycle": last.cycle + 1,
                "toxicity_grade": None,
            }
        )

    def add_cycle(self) -> None:
        """Add a cycle: with a previous cycle, its values are copied and must each be
        confirmed or changed (the dialog says from which cycle); without one, a blank form."""
        if self.case is None:
            return
        cycles = sorted(self.case.chemotherapy, key=lambda c: c.date)
        note, source = "", ""
        copied: tuple[str, ...] = ()
        if cycles:
            last = cycles[-1]
            source = f"cycle {last.cycle} ({locale_date(last.date)})"
            note = (
                f"Copied from cycle {last.cycle} of {_t(last.regimen)} given on "
                f"{locale_date(last.date)}, dated one cycle length later. Values in grey "
                "italics are that cycle's: change them, or press Ctrl+Enter to keep them."
            )
            copied = tuple(m.ChemotherapyCycle.model_fields)
        record = self._dialog(
            m.ChemotherapyCycle,
            self.next_cycle(),
            "Add chemotherapy cycle",
            note,
            copied=copied,
            copied_from=source,
        )
        if record is not None:
            self._append(record, "treatments", "Add chemotherapy cycle")

    def edit_cycle(self, row: int) -> None:
        old = self.chemotherapy.model.records[row]
        record = self._dialog(m.ChemotherapyCycle, old, "Edit chemotherapy cycle")
        if record is not None and record != old:
            self._replace(old, record, "treatments", "Edit chemotherapy cycle")

    def remove_cycle(self, row: int) -> None:
        old = self.chemotherapy.model.records[row]
        self._replace(old, None, "treatments", "Remove chemotherapy cycle")

    def add_procedure(self) -> None:
        if self.case is None:
            return
        record = self._dialog(m.Procedure, None, "Add procedure")  # its date is typed
        if record is not None:
            self._append(record, "treatments", "Add procedure")

    def add_immunotherapy(self) -> None:
        """Record a dose of a checkpoint inhibitor: agent, setting and next cycle copied
        from the last dose (to confirm or change); the date is typed."""
        if self.case is None:
            return
        doses = sorted(self.case.immunotherapy, key=lambda d: d.date)
        start = m.ImmunotherapyDose.model_construct()
        note, source = "", ""
        copied: tuple[str, ...] = ()
        if doses:
            last = doses[-1]
            start = m.ImmunotherapyDose.model_construct(
                agent=last.agent,
                setting=last.setting,
                cycle=last.cycle + 1 if last.cycle is not None else None,
            )
            source = f"the dose of {locale_date(last.date)}"
            note = (
                f"Agent and setting copied from the dose of {locale_date(last.date)}: "
                "change them, or press Ctrl+Enter to keep them."
            )
            copied = ("agent", "setting", "cycle")
        record = self._dialog(
            m.ImmunotherapyDose,
            start,
            "Add immunotherapy dose",
            note,
            copied=copied,
            copied_from=source,
        )
        if record is not None:
            self._append(record, "treatments", "Add immunotherapy dose")

    def edit_procedure(self, row: int) -> None:
        old = self.procedures.model.records[row]
        dose = isinstance(old, m.ImmunotherapyDose)
        what = "immunotherapy dose" if dose else "procedure"
        record = self._dialog(type(old), old, f"Edit {what}")
        if record is not None and record != old:
            self._replace(old, record, "treatments", f"Edit {what}")

    def remove_procedure(self, row: int) -> None:
        old = self.procedures.model.records[row]
        what = "immunotherapy dose" if isinstance(old, m.ImmunotherapyDose) else "procedure"
        self._replace(old, None, "treatments", f"Remove {what}")

    def _whose(self) -> str:
        """`DOE, Jane (MRN)`: whose record a removal changes."""
        if self.case is None:
            return ""
        patient = self.case.patient
        name = ", ".join(
            part for part in ((patient.family_name or "").upper(), patient.given_name) if part
        )
        return f"{name} ({patient.mrn})" if name else patient.mrn

    def add_outcome(self) -> None:
        if self.case is None:
            return
        record = self._dialog(m.SurgeryOutcome, None, "Add surgery outcome")  # date typed
        if record is not None:
            self._append(record, "surgery_outcomes", "Add surgery outcome")

    def edit_outcome(self, row: int) -> None:
        old = self.outcomes.model.records[row]
        record = self._dialog(m.SurgeryOutcome, old, "Edit surgery outcome")
        if record is not None and record != old:
            self._replace(old, record, "surgery_outcomes", "Edit surgery outcome")

    def remove_outcome(self, row: int) -> None:
        self._replace(
            self.outcomes.model.records[row], None, "surgery_outcomes", "Remove surgery outcome"
        )

    def next_timepoint(self) -> tuple[ImagingTimepoint, dt.date | None]:
        """A new timepoint with the previous timepoint's lesions copied, and that
        timepoint's date (None without one).  Its date is left empty: the scan's date is
        typed, never assumed to be today."""
        assert self.case is not None
        latest = max(self.case.imaging, key=lambda tp: tp.date, default=None)
        if latest is None:
            return ImagingTimepoint.model_construct(), None  # no date: it is typed
        lesions = [
            lesion.model_copy()
            for lesion in latest.lesions
            if lesion.status in (None, m.LesionStatus.PRESENT, m.LesionStatus.DISAPPEARED)
        ]
        start = ImagingTimepoint.model_construct(modality=latest.modality, lesions=lesions)
        return start, latest.date

    def add_timepoint(self) -> None:
        if self.case is None:
            return
        from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog

        start, copied_from = self.next_timepoint()
        dialog = TimepointDialog(
            start,
            "Add imaging timepoint",
            self,
            today=self.door.today(),
            patient=self.case.patient,
            copied_from=copied_from,
        )
        if dialog.exec() and dialog.result_timepoint is not None:
            self._append(dialog.result_timepoint, "imaging", "Add imaging timepoint")

    def edit_timepoint(self, row: int) -> None:
        from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog

        old = self.imaging.timepoints.model.records[row]
        dialog = TimepointDialog(
            old,
            "Edit imaging timepoint",
            self,
            today=self.door.today(),
            patient=self.case.patient if self.case is not None else None,
        )
        if dialog.exec() and dialog.result_timepoint is not None and dialog.result_timepoint != old:
            self._replace(old, dialog.result_timepoint, "imaging", "Edit imaging timepoint")

    def remove_timepoint(self, row: int) -> None:
        self._replace(
            self.imaging.timepoints.model.records[row], None, "imaging", "Remove imaging timepoint"
        )
