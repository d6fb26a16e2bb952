"""The case workspace: the open case's tabs, and the controller that turns every edit into
one service call with the case version, pushed on the undo stack afterwards."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from crlmboard.domain import models as m
from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine.history import signed_engine_version
from crlmboard.domain.validation import InvalidInput
from crlmboard.services.board import Board, BoardError, ChangeSet
from crlmboard.services.cases import CaseConflict
from crlmboard.ui.views.overview import OverviewView
from crlmboard.ui.views.record_tabs import (
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
    """An edit already saved; undo and redo save the earlier or later case as new edits."""

    def __init__(self, workspace: CaseWorkspace, before: Case, after: Case, text: str):
        super().__init__(text)
        self.workspace = workspace
        self.before = before
        self.after = after
        self.first = True

    def redo(self) -> None:
        if self.first:  # the edit was saved before it was pushed
            self.first = False
            return
        if not self.workspace.store(self.after, self.before.mrn):
            self.setObsolete(True)

    def undo(self) -> None:
        if not self.workspace.store(self.before, self.after.mrn):
            self.setObsolete(True)


class CaseWorkspace(QTabWidget):
    """Tabs of the open case; every change goes through `apply`."""

    case_saved = Signal(object)  # ChangeSet
    rule_requested = Signal(str)

    def __init__(self, board: Board, undo_stack: QUndoStack, parent: QWidget | None = None):
        super().__init__(parent)
        self.board = board
        self.undo_stack = undo_stack
        self.case: Case | None = None
        self.version = 0
        self.evaluation: dict[str, Any] | None = None

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
                ("Regimen", lambda c: _t(c.regimen).upper()),
                ("Biologic", lambda c: _t(c.effective_biologic)),
                ("Cycle", lambda c: c.cycle),
                ("Days", lambda c: c.effective_cycle_length_days),
                ("Setting", lambda c: _t(c.setting)),
                ("Dose %", lambda c: _t(c.effective_dose_percent)),
                ("Toxicity", lambda c: _t(c.toxicity_grade)),
            ],
            "Add cycle",
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
        )
        self.outcomes = ListTab(
            "Surgery outcomes",
            [
                ("Date", lambda o: _t(o.date)),
                ("Procedure", lambda o: _t(o.procedure)),
                ("Margin", lambda o: f"{_t(o.margin_mm)} mm" if o.margin_mm is not None else ""),
                ("Margin status", lambda o: _t(o.margin_status).upper()),
                ("Pathological response", lambda o: _t(o.pathological_response)),
                ("Clavien–Dindo", lambda o: _t(o.clavien_dindo).upper()),
                ("Recurrence", lambda o: _t(o.recurrence_date)),
            ],
            "Add outcome…",
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
        )
        self.extrahepatic = ListTab(
            "Extrahepatic disease",
            [
                ("Site", lambda x: _t(x.site)),
                ("Detected on", lambda x: _t(x.detected_on)),
                ("Resectable", lambda x: _t(x.resectable)),
            ],
            "Add site…",
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
                        f"{r.signed_by}, {r.signed_at:%Y-%m-%d %H:%M} UTC"
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
        self.reviews.edit_button.setText("Ame&nd…")
        self.reviews.remove_button.hide()
        self.reviews.add_button.clicked.disconnect()
        self.reviews.add_button.clicked.connect(
            lambda: self.reviews._with_row(self.follow_up_review)
        )
        self.reviews.edit_requested.connect(self.amend_review)

        self.addTab(self.overview, "&Overview")
        self.addTab(self.staging, "&Staging")
        self.addTab(self.plan, "&Plan")
        self.addTab(self.chemotherapy, "&Chemotherapy")
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
        self.setEnabled(False)

    # -- opening and showing ----------------------------------------------------------

    def open_case(self, mrn: str) -> None:
        case, version = self.board.cases.get_with_version(mrn)
        self.show_case(case, version)

    def show_case(self, case: Case, version: int) -> None:
        self.case, self.version = case, version
        self.setEnabled(True)
        today = self.board.today()
        try:
            self.evaluation = self.board.evaluation.document(case)
        except Exception:  # the engine must never keep a case from opening
            log.exception("evaluation failed")
            self.evaluation = None
        facts = (self.evaluation or {}).get("facts", {})
        self.overview.show_case(case, self.evaluation, _age(case.patient.birth_date, today))
        try:
            changes = self.board.evaluation.engine_changes(case)
        except Exception:  # a note about older reviews must never keep a case from opening
            log.exception("engine comparison failed")
            changes = []
        self.overview.show_engine_changes([change.text() for change in changes])
        for tab in (self.staging, self.plan):
            tab.set_today(today)
            tab.show_case(case)
        cycles = sorted(case.chemotherapy, key=lambda c: c.date)
        lines = chemotherapy_lines(cycles)
        line_of = {id(c): line for c, line in zip(cycles, lines, strict=True)}
        self.chemotherapy.model.columns[0] = ("Line", lambda c: line_of.get(id(c), ""))
        self.chemotherapy.model.set_records(cycles)
        summary = f"Chemotherapy cycles: {len(cycles)} in {max(lines, default=0)} line(s)"
        chemo = facts.get("chemotherapy") or {}
        if chemo.get("oxaliplatin_cycles") is not None:
            summary += (
                f"; this episode: {chemo.get('oxaliplatin_cycles')} oxaliplatin, "
                f"{chemo.get('irinotecan_cycles')} irinotecan cycles"
            )
        if chemo.get("last_bevacizumab_date"):
            summary += f"; last bevacizumab {chemo['last_bevacizumab_date']}"
        self.chemotherapy.heading.setText(summary)
        self.imaging.show_case(case, facts.get("recist") or [])
        others = sorted(
            [t for t in case.treatments if not isinstance(t, m.ChemotherapyCycle)],
            key=lambda t: t.date,
        )
        self.procedures.model.set_records(others)
        self.outcomes.model.set_records(sorted(case.surgery_outcomes, key=lambda o: o.date))
        self.reviews.model.set_records(case.reviews)
        self.labs.model.set_records(sorted(case.labs, key=lambda x: x.date))
        self.extrahepatic.model.set_records(case.extrahepatic_disease)
        if self.timeline is not None and hasattr(self.timeline, "show_case"):
            self.timeline.show_case(case, self.evaluation)

    # -- saving -----------------------------------------------------------------------

    def apply(self, new: Case, text: str) -> bool:
        """Save an edited case and push it on the undo stack; False if refused."""
        before = self.case
        if before is None or not self.store(new, before.mrn):
            return False
        self.undo_stack.push(CaseEdit(self, before, new, text))
        return True

    def store(self, case: Case, mrn: str) -> bool:
        """Save `case` (known as `mrn` before this edit) with the version check."""
        try:
            if self.case is None or self.case.mrn != mrn:
                self.open_case(mrn)
            saved = self.board.cases.save(case, self.version, mrn=mrn)
        except InvalidInput as error:
            self._tell(
                "This change cannot be saved",
                "Please correct:\n" + "\n".join(str(p) for p in error.problems),
            )
            return False
        except CaseConflict as error:  # its message names both values of each field
            self._tell("Someone else changed this case", str(error))
            self.open_case(mrn)
            self.case_saved.emit(ChangeSet(cases=frozenset({mrn})))
            return False
        except BoardError as error:
            self._tell("The change was not saved", str(error))
            return False
        self.show_case(case, saved.version)
        self.case_saved.emit(saved.changes)
        return True

    def _tell(self, title: str, text: str) -> None:
        log.info("edit refused: %s", title)
        QMessageBox.warning(self, title, text)

    # -- list edits -------------------------------------------------------------------

    def _dialog(
        self, model: type[m.Record], record: m.Record | None, title: str, note: str = ""
    ) -> Any:
        from crlmboard.ui.dialogs.record_dialog import RecordDialog

        dialog = RecordDialog(model, record, title, self, today=self.board.today(), note=note)
        if dialog.exec():
            return dialog.result_record
        return None

    def _replace(self, old: Any, new: Any | None, block: str, text: str) -> bool:
        assert self.case is not None
        items = list(getattr(self.case, block))
        index = next(i for i, item in enumerate(items) if item is old)
        if new is None:
            del items[index]
        else:
            items[index] = new
        return self.apply(self.case.model_copy(update={block: items}), text)

    def _append(self, new: Any, block: str, text: str) -> bool:
        assert self.case is not None
        items = [*getattr(self.case, block), new]
        return self.apply(self.case.model_copy(update={block: items}), text)

    def _add_record(self, model: type[m.Record], block: str, text: str) -> None:
        if self.case is None:
            return
        fields: dict[str, Any] = (
            {"date": self.board.today()} if "date" in model.model_fields else {}
        )
        start = model.model_construct(**fields) if fields else None
        record = self._dialog(model, start, text)
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

        if self.case is not None and amend_review(self, self.board, self.case, row):
            self._reviews_changed(len(self.case.reviews))

    def follow_up_review(self, row: int) -> None:
        """Record whether the selected signed review's recommendation was carried out."""
        from crlmboard.ui.dialogs.review_dialog import record_follow_up

        if self.case is not None and record_follow_up(self, self.board, self.case, row):
            self._reviews_changed(row)

    def _reviews_changed(self, index: int) -> None:
        assert self.case is not None
        mrn = self.case.mrn
        self.undo_stack.clear()  # an undo must not reach past a signature or a follow-up
        self.open_case(mrn)
        self.reviews.select_row(index)
        self.case_saved.emit(ChangeSet(cases=frozenset({mrn}), reviews=frozenset({index})))

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

    def next_cycle(self) -> m.ChemotherapyCycle:
        """A new cycle copied from the latest, its date advanced by the cycle length."""
        assert self.case is not None
        cycles = sorted(self.case.chemotherapy, key=lambda c: c.date)
        if not cycles:
            # a partial record for the form: regimen and setting are still to be chosen
            return m.ChemotherapyCycle.model_construct(date=self.board.today(), cycle=1)
        last = cycles[-1]
        return last.model_copy(
            update={
                "date": last.date + dt.timedelta(days=last.effective_cycle_length_days),
                "cycle": last.cycle + 1,
                "toxicity_grade": None,
            }
        )

    def add_cycle(self) -> None:
        if self.case is None:
            return
        record = self._dialog(
            m.ChemotherapyCycle,
            self.next_cycle(),
            "Add chemotherapy cycle",
            "Copied from the previous cycle, dated one cycle length later.",
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
        blank = m.Procedure.model_construct(date=self.board.today())
        record = self._dialog(m.Procedure, blank, "Add procedure")
        if record is not None:
            self._append(record, "treatments", "Add procedure")

    def edit_procedure(self, row: int) -> None:
        old = self.procedures.model.records[row]
        record = self._dialog(type(old), old, "Edit")
        if record is not None and record != old:
            self._replace(old, record, "treatments", "Edit procedure")

    def remove_procedure(self, row: int) -> None:
        self._replace(self.procedures.model.records[row], None, "treatments", "Remove procedure")

    def add_outcome(self) -> None:
        if self.case is None:
            return
        blank = m.SurgeryOutcome.model_construct(date=self.board.today())
        record = self._dialog(m.SurgeryOutcome, blank, "Add surgery outcome")
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

    def next_timepoint(self) -> ImagingTimepoint:
        """A new timepoint dated today with the previous timepoint's lesions copied."""
        assert self.case is not None
        latest = max(self.case.imaging, key=lambda tp: tp.date, default=None)
        if latest is None:
            return ImagingTimepoint(date=self.board.today())
        lesions = [
            lesion.model_copy()
            for lesion in latest.lesions
            if lesion.status in (None, m.LesionStatus.PRESENT, m.LesionStatus.DISAPPEARED)
        ]
        return ImagingTimepoint(date=self.board.today(), modality=latest.modality, lesions=lesions)

    def add_timepoint(self) -> None:
        if self.case is None:
            return
        from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog

        dialog = TimepointDialog(
            self.next_timepoint(), "Add imaging timepoint", self, today=self.board.today()
        )
        if dialog.exec() and dialog.result_timepoint is not None:
            self._append(dialog.result_timepoint, "imaging", "Add imaging timepoint")

    def edit_timepoint(self, row: int) -> None:
        from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog

        old = self.imaging.timepoints.model.records[row]
        dialog = TimepointDialog(old, "Edit imaging timepoint", self, today=self.board.today())
        if dialog.exec() and dialog.result_timepoint is not None and dialog.result_timepoint != old:
            self._replace(old, dialog.result_timepoint, "imaging", "Edit imaging timepoint")

    def remove_timepoint(self, row: int) -> None:
        self._replace(
            self.imaging.timepoints.model.records[row], None, "imaging", "Remove imaging timepoint"
        )
