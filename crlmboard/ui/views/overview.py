"""The Overview tab: who, what presentation, which scores, what plan, and the engine's
findings grouped by severity (icon and word, never colour alone)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from crlmboard.domain.case import Case
from crlmboard.domain.engine.readmodel import EvaluationView, FactsView, ScoreView
from crlmboard.domain.labels import response_text, score_criterion_text, score_input_text
from crlmboard.ui.forms import code_text, locale_date

SEVERITIES = [
    ("critical", "Critical", QStyle.StandardPixmap.SP_MessageBoxCritical),
    ("warning", "Warning", QStyle.StandardPixmap.SP_MessageBoxWarning),
    ("advice", "Advice", QStyle.StandardPixmap.SP_MessageBoxInformation),
    ("info", "Info", QStyle.StandardPixmap.SP_FileDialogInfoView),
]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "—"
    return code_text(str(value))


def _score(score: ScoreView | None) -> str:
    if score is None:
        return "—"
    total = "incomplete" if score.score is None else str(score.score)
    parts = [f"{score_criterion_text(k)}: {v}" for k, v in score.points if v]
    text = total
    if score.risk:
        text += f" ({score.risk} risk)"
    if parts:
        text += " — " + ", ".join(parts)
    if score.missing:
        text += " — missing: " + ", ".join(score_input_text(m) for m in score.missing)
    return text


class OverviewView(QWidget):
    """Identity, presentation, molecular summary, scores, plan and findings."""

    rule_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.identity = QLabel()
        self.identity.setTextFormat(Qt.TextFormat.PlainText)
        self.identity.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
        self.identity.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        font = self.identity.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.identity.setFont(font)
        layout.addWidget(self.identity)

        facts_box = QGroupBox("Summary")
        self.grid = QGridLayout(facts_box)
        self.values: dict[str, QLabel] = {}
        rows = [
            ("presentation", "Presentation"),
            ("sidedness", "Sidedness"),
            ("molecular", "Molecular"),
            ("disease", "Liver disease"),
            ("response", "Response (RECIST 1.1)"),
            ("flr", "Future liver remnant"),
            ("fong", "Fong clinical risk score"),
            ("game", "GAME score"),
            ("mcs", "Modified clinical score"),
            ("plan", "Plan"),
            ("timing", "Timing"),
        ]
        for row, (key, label) in enumerate(rows):
            title = QLabel(label + ":")
            title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # a line is never squeezed below its own height (on a short window the lines
            # were cut, seen at 1264×656); the findings list below gives way instead
            for line in (title, value):
                line.setMinimumHeight(line.fontMetrics().lineSpacing())
            self.grid.addWidget(title, row, 0)
            self.grid.addWidget(value, row, 1)
            self.values[key] = value
        self.grid.setColumnStretch(1, 1)
        layout.addWidget(facts_box)

        findings_box = QGroupBox("Guideline findings")
        box_layout = QVBoxLayout(findings_box)
        self.engine_note = QLabel()
        self.engine_note.setWordWrap(True)
        box_layout.addWidget(self.engine_note)
        self.engine_changes = QLabel()
        self.engine_changes.setObjectName("engine_changes")
        self.engine_changes.setWordWrap(True)
        self.engine_changes.setTextFormat(Qt.TextFormat.PlainText)
        self.engine_changes.hide()
        box_layout.addWidget(self.engine_changes)
        self.findings = QTreeWidget()
        self.findings.setHeaderLabels(["Finding", "Rule"])
        self.findings.setColumnWidth(0, 560)
        self.findings.setAlternatingRowColors(True)
        self.findings.itemActivated.connect(self._activated)
        self._icons: dict[QStyle.StandardPixmap, QIcon] = {}
        self._bold = QFont(self.findings.font())
        self._bold.setBold(True)
        box_layout.addWidget(self.findings)
        layout.addWidget(findings_box, 1)

    def show_case(
        self,
        case: Case,
        evaluation: EvaluationView | None,
        age: int | None,
        engine_notes: list[str] | None = None,
    ) -> None:
        """Show a case with its evaluation and the notes on reviews signed with another
        engine (none when not given)."""
        p = case.patient
        name = case.display_name()
        born = f"born {locale_date(p.birth_date)}" if p.birth_date else "birth date not recorded"
        age_text = f", {age} years" if age is not None else ""
        # the name is isolated so a right-to-left name does not reorder the whole line
        self.identity.setText(f"\u2068{name}\u2069   ·   MRN {p.mrn}   ·   {born}{age_text}")
        self.show_engine_changes(engine_notes or [])
        facts = evaluation.facts if evaluation is not None else FactsView()
        m = case.molecular
        molecular = "not tested"
        if m is not None:
            molecular = (
                f"RAS {_text(facts.ras_status)}, BRAF {_text(m.braf)}, "
                f"MMR {_text(facts.mmr_status)}, HER2 {_text(m.her2)}"
            )
            if m.kras_variant:
                molecular += f" (KRAS {m.kras_variant})"
            if m.nras_variant:
                molecular += f" (NRAS {m.nras_variant})"
        interval = facts.disease_free_interval_months
        presentation = _text(facts.presentation)
        if interval is not None:
            presentation += f"; disease-free interval {interval:g} months"
        disease = "—"
        if facts.lesion_count is not None:
            disease = (
                f"{facts.lesion_count} lesion(s), largest "
                f"{_text(facts.largest_diameter_mm)} mm, "
                f"{'bilobar' if facts.bilobar else 'unilobar'}; tumour burden "
                f"score {_text(facts.tumor_burden_score)}"
            )
        flr = facts.flr
        flr_text = "—"
        if flr is not None:
            measured = flr.measured_percent
            flr_text = (
                f"{'not measured' if measured is None else f'{measured:g} %'}; "
                f"required {_text(flr.required_percent)} % "
                f"({_text(flr.basis)})"
            )
        plan = case.plan
        plan_text = "—"
        if plan is not None:
            parts = [_text(plan.resectability), _text(plan.intent), _text(plan.strategy)]
            if plan.segments_to_resect:
                parts.append("segments " + ", ".join(map(str, plan.segments_to_resect)))
            if plan.planned_surgery_date:
                parts.append(f"surgery {locale_date(plan.planned_surgery_date)}")
            plan_text = "; ".join(x for x in parts if x != "—")
        timing = []
        if facts.earliest_safe_surgery_date:
            timing.append(f"earliest safe surgery {facts.earliest_safe_surgery_date.isoformat()}")
        if facts.next_restaging_due:
            timing.append(f"restaging due {facts.next_restaging_due.isoformat()}")
        # response categories are the engine's, with their meaning where known (NN…)
        response = response_text(facts.current_response)
        if facts.best_response:
            response += f" (best {facts.best_response})"
        self.values["presentation"].setText(presentation)
        self.values["sidedness"].setText(_text(facts.sidedness))
        self.values["molecular"].setText(molecular)
        self.values["disease"].setText(disease)
        self.values["response"].setText(response)
        self.values["flr"].setText(flr_text)
        self.values["fong"].setText(_score(facts.fong_crs))
        self.values["game"].setText(_score(facts.game_score))
        self.values["mcs"].setText(_score(facts.modified_clinical_score))
        self.values["plan"].setText(plan_text)
        self.values["timing"].setText("; ".join(timing) or "—")
        self._show_findings(evaluation)

    def show_engine_changes(self, notes: list[str]) -> None:
        """Say where a review signed with an earlier engine reads differently today (the
        signed review itself is never changed)."""
        self.engine_changes.setText("\n".join(notes))
        if self.engine_changes.isHidden() == bool(notes):  # shown or hidden only on a change
            self.engine_changes.setVisible(bool(notes))  # (each lays the whole tab out again)

    def _icon(self, pixmap: QStyle.StandardPixmap) -> QIcon:
        icon = self._icons.get(pixmap)
        if icon is None:
            icon = self._icons[pixmap] = self.style().standardIcon(pixmap)
        return icon

    def _show_findings(self, evaluation: EvaluationView | None) -> None:
        self.findings.clear()
        if evaluation is None:
            self.engine_note.setText("The guideline engine could not evaluate this case.")
            return
        as_of = evaluation.as_of.isoformat() if evaluation.as_of else "—"
        self.engine_note.setText(
            f"As of {as_of}, engine {evaluation.engine_version}, "
            f"profile {evaluation.profile_name}. The engine supports the board; it decides "
            "nothing."
        )
        groups: list[QTreeWidgetItem] = []
        for severity, label, pixmap in SEVERITIES:
            items = [f for f in evaluation.findings if f.severity == severity]
            if not items:
                continue
            icon = self._icon(pixmap)
            group = QTreeWidgetItem([f"{label} ({len(items)})", ""])
            group.setIcon(0, icon)
            group.setFont(0, self._bold)
            for finding in items:
                rule = finding.rule
                item = QTreeWidgetItem([f"{label}: {finding.title}", rule])
                item.setIcon(0, icon)
                item.setToolTip(0, finding.message)
                message = QTreeWidgetItem([finding.message, ""])
                values = ", ".join(f"{k.replace('_', ' ')} = {_text(v)}" for k, v in finding.values)
                children = [message]
                if values:
                    children.append(QTreeWidgetItem([f"Values: {values}", ""]))
                children.append(QTreeWidgetItem(["Sources: " + ", ".join(finding.sources), ""]))
                for sub in (item, *children):
                    sub.setData(0, Qt.ItemDataRole.UserRole, rule)
                item.addChildren(children)
                group.addChild(item)
            groups.append(group)
        # the tree is built detached and added at once (one insertion, one layout)
        self.findings.addTopLevelItems(groups)
        for group in groups:  # spanned once in the tree (the flag belongs to the view)
            for row in range(group.childCount()):
                shown = group.child(row)
                first = shown.child(0) if shown is not None else None
                if first is not None:
                    first.setFirstColumnSpanned(True)
            group.setExpanded(True)
        if not groups:
            self.findings.addTopLevelItem(QTreeWidgetItem(["No findings.", ""]))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        rule = item.data(0, Qt.ItemDataRole.UserRole)
        if rule:
            self.rule_requested.emit(str(rule))
