"""The tumor-board case summary: one case, its evaluation and (optionally) the board's review,
as a complete, self-explanatory PDF for the meeting and the records.

`case_summary_pdf(case, evaluation, review)` renders from exactly what a signed review
freezes — the case, the `crlmboard.evaluation/1` document and the review — so a past review
prints the same way years later.  The document is parsed once into its read model
(`EvaluationView`), which is all the summary reads: tables show the records dated up to the
evaluation's `as_of`; findings, scores, RECIST and each lesion's status and change are the
evaluation's, never recomputed.  `case_summary_story` gives the same content as flowables
for the meeting pack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from crlmboard.domain.case import Case, ImagingTimepoint
from crlmboard.domain.engine import SOURCES, input_sha256
from crlmboard.domain.engine.history import signed_engine_version
from crlmboard.domain.engine.lesions import LesionCell
from crlmboard.domain.engine.readmodel import (
    ChemotherapyView,
    EvaluationView,
    FindingView,
    FutureLiverRemnantView,
)
from crlmboard.domain.labels import (
    RESPONSE_LABELS,
    score_criterion_text,
    score_input_text,
    value_label,
)
from crlmboard.domain.meeting import Review
from crlmboard.domain.models import (
    IRINOTECAN_REGIMENS,
    OXALIPLATIN_REGIMENS,
    Biologic,
    LesionStatus,
)
from crlmboard.domain.timeline import Timeline, build_timeline
from crlmboard.report.blocks import (
    DASH,
    Grid,
    P,
    U,
    age_on,
    data_table,
    day,
    key_values,
    label,
    moment,
    num,
    patient_name,
    signed_percent,
    values_text,
    yes_no,
)
from crlmboard.report.document import (
    Bookmark,
    FooterInfo,
    FooterMark,
    Metadata,
    build_pdf,
    content_width,
)
from crlmboard.report.fonts import markup
from crlmboard.report.styles import (
    ACCENT,
    HEADER_FILL,
    MUTED,
    RESPONSE_COLOURS,
    RULE,
    SEVERITY_COLOURS,
    SEVERITY_FILLS,
    SEVERITY_ORDER,
    SEVERITY_TITLES,
    table_style,
)
from crlmboard.report.timeline import timeline_drawing

SECTIONS = (
    "Clinical summary",
    "Staging and molecular profile",
    "Chemotherapy",
    "Procedures and operations",
    "Imaging: lesions by timepoint",
    "CEA",
    "Future liver remnant",
    "Timeline",
    "Scores",
    "Findings of the guideline engine",
    "Board review",
    "Sources",
)
"""Section headings, in order (tests look for them)."""

MIN_DATE_COLUMN = 47.0
"""Narrowest column of a date (`2026-11-24` at 7.5 pt plus padding)."""


def case_summary_pdf(
    case: Case,
    evaluation: Mapping[str, Any],
    review: Review | None = None,
    *,
    page_size: str = "A4",
    app_version: str = "",
    audit_head: str | None = None,
    review_number: int | None = None,
    checkpoint: Mapping[str, Any] | None = None,
    engine_changes: Sequence[str] = (),
    latest_review: Review | None = None,
    latest_review_number: int | None = None,
) -> bytes:
    """The case summary as PDF bytes.

    `evaluation` is a `crlmboard.evaluation/1` document (the review's frozen one, or the
    current one); `review_number` is the review's index in the case, shown in the header;
    `audit_head` is the audit-chain head at signing, printed in the footer when given;
    `checkpoint` is the audit chain's signed checkpoint (footer and document keywords);
    `engine_changes` are notes on signed reviews that today's engine reads differently,
    shown on the summary of the case (never on a review's own summary);
    `latest_review` (with its index `latest_review_number`) is the case's latest signed
    review, shown under Board review on a summary made for no review in particular.
    """
    width = content_width(page_size)
    view = EvaluationView.parse(evaluation, case)
    story = case_summary_story(
        case,
        view,
        review,
        width=width,
        app_version=app_version,
        audit_head=audit_head,
        review_number=review_number,
        checkpoint=checkpoint,
        engine_changes=() if review is not None else engine_changes,
        latest_review=None if review is not None else latest_review,
        latest_review_number=latest_review_number,
    )
    meeting = review.meeting_date.isoformat() if review else None
    subject = (
        f"Tumor board case summary, meeting {meeting}"
        if meeting
        else f"Case summary, evaluation as of {view.as_of.isoformat() if view.as_of else ''}"
    )
    metadata = Metadata(
        title=f"{case.mrn} {patient_name(case)} — case summary",
        subject=subject,
        app_version=app_version,
        keywords=(case.mrn, "crlmboard", "tumor board"),
        checkpoint=checkpoint,
    )
    return build_pdf(story, metadata, page_size=page_size)


def footer_info(
    case: Case,
    evaluation: EvaluationView,
    *,
    app_version: str,
    audit_head: str | None,
    what: str = "case summary",
    checkpoint: Mapping[str, Any] | None = None,
) -> FooterInfo:
    """The footer of a case's pages: who, and the versions the evaluation was made with."""
    return FooterInfo(
        identity=f"{case.mrn} · {patient_name(case)} · {what}",
        app_version=app_version,
        engine_version=evaluation.engine_version or None,
        profile=evaluation.profile_name or None,
        input_hash=evaluation.input_sha256 or None,
        audit_head=audit_head,
        checkpoint=checkpoint,
    )


def case_summary_story(
    case: Case,
    evaluation: EvaluationView,
    review: Review | None,
    *,
    width: float,
    app_version: str = "",
    audit_head: str | None = None,
    review_number: int | None = None,
    outline_level: int = 0,
    key_prefix: str = "",
    question: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
    engine_changes: Sequence[str] = (),
    latest_review: Review | None = None,
    latest_review_number: int | None = None,
) -> list[Flowable]:
    """The summary's flowables, with footer marks and outline bookmarks.

    `evaluation` is the read model of the evaluation, parsed with `case`; `question` is the
    agenda's question, shown when there is no review (meeting pack); `latest_review` the
    case's latest signed review when there is no review.
    """
    as_of = evaluation.as_of
    shown = records_up_to(case, as_of)
    timeline = build_timeline(shown, evaluation, as_of=as_of)
    summary = _Summary(
        case=case,
        shown=shown,
        evaluation=evaluation,
        review=review,
        as_of=as_of,
        width=width,
        timeline=timeline,
        latest=(latest_review, latest_review_number) if latest_review is not None else None,
    )
    story: list[Flowable] = [
        FooterMark(
            footer_info(
                case,
                evaluation,
                app_version=app_version,
                audit_head=audit_head,
                checkpoint=checkpoint,
            )
        ),
        Bookmark(f"{key_prefix}case", f"{case.mrn} {patient_name(case)}", outline_level),
    ]
    story += summary.header(review_number, question)
    for note in engine_changes:
        story += [Spacer(1, 3), P(markup(note), "muted")]
    sections = (
        summary.clinical_summary,
        summary.staging,
        summary.chemotherapy,
        summary.procedures,
        summary.imaging,
        summary.cea,
        summary.flr,
        summary.timeline_chart,
        summary.scores,
        summary.findings,
        summary.board_review,
        summary.sources,
    )
    for index, (title, section) in enumerate(zip(SECTIONS, sections, strict=True)):
        body = section()
        story.append(CondPageBreak(30 * mm))
        story.append(Bookmark(f"{key_prefix}s{index}", title, outline_level + 1))
        story.append(P(markup(title), "h2"))
        story += body
    return story


def records_up_to(case: Case, as_of: date | None) -> Case:
    """The case with every dated record after `as_of` left out (what the evaluation saw)."""
    if as_of is None:
        return case

    def keep(when: date | None) -> bool:
        return when is None or when <= as_of

    return case.model_copy(
        update={
            "labs": [r for r in case.labs if keep(r.date)],
            "treatments": [t for t in case.treatments if keep(t.date)],
            "imaging": [t for t in case.imaging if keep(t.date)],
            "surgery_outcomes": [o for o in case.surgery_outcomes if keep(o.date)],
            "extrahepatic_disease": [e for e in case.extrahepatic_disease if keep(e.detected_on)],
            "reviews": [r for r in case.reviews if keep(r.meeting_date)],
        }
    )


class _Summary:
    """Builds each section of one case's summary."""

    def __init__(
        self,
        *,
        case: Case,
        shown: Case,
        evaluation: EvaluationView,
        review: Review | None,
        as_of: date | None,
        width: float,
        timeline: Timeline,
        latest: tuple[Review, int | None] | None = None,
    ):
        self.case = case
        self.latest = latest  # the latest signed review, on a summary for no review
        self.shown = shown
        # the evaluation's read model: the facts, the lesions' status and change, the
        # targets and the RECIST assessments as the engine gave them (computed nowhere here)
        self.evaluation = evaluation
        self.facts = evaluation.facts
        self.review = review
        self.as_of = as_of
        self.width = width
        self.timeline = timeline
        self.source_numbers = self._number_sources()

    # -- header --------------------------------------------------------------------

    def header(self, review_number: int | None, question: str | None) -> list[Flowable]:
        case, patient, review = self.case, self.case.patient, self.review
        birth = patient.birth_date
        when = review.meeting_date if review else self.as_of
        age = age_on(birth, when)
        born = (
            DASH
            if birth is None
            else (f"{birth.isoformat()}" + (f" ({age} years)" if age is not None else ""))
        )
        bmi = self.facts.bmi
        name_cell = U(patient_name(case), "title")
        mrn_cell = P(
            f"<font size=8 color='#5f6368'>MRN</font><br/>"
            f"<b><font size=13>{markup(case.mrn)}</font></b>",
            "body",
        )
        top = Grid([[name_cell, mrn_cell]], colWidths=[self.width * 0.7, self.width * 0.3])
        top.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        identity = key_values(
            [
                ("Birth date (age)", born),
                ("Sex", label(patient.sex)),
                (
                    "Height, weight",
                    DASH
                    if patient.height_cm is None and patient.weight_kg is None
                    else f"{num(patient.height_cm, 'cm')}, {num(patient.weight_kg, 'kg')}"
                    f" (BMI {num(bmi)})",
                ),
                ("ECOG", num(patient.ecog)),
                ("Referring clinician", markup(patient.referring_clinician) or DASH),
                ("Referral date", day(patient.referral_date)),
            ],
            self.width,
        )
        meeting_rows: list[tuple[str, str | Flowable]]
        if review is not None:
            signed_with = self.evaluation.engine_version or DASH
            status = (
                f"signed by {markup(review.signed_by)} at {moment(review.signed_at)} with "
                f"guideline engine {markup(signed_with)}"
                if review.signed
                else "<font color='#b3261e'><b>DRAFT — not signed</b></font>"
            )
            number = f" (review {review_number + 1})" if review_number is not None else ""
            meeting_rows = [
                ("Meeting", f"<b>{day(review.meeting_date)}</b>{number} · {status}"),
                ("Question for the board", U(review.question, "cell_bold")),
                (
                    "Recommendation",
                    f"<b>{label(review.recommendation)}</b> (decision, actions "
                    "and attendees under Board review)",
                ),
            ]
        elif self.latest is not None:
            latest, index = self.latest
            number = f"review {index + 1}, " if index is not None else ""
            meeting_rows = [
                (
                    "Latest board review",
                    f"<b>{day(latest.meeting_date)}</b> ({number}the latest signed review) · "
                    f"<b>{label(latest.recommendation)}</b> · signed by "
                    f"{markup(latest.signed_by)} at {moment(latest.signed_at)}. This summary "
                    "shows the current evaluation; the review is under Board review.",
                ),
                ("Question for the board", U(question or latest.question, "cell_bold")),
            ]
        else:
            meeting_rows = [
                (
                    "Meeting",
                    "No board review attached: this summary shows the current "
                    "evaluation of the case.",
                ),
                ("Question for the board", U(question, "cell_bold")),
            ]
        meeting_rows.append(("Evaluation", self._evaluation_line()))
        meeting = key_values(meeting_rows, self.width, columns=1, label_share=0.2)
        meeting.setStyle(
            table_style(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), HEADER_FILL),
                    ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ]
            )
        )
        flowables: list[Flowable] = [
            P(
                "<font color='#1f4e79'><b>TUMOR BOARD CASE SUMMARY</b></font> · colorectal liver "
                "metastases",
                "muted",
            ),
            top,
            Spacer(1, 3),
            identity,
            Spacer(1, 5),
            meeting,
        ]
        changed = self._changed_notice()
        if changed:
            flowables += [Spacer(1, 3), P(changed, "muted")]
        return flowables

    def _evaluation_line(self) -> str:
        evaluation = self.evaluation
        digest = evaluation.input_sha256[:12]
        return (
            f"as of {day(evaluation.as_of)} · guideline engine "
            f"{markup(evaluation.engine_version or DASH)} · profile "
            f"{markup(evaluation.profile_name or DASH)} · input {markup(digest) or DASH}"
        )

    def _changed_notice(self) -> str:
        recorded = self.evaluation.input_sha256
        if not recorded:
            return ""
        current = input_sha256(self.case)
        if current == recorded:
            return ""
        return (
            "The case record has changed since this evaluation was made (input "
            f"{markup(recorded[:12])}, now {current[:12]}). Tables show the current "
            "record up to the evaluation date; findings and scores are the evaluation's."
        )

    # -- clinical summary ----------------------------------------------------------

    def clinical_summary(self) -> list[Flowable]:
        case, facts = self.shown, self.facts
        sentences: list[str] = []
        primary = case.primary
        if primary is not None:
            side = facts.sidedness
            site = label(primary.site) if primary.site else "Site unknown"
            if side in ("left", "right"):
                site += f" ({side}-sided)"
            histology = label(primary.histology).lower() if primary.histology else "tumour"
            prefix = {"pathological": "p", "clinical": "c"}.get(str(primary.staging_basis), "")
            stage = " ".join(prefix + value_label(x) for x in (primary.t, primary.n) if x)
            grade = (
                f", grade {label(primary.grade)}"
                if primary.grade and primary.grade != "unknown"
                else ""
            )
            text = f"<b>Primary:</b> {site} {histology}{grade}"
            if stage:
                text += f", {stage}"
            text += f"; diagnosed {day(primary.diagnosis_date)}"
            text += (
                f", resected {day(primary.resection_date)}."
                if primary.resection_date
                else ", <b>in situ</b>."
            )
            sentences.append(text)
        liver = case.liver_metastases_diagnosis_date
        presentation = facts.presentation
        text = "<b>Liver metastases:</b> " + (
            f"diagnosed {day(liver)}" if liver else "diagnosis date not recorded"
        )
        if presentation and presentation != "unknown":
            text += f"; {label(presentation).lower()} presentation"
            dfi = facts.disease_free_interval_months
            if dfi is not None and presentation != "synchronous":
                text += f" (disease-free interval {num(dfi)} months)"
        sentences.append(text + ".")
        current = facts.current_imaging
        if current is not None and current.date is not None:
            lobes = {True: "bilobar", False: "one lobe", None: "lobes unknown"}[facts.bilobar]
            text = (
                f"<b>Current imaging</b> {day(current.date)} "
                f"({label(current.modality)}): {num(facts.lesion_count)} "
                f"lesion(s), largest {num(facts.largest_diameter_mm, 'mm')}, {lobes}; "
                f"tumour burden score {num(facts.tumor_burden_score)}"
            )
            zone = facts.tumor_burden_zone
            text += f" ({zone})." if zone else "."
            response = facts.current_response
            if response:
                text += (
                    f" RECIST now {response} ({RESPONSE_LABELS.get(response, response)}), "
                    f"best {facts.best_response or DASH}."
                )
            sentences.append(text)
        else:
            sentences.append("<b>Imaging:</b> none recorded.")
        sites = [
            f"{label(e.site).lower()} ({day(e.detected_on)}"
            + (
                ""
                if e.resectable is None
                else ", resectable"
                if e.resectable
                else ", not resectable"
            )
            + ")"
            for e in case.extrahepatic_disease
        ]
        sentences.append(
            "<b>Extrahepatic disease:</b> "
            + ("; ".join(sites) + "." if sites else "none recorded.")
        )
        sentences.append(f"<b>Molecular:</b> {self._molecular_text()}.")
        patient = case.patient
        liver_background = (
            label(patient.liver_background).lower() if patient.liver_background else "not recorded"
        )
        text = f"<b>Patient:</b> liver background {liver_background}; BMI {num(facts.bmi)}"
        if patient.comorbidities:
            text += "; comorbidities: " + ", ".join(markup(c) for c in patient.comorbidities)
        sentences.append(text + ".")
        plan = case.plan
        if plan is not None:
            parts = []
            for name, value in (
                ("resectability", plan.resectability),
                ("intent", plan.intent),
                ("strategy", plan.strategy),
                ("sequence", plan.sequence),
                ("approach", plan.approach),
                ("resection", plan.resection_type),
            ):
                if value is not None:
                    parts.append(f"{name} {label(value).lower()}")
            if plan.segments_to_resect:
                parts.append("segments " + ", ".join(str(s) for s in plan.segments_to_resect))
            if plan.planned_regimen or plan.planned_biologic or plan.planned_immunotherapy:
                drugs = [
                    label(x)
                    for x in (
                        plan.planned_regimen,
                        plan.planned_biologic,
                        plan.planned_immunotherapy,
                    )
                    if x is not None and str(x) != "none"
                ]
                parts.append("planned systemic therapy " + " + ".join(drugs))
            if plan.planned_surgery_date:
                parts.append(f"surgery planned {day(plan.planned_surgery_date)}")
            if plan.surgeon:
                parts.append(f"surgeon {markup(plan.surgeon)}")
            sentences.append("<b>Current plan:</b> " + ("; ".join(parts) or "none recorded") + ".")
        return [P(s) for s in sentences]

    def _molecular_text(self) -> str:
        molecular = self.case.molecular
        if molecular is None:
            return "not tested"

        def gene(name: str, result: Any, variant: str | None) -> str:
            text = f"{name} {label(result).lower() if result else 'not recorded'}"
            return text + (f" ({markup(variant)})" if variant else "")

        parts = [
            gene("KRAS", molecular.kras, molecular.kras_variant),
            gene("NRAS", molecular.nras, molecular.nras_variant),
            f"BRAF {label(molecular.braf) if molecular.braf else 'not recorded'}",
            f"MMR {label(molecular.mmr).lower() if molecular.mmr else 'not recorded'}",
            f"MSI {label(molecular.msi) if molecular.msi else 'not recorded'}",
        ]
        if molecular.her2:
            parts.append(f"HER2 {label(molecular.her2).lower()}")
        text = ", ".join(parts)
        if molecular.tested_on:
            text += f" (tested {day(molecular.tested_on)})"
        return text

    # -- staging and molecular -----------------------------------------------------

    def staging(self) -> list[Flowable]:
        case, facts = self.shown, self.facts
        primary = case.primary
        molecular = case.molecular
        side = facts.sidedness
        site = DASH
        if primary is not None and primary.site:
            site = label(primary.site) + (f" ({side})" if side in ("left", "right") else "")
        node = facts.node_positive
        n_text = label(primary.n) if primary and primary.n else DASH
        if node is not None and n_text != DASH:
            n_text += " (node-positive)" if node else " (node-negative)"
        dfi = facts.disease_free_interval_months
        pairs: list[tuple[str, str | Flowable]] = [
            ("Primary site", site),
            ("Histology", label(primary.histology) if primary else DASH),
            ("Grade", label(primary.grade) if primary else DASH),
            ("Staging basis", label(primary.staging_basis) if primary else DASH),
            ("T", label(primary.t) if primary else DASH),
            ("N", n_text),
            ("Primary diagnosed", day(primary.diagnosis_date) if primary else DASH),
            (
                "Primary resected",
                (day(primary.resection_date) if primary.resection_date else "in situ")
                if primary
                else DASH,
            ),
            ("Liver metastases diagnosed", day(case.liver_metastases_diagnosis_date)),
            ("Presentation", label(facts.presentation)),
            ("Disease-free interval", num(dfi, "months")),
            ("Previous hepatectomies", num(facts.previous_hepatectomies)),
            (
                "Extrahepatic sites",
                ", ".join(label(e.site) for e in case.extrahepatic_disease) or "none recorded",
            ),
            (
                "Episode start",
                day(facts.episode_start) if facts.episode_start else "start of record",
            ),
        ]
        molecular_pairs: list[tuple[str, str | Flowable]] = [
            ("RAS status", label(facts.ras_status)),
            ("BRAF status", label(facts.braf_status)),
            ("MMR status", label(facts.mmr_status)),
            (
                "KRAS",
                label(molecular.kras)
                + (f" {markup(molecular.kras_variant)}" if molecular.kras_variant else "")
                if molecular
                else DASH,
            ),
            (
                "NRAS",
                label(molecular.nras)
                + (f" {markup(molecular.nras_variant)}" if molecular.nras_variant else "")
                if molecular
                else DASH,
            ),
            ("BRAF", label(molecular.braf) if molecular else DASH),
            ("MMR", label(molecular.mmr) if molecular else DASH),
            ("MSI", label(molecular.msi) if molecular else DASH),
            ("HER2", label(molecular.her2) if molecular else DASH),
            ("Tested on", day(molecular.tested_on) if molecular else DASH),
        ]
        return [
            key_values(pairs, self.width),
            Spacer(1, 4),
            P(
                "<b>Molecular profile</b> (status as the engine reads it, then the results)",
                "small",
            ),
            key_values(molecular_pairs, self.width),
        ]

    # -- chemotherapy --------------------------------------------------------------

    def chemotherapy(self) -> list[Flowable]:
        lines = self.timeline.lines
        flowables: list[Flowable] = []
        if lines:
            w = self.width
            rows = []
            for line in lines:
                biologics = ", ".join(f"{label(b)} ×{n}" for b, n in line.biologics) or "none"
                rows.append(
                    [
                        str(line.number),
                        f"<b>{label(line.regimen)}</b>",
                        biologics,
                        label(line.setting),
                        str(line.cycles),
                        day(line.first_date),
                        day(line.last_date),
                    ]
                )
            flowables.append(
                data_table(
                    ["Line", "Regimen", "Biologic (cycles)", "Setting", "Cycles", "First", "Last"],
                    rows,
                    [0.07 * w, 0.16 * w, 0.27 * w, 0.14 * w, 0.08 * w, 0.14 * w, 0.14 * w],
                )
            )
        else:
            flowables.append(P("No chemotherapy recorded.", "muted"))
        doses = self.shown.immunotherapy
        if doses:
            by_agent: dict[str, list[date]] = {}
            for dose in sorted(doses, key=lambda d: d.date):
                by_agent.setdefault(dose.agent.value, []).append(dose.date)
            w = self.width
            flowables += [
                Spacer(1, 4),
                data_table(
                    ["Immunotherapy", "Doses", "First", "Last"],
                    [
                        [f"<b>{label(agent)}</b>", str(len(dates)), day(dates[0]), day(dates[-1])]
                        for agent, dates in by_agent.items()
                    ],
                    [0.43 * w, 0.15 * w, 0.21 * w, 0.21 * w],
                ),
            ]
        cycles = sorted(self.shown.chemotherapy, key=lambda c: c.date)
        total_ox = sum(1 for c in cycles if c.regimen in OXALIPLATIN_REGIMENS)
        total_iri = sum(1 for c in cycles if c.regimen in IRINOTECAN_REGIMENS)
        bevacizumab = [c.date for c in cycles if c.effective_biologic == Biologic.BEVACIZUMAB]
        chemo = self.facts.chemotherapy or ChemotherapyView(None, None, None, None)
        weeks = chemo.preoperative_weeks
        pairs: list[tuple[str, str | Flowable]] = [
            ("Cycles in all", str(len(cycles))),
            (
                "Preoperative cycles (episode)",
                num(chemo.preoperative_cycles)
                + (f" over {num(weeks)} weeks" if weeks is not None else ""),
            ),
            (
                "Oxaliplatin cycles",
                f"{total_ox} in all; {num(chemo.oxaliplatin_cycles)} this episode",
            ),
            (
                "Irinotecan cycles",
                f"{total_iri} in all; {num(chemo.irinotecan_cycles)} this episode",
            ),
            (
                "First / last cycle",
                f"{day(cycles[0].date) if cycles else DASH} / "
                f"{day(cycles[-1].date) if cycles else DASH}",
            ),
            ("Last bevacizumab", day(max(bevacizumab)) if bevacizumab else "never given"),
            ("Extensive chemotherapy", yes_no(self.facts.extensive_chemotherapy)),
            ("On treatment", yes_no(chemo.on_treatment)),
            ("Earliest safe surgery", day(self.facts.earliest_safe_surgery_date)),
            ("Next restaging due", day(self.facts.next_restaging_due)),
        ]
        flowables += [Spacer(1, 4), key_values(pairs, self.width)]
        return flowables

    # -- procedures ----------------------------------------------------------------

    def procedures(self) -> list[Flowable]:
        w = self.width
        flowables: list[Flowable] = []
        procedures = sorted(self.shown.procedures, key=lambda p: p.date)
        if procedures:
            flowables.append(
                data_table(
                    ["Date", "Procedure", "Segments", "Lesions", "Note"],
                    [
                        [
                            day(p.date),
                            f"<b>{label(p.procedure)}</b>",
                            ", ".join(str(s) for s in p.segments or ()) or DASH,
                            markup(", ".join(p.lesion_ids or ())) or DASH,
                            U(p.note, "cell", empty=DASH),
                        ]
                        for p in procedures
                    ],
                    [0.13 * w, 0.22 * w, 0.11 * w, 0.12 * w, 0.42 * w],
                )
            )
        else:
            flowables.append(P("No procedures recorded.", "muted"))
        outcomes = sorted(self.shown.surgery_outcomes, key=lambda o: o.date)
        if outcomes:
            flowables += [
                Spacer(1, 4),
                data_table(
                    [
                        "Operation",
                        "Procedure",
                        "Margin",
                        "Pathological response",
                        "Clavien–Dindo",
                        "Recurrence",
                    ],
                    [
                        [
                            day(o.date),
                            label(o.procedure),
                            " ".join(
                                x
                                for x in (
                                    label(o.margin_status) if o.margin_status else "",
                                    num(o.margin_mm, "mm") if o.margin_mm is not None else "",
                                )
                                if x
                            )
                            or DASH,
                            label(o.pathological_response),
                            label(o.clavien_dindo),
                            (
                                day(o.recurrence_date)
                                + (
                                    ": " + markup(", ".join(o.recurrence_sites))
                                    if o.recurrence_sites
                                    else ""
                                )
                            )
                            if o.recurrence_date
                            else DASH,
                        ]
                        for o in outcomes
                    ],
                    [0.13 * w, 0.2 * w, 0.13 * w, 0.16 * w, 0.13 * w, 0.25 * w],
                ),
            ]
        return flowables

    # -- imaging -------------------------------------------------------------------

    def imaging(self) -> list[Flowable]:
        timepoints = sorted(self.shown.imaging, key=lambda t: t.date)
        if not timepoints:
            return [P("No imaging recorded.", "muted")]
        baseline = self.facts.recist_baseline
        targets = set(baseline.target_lesions) if baseline is not None else set()
        marks = {m.date: m for m in self.timeline.imaging}
        lesion_ids = list(dict.fromkeys(lesion.id for t in timepoints for lesion in t.lesions))
        segments: dict[str, int | None] = {}
        for timepoint in timepoints:
            for lesion in timepoint.lesions:
                if lesion.segment is not None:
                    segments[lesion.id] = lesion.segment
        fixed = [0.12 * self.width, 0.06 * self.width]
        per_table = max(1, int((self.width - sum(fixed)) // MIN_DATE_COLUMN))
        chunks = math.ceil(len(timepoints) / per_table)
        size = math.ceil(len(timepoints) / chunks)
        flowables: list[Flowable] = [
            P(
                "Longest diameter in mm per lesion and timepoint; <b>T</b> = RECIST target lesion; "
                "“gone” = no longer visible, “resected”/“ablated” = treated. Sums and RECIST "
                "categories are the evaluation's (RECIST 1.1, liver lesions).",
                "small",
            )
        ]
        for part in range(chunks):
            chunk = timepoints[part * size : (part + 1) * size]
            if chunks > 1:
                flowables.append(
                    P(
                        f"Timepoints {part * size + 1}–{part * size + len(chunk)} "
                        f"of {len(timepoints)}",
                        "h3",
                    )
                )
            flowables.append(self._lesion_table(chunk, lesion_ids, segments, targets, marks, fixed))
            flowables.append(Spacer(1, 4))
        extrahepatic = [
            (t.date, t.extrahepatic_findings) for t in timepoints if t.extrahepatic_findings
        ]
        for when, text in extrahepatic:
            flowables.append(
                P(f"<b>{day(when)}</b> extrahepatic findings: {markup(text)}", "small")
            )
        return flowables

    def _lesion_table(
        self,
        chunk: Sequence[ImagingTimepoint],
        lesion_ids: Sequence[str],
        segments: Mapping[str, int | None],
        targets: set[str],
        marks: Mapping[date, Any],
        fixed: Sequence[float],
    ) -> Grid:
        column = (self.width - sum(fixed)) / len(chunk)
        header = ["Lesion", "Seg.", *[day(t.date) for t in chunk]]
        modality_row = [
            "",
            "",
            *[
                label(t.modality)
                + (
                    " · baseline"
                    if marks.get(t.date) is not None and marks[t.date].baseline
                    else ""
                )
                for t in chunk
            ],
        ]
        rows: list[list[str]] = []
        for lesion_id in lesion_ids:
            tag = " <b>T</b>" if lesion_id in targets else ""
            row = [f"{markup(lesion_id)}{tag}", num(segments.get(lesion_id))]
            for timepoint in chunk:
                row.append(_lesion_cell(self.evaluation.lesion(lesion_id, timepoint.date)))
            rows.append(row)
        first_summary = len(rows)
        totals = ["Σ all lesions", ""]
        sums = ["Σ targets", ""]
        change = ["Δ baseline", ""]
        recist = ["RECIST", ""]
        extra = ["New lesions", ""]
        flr = ["FLR", ""]
        for timepoint in chunk:
            mark = marks.get(timepoint.date)
            totals.append(num(mark.total_diameter_mm) if mark else DASH)
            sums.append(
                f"<b>{num(mark.target_sum_mm)}</b>"
                if mark and mark.target_sum_mm is not None
                else DASH
            )
            entry = self.evaluation.response_at(timepoint.date)
            change.append(
                signed_percent(entry.change_from_baseline_percent)
                if entry
                else ("baseline" if mark and mark.baseline else DASH)
            )
            response = mark.response if mark else None
            colour = RESPONSE_COLOURS.get(response or "", MUTED).hexval()[2:]
            recist.append(f"<font color='#{colour}'><b>{response}</b></font>" if response else DASH)
            extra.append("<b>yes</b>" if timepoint.new_lesions else "")
            flr.append(
                num(timepoint.flr_measure_percent, "%")
                if timepoint.flr_measure_percent is not None
                else ""
            )
        rows += [totals, sums, change, recist]
        if any(extra[2:]):
            rows.append(extra)
        if any(flr[2:]):
            rows.append(flr)
        style: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 2 + first_summary), (-1, -1), colors.HexColor("#eef2f6")),
            ("LINEABOVE", (0, 2 + first_summary), (-1, 2 + first_summary), 0.75, MUTED),
        ]
        for index, timepoint in enumerate(chunk):
            mark = marks.get(timepoint.date)
            if mark is not None and mark.baseline:
                style.append(
                    ("BACKGROUND", (2 + index, 0), (2 + index, 1), colors.HexColor("#d6e4f0"))
                )
        return data_table(
            header,
            rows,
            [*fixed, *([column] * len(chunk))],
            header_rows=[modality_row],
            extra_style=style,
        )

    # -- CEA -----------------------------------------------------------------------

    def cea(self) -> list[Flowable]:
        values = [
            (lab.date, lab.cea_ng_ml)
            for lab in sorted(self.shown.labs, key=lambda lab: lab.date)
            if lab.cea_ng_ml is not None
        ]
        if not values:
            return [P("No CEA values recorded.", "muted")]
        facts = self.facts
        flowables: list[Flowable] = [
            P(
                f"Baseline {num(facts.cea_baseline, 'ng/mL')} "
                f"({day(facts.cea_baseline_date)})"
                f" → latest {num(facts.cea_latest, 'ng/mL')} ({day(facts.cea_latest_date)}): "
                f"<b>{signed_percent(facts.cea_change_percent)}</b> in this episode."
            )
        ]
        per_row = max(1, int((self.width - 0.12 * self.width) // MIN_DATE_COLUMN))
        for start in range(0, len(values), per_row):
            chunk = values[start : start + per_row]
            column = (self.width - 0.12 * self.width) / per_row
            table = data_table(
                ["Date", *[day(d) for d, _ in chunk]],
                [["ng/mL", *[f"<b>{num(v)}</b>" for _, v in chunk]]],
                [0.12 * self.width, *([column] * len(chunk))],
            )
            flowables += [table, Spacer(1, 3)]
        other = [
            lab
            for lab in self.shown.labs
            if any(
                x is not None
                for x in (lab.ast_u_l, lab.platelets_10e9_l, lab.bilirubin_umol_l, lab.albumin_g_l)
            )
        ]
        if other:
            latest = max(other, key=lambda lab: lab.date)
            flowables.append(
                P(
                    f"Latest liver tests {day(latest.date)}: AST {num(latest.ast_u_l, 'U/L')} "
                    f"(ULN {num(latest.ast_uln_u_l)}), platelets {num(latest.platelets_10e9_l)} "
                    f"×10⁹/L, bilirubin {num(latest.bilirubin_umol_l, 'µmol/L')}, albumin "
                    f"{num(latest.albumin_g_l, 'g/L')}; APRI {num(facts.apri)}.",
                    "small",
                )
            )
        return flowables

    # -- FLR -----------------------------------------------------------------------

    def flr(self) -> list[Flowable]:
        flr = self.facts.flr or FutureLiverRemnantView(None, None, None, None, None)
        measured = flr.measured_percent
        required = flr.required_percent
        where = {
            "imaging": f"volumetry {day(flr.measured_date)}",
            "plan": "planned value",
        }.get(str(flr.measured_source), "")
        status = DASH
        if measured is not None and required is not None:
            status = (
                "<font color='#b3261e'><b>below the required volume</b></font>"
                if measured < required
                else "meets the required volume"
            )
        plan = self.shown.plan
        segments = plan.segments_to_resect if plan else None
        major = self.facts.major_hepatectomy
        pairs: list[tuple[str, str | Flowable]] = [
            ("Measured FLR", f"<b>{num(measured, '%')}</b>" + (f" ({where})" if where else "")),
            (
                "Required FLR",
                f"<b>{num(required, '%')}</b> — basis: {label(flr.basis).lower()}",
            ),
            ("Comparison", status),
            (
                "Planned resection",
                (", ".join(str(s) for s in segments) if segments else DASH)
                + (
                    ""
                    if major is None
                    else (" (major hepatectomy)" if major else " (minor hepatectomy)")
                ),
            ),
        ]
        flowables: list[Flowable] = [key_values(pairs, self.width)]
        pve = self.facts.pve
        if pve is not None:
            flowables += [
                Spacer(1, 4),
                P("<b>Portal vein embolisation</b>", "small"),
                key_values(
                    [
                        ("PVE date", day(pve.date)),
                        (
                            "FLR before",
                            f"{num(pve.flr_before_percent, '%')} ({day(pve.flr_before_date)})",
                        ),
                        (
                            "FLR after",
                            f"{num(pve.flr_after_percent, '%')} ({day(pve.flr_after_date)})",
                        ),
                        ("Hypertrophy", num(pve.degree_of_hypertrophy, "percentage points")),
                        ("Weeks to re-measure", num(pve.weeks)),
                        ("Kinetic growth rate", num(pve.kinetic_growth_rate, "%/week")),
                    ],
                    self.width,
                ),
            ]
        volumetry = [
            t
            for t in sorted(self.shown.imaging, key=lambda t: t.date)
            if t.total_liver_volume_ml is not None
            or t.flr_volume_ml is not None
            or t.flr_percent is not None
        ]
        if volumetry:
            w = self.width
            flowables += [
                Spacer(1, 4),
                data_table(
                    ["Volumetry", "Modality", "Total liver", "FLR volume", "FLR"],
                    [
                        [
                            day(t.date),
                            label(t.modality),
                            num(t.total_liver_volume_ml, "mL"),
                            num(t.flr_volume_ml, "mL"),
                            f"<b>{num(t.flr_measure_percent, '%')}</b>",
                        ]
                        for t in volumetry
                    ],
                    [0.2 * w, 0.16 * w, 0.22 * w, 0.22 * w, 0.2 * w],
                ),
            ]
        return flowables

    # -- timeline ------------------------------------------------------------------

    def timeline_chart(self) -> list[Flowable]:
        flowables: list[Flowable] = [timeline_drawing(self.timeline, self.width)]
        return [KeepTogether(flowables)]

    # -- scores --------------------------------------------------------------------

    def scores(self) -> list[Flowable]:
        w = self.width
        rows: list[list[str]] = []
        facts = self.facts
        for key, score, name, maximum in (
            ("fong_crs", facts.fong_crs, "Fong clinical risk score", 5),
            ("game_score", facts.game_score, "GAME score", 7),
            (
                "modified_clinical_score",
                facts.modified_clinical_score,
                "Modified clinical score",
                3,
            ),
        ):
            if score is None:
                rows.append([f"<b>{name}</b>", DASH, "", "", self._cite_fact(key)])
                continue
            criteria = "<br/>".join(
                f"{markup(score_criterion_text(k))}: <b>{num(v)}</b>" for k, v in score.points
            )
            missing = score.missing
            if missing:
                criteria += (
                    "<br/><font color='#b3261e'>missing: "
                    + markup(", ".join(score_input_text(m) for m in missing))
                    + "</font>"
                )
            value = "incomplete"
            if score.score is not None:
                value = f"<b>{num(score.score)}</b> / {maximum}"
            rows.append(
                [f"<b>{name}</b>", value, criteria, label(score.risk), self._cite_fact(key)]
            )
        tbs = f"<b>{num(facts.tumor_burden_score)}</b>"
        rows.append(
            [
                "<b>Tumour burden score</b>",
                tbs,
                f"now {num(facts.tumor_burden_score)} "
                f"({facts.tumor_burden_zone or DASH}); baseline "
                f"{num(facts.tumor_burden_score_baseline)} "
                f"({facts.tumor_burden_zone_baseline or DASH})",
                label(facts.tumor_burden_zone),
                self._cite_fact("tumor_burden_score"),
            ]
        )
        response = facts.current_response
        rows.append(
            [
                "<b>RECIST 1.1</b>",
                f"<b>{response or DASH}</b>",
                f"current {markup(RESPONSE_LABELS.get(response or '', DASH))}; best "
                f"{facts.best_response or DASH}",
                "",
                self._cite_fact("recist"),
            ]
        )
        rows.append(
            [
                "<b>Morphologic response</b>",
                markup(facts.morphologic_response or DASH),
                "Chun criteria, least favourable lesion",
                "",
                self._cite_fact("morphologic_response"),
            ]
        )
        rows.append(
            [
                "<b>APRI</b>",
                num(facts.apri),
                f"latest complete liver tests {day(facts.apri_date)}",
                "",
                "",
            ]
        )
        return [
            data_table(
                ["Score", "Value", "Points / basis", "Risk", "Source"],
                rows,
                [0.21 * w, 0.12 * w, 0.36 * w, 0.12 * w, 0.19 * w],
            )
        ]

    def _cite_fact(self, fact: str) -> str:
        from crlmboard.domain.engine.catalogue import FACT_SOURCES

        keys = FACT_SOURCES.get(fact, ())
        return ", ".join(
            f"{markup(k)} [{self.source_numbers[k]}]" for k in keys if k in self.source_numbers
        )

    # -- findings ------------------------------------------------------------------

    def findings(self) -> list[Flowable]:
        findings = self.evaluation.findings
        if not findings:
            return [P("The guideline engine found nothing to report.", "muted")]
        counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITY_ORDER}
        flowables: list[Flowable] = [
            P(
                "The engine supports the board; it decides nothing. Each finding shows the values "
                "it compared and its sources. "
                + " · ".join(f"{SEVERITY_TITLES[s]}: <b>{counts[s]}</b>" for s in SEVERITY_ORDER),
                "small",
            )
        ]
        severities = [
            *SEVERITY_ORDER,
            *sorted({f.severity for f in findings} - set(SEVERITY_ORDER)),
        ]
        for severity in severities:
            group = [f for f in findings if f.severity == severity]
            if not group:
                continue
            flowables.append(
                P(f"{SEVERITY_TITLES.get(severity, markup(severity))} ({len(group)})", "h3")
            )
            for finding in group:
                flowables.append(self._finding(finding, severity))
                flowables.append(Spacer(1, 3))
        return flowables

    def _finding(self, finding: FindingView, severity: str) -> Grid:
        colour = SEVERITY_COLOURS.get(severity, MUTED)
        fill = SEVERITY_FILLS.get(severity, HEADER_FILL)
        badge = P(
            f"<font color='#{colour.hexval()[2:]}'><b>{markup(severity.upper())}</b></font>", "cell"
        )
        cited = ", ".join(
            f"{markup(s)} [{self.source_numbers.get(s, '?')}]" for s in finding.sources
        )
        parts: list[Flowable] = [
            P(
                f"<b>{markup(finding.title)}</b> "
                f"<font color='#5f6368' size=7>{markup(finding.rule)}</font>",
                "cell",
            ),
            U(finding.message, "cell"),
        ]
        if finding.values:
            parts.append(
                P(f"<font size=7>Values: {values_text(dict(finding.values))}</font>", "cell")
            )
        if cited:
            parts.append(P(f"<font size=7 color='#5f6368'>Sources: {cited}</font>", "cell"))
        table = Grid([[badge, parts]], colWidths=[0.12 * self.width, 0.88 * self.width])
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, 0), fill),
                    ("LINEBEFORE", (0, 0), (0, 0), 3, colour),
                    ("BOX", (0, 0), (-1, -1), 0.4, RULE),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    # -- review --------------------------------------------------------------------

    def board_review(self) -> list[Flowable]:
        review = self.review
        if review is None and self.latest is not None:
            latest, index = self.latest
            number = f" (review {index + 1} of this case)" if index is not None else ""
            return [
                P(
                    f"The latest signed board review{number}, shown by default on a summary "
                    "made for no review in particular. The findings above are the evaluation "
                    "as of " + day(self.evaluation.as_of) + "; the evaluation this "
                    "review was signed with is in the review's own summary.",
                    "muted",
                ),
                Spacer(1, 3),
                *self._review_record(latest),
            ]
        if review is None:
            return [
                P(
                    "No board review is attached to this summary. It shows the evaluation "
                    "of the case as of " + day(self.evaluation.as_of) + ".",
                    "muted",
                )
            ]
        return self._review_record(review)

    def _review_record(self, review: Review) -> list[Flowable]:
        """The board's record of one review: decision, signature, actions, attendees."""
        w = self.width
        own = review is self.review  # else the latest review, on a summary for none
        engine_version = (
            self.evaluation.engine_version if own else signed_engine_version(review.evaluation)
        )
        status = (
            f"Signed by <b>{markup(review.signed_by)}</b> at {moment(review.signed_at)} with "
            f"guideline engine {markup(engine_version or DASH)}, "
            f"meaning: {markup(review.meaning)}"
            if review.signed
            else "<font color='#b3261e'><b>DRAFT — not signed; not a board decision yet.</b></font>"
        )
        pairs: list[tuple[str, str | Flowable]] = [
            ("Meeting", day(review.meeting_date)),
            ("Question", U(review.question, "cell")),
            ("Recommendation", f"<b>{label(review.recommendation)}</b>"),
            ("Decision", U(review.decision, "cell")),
            ("Next review", day(review.next_review_date)),
            ("Signature", status),
        ]
        if review.amends is not None:
            pairs.append(("Amends", f"review {review.amends + 1} of this case"))
        if review.follow_up is not None:
            follow = review.follow_up
            text = label(follow.status)
            if follow.reason:
                text += f" ({label(follow.reason).lower()})"
            if follow.note:
                text += f": {markup(follow.note)}"
            if follow.recorded_on:
                text += f" — recorded {day(follow.recorded_on)}"
            pairs.append(("Follow-up", text))
        flowables: list[Flowable] = [key_values(pairs, w, columns=1, label_share=0.2)]
        if review.actions:
            flowables += [
                Spacer(1, 4),
                data_table(
                    ["Action", "Owner", "Due"],
                    [
                        [U(a.text, "cell"), markup(a.owner) or DASH, day(a.due)]
                        for a in review.actions
                    ],
                    [0.62 * w, 0.22 * w, 0.16 * w],
                ),
            ]
        if review.attendees:
            flowables += [
                Spacer(1, 4),
                data_table(
                    ["Attendee", "Role"],
                    [[U(a.name, "cell"), label(a.role)] for a in review.attendees],
                    [0.5 * w, 0.5 * w],
                ),
            ]
        return flowables

    # -- sources -------------------------------------------------------------------

    def _number_sources(self) -> dict[str, int]:
        from crlmboard.domain.engine.catalogue import FACT_SOURCES

        keys: list[str] = list(self.evaluation.sources())
        for fact in (
            "fong_crs",
            "game_score",
            "modified_clinical_score",
            "tumor_burden_score",
            "recist",
            "morphologic_response",
        ):
            keys += FACT_SOURCES.get(fact, ())
        return {key: number for number, key in enumerate(dict.fromkeys(keys), start=1)}

    def sources(self) -> list[Flowable]:
        if not self.source_numbers:
            return [P("No sources cited.", "muted")]
        rows = [
            [
                f"[{number}]",
                f"<b>{markup(key)}</b>",
                markup(SOURCES.get(key, "(reference not in this version's catalogue)")),
            ]
            for key, number in self.source_numbers.items()
        ]
        w = self.width
        table = Grid(
            [[P(c, "small") for c in row] for row in rows],
            colWidths=[0.07 * w, 0.16 * w, 0.77 * w],
            hAlign="LEFT",
        )
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        return [table]


def _lesion_cell(cell: LesionCell | None) -> str:
    """One lesion's entry at one timepoint, with the status the engine reads."""
    if cell is None:
        return ""
    if cell.status == LesionStatus.DISAPPEARED.value:
        return "<font color='#1b7f3b'>gone</font>"
    if cell.status in (LesionStatus.RESECTED.value, LesionStatus.ABLATED.value):
        return f"<font color='#5f6368'>{cell.status}</font>"
    return num(cell.diameter_mm) if cell.diameter_mm is not None else "?"
