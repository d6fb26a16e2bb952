"""The outcome letter: one page to the referring clinician and the GP from a signed review —
the question the board answered, its recommendation and decision, the actions agreed, and
the next review.  Long text is shrunk to fit; the letter never runs onto a second page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportlab.platypus import Flowable, KeepInFrame, Spacer, Table

from crlmboard.domain.case import Case
from crlmboard.domain.meeting import Review
from crlmboard.report.blocks import DASH, P, U, age_on, data_table, day, label, moment
from crlmboard.report.case_summary import footer_info
from crlmboard.report.document import Metadata, build_pdf, content_height, content_width
from crlmboard.report.fonts import markup
from crlmboard.report.styles import ACCENT, table_style

LETTER_TITLE = "Outcome of the multidisciplinary tumor board"


def outcome_letter_pdf(
    case: Case,
    review: Review,
    evaluation: Mapping[str, Any] | None = None,
    *,
    page_size: str = "A4",
    app_version: str = "",
    audit_head: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> bytes:
    """The one-page letter of a signed review as PDF bytes (ValueError if it is unsigned)."""
    if not review.signed:
        raise ValueError("an outcome letter needs a signed review")
    width = content_width(page_size)
    body = _letter_story(case, review, width)
    frame = KeepInFrame(width, content_height(page_size) - 4, body, mode="shrink")
    footer = footer_info(
        case,
        evaluation or {},
        app_version=app_version,
        audit_head=audit_head,
        what="outcome letter",
        checkpoint=checkpoint,
    )
    metadata = Metadata(
        title=f"{case.mrn} {case.display_name()} — tumor board outcome letter",
        subject=f"Outcome of the tumor board meeting of {review.meeting_date.isoformat()}",
        app_version=app_version,
        keywords=(case.mrn, "crlmboard", "outcome letter"),
        checkpoint=checkpoint,
    )
    return build_pdf([frame], metadata, page_size=page_size, footer=footer)


def _letter_story(case: Case, review: Review, width: float) -> list[Flowable]:
    patient = case.patient
    signed = review.signed_at.date() if review.signed_at else review.meeting_date
    heading = Table(
        [
            [
                P(
                    f"<font color='#{ACCENT.hexval()[2:]}'><b>Multidisciplinary tumor "
                    "board</b></font><br/>colorectal liver metastases",
                    "body",
                ),
                P(f"<para alignment='right'>{day(signed)}</para>", "body"),
            ]
        ],
        colWidths=[width * 0.7, width * 0.3],
    )
    heading.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    clinician = markup(patient.referring_clinician) or "the referring clinician"
    age = age_on(patient.birth_date, review.meeting_date)
    born = day(patient.birth_date) + (f" ({age} years)" if age is not None else "")
    story: list[Flowable] = [
        heading,
        Spacer(1, 10),
        P(f"To: {clinician}<br/>Copy: the patient's general practitioner", "letter"),
        Spacer(1, 4),
        P(
            f"<b>Re: {markup(case.display_name(), bold=True)}</b>, born {born}, MRN "
            f"<b>{markup(case.mrn)}</b>",
            "letter",
        ),
        P(markup(LETTER_TITLE), "title"),
        Spacer(1, 4),
        P("Dear colleague,", "letter"),
        P(
            f"The multidisciplinary tumor board discussed your patient at its meeting on "
            f"<b>{day(review.meeting_date)}</b>. Its recommendation follows.",
            "letter",
        ),
        P("Question for the board", "h3"),
        U(review.question, "letter", empty="No question was recorded."),
        P("Recommendation", "h3"),
        P(
            f"<b>{label(review.recommendation)}</b>"
            if review.recommendation
            else "No strategy was recorded.",
            "letter",
        ),
    ]
    if review.decision:
        story.append(U(review.decision, "letter"))
    story.append(P("Actions", "h3"))
    if review.actions:
        story.append(
            data_table(
                ["Action", "Owner", "Due"],
                [
                    [U(a.text, "letter_cell"), markup(a.owner) or DASH, day(a.due)]
                    for a in review.actions
                ],
                [width * 0.62, width * 0.22, width * 0.16],
                body_style="letter_cell",
            )
        )
    else:
        story.append(P("No actions were agreed.", "letter"))
    story.append(P("Next review", "h3"))
    story.append(
        P(
            f"<b>{day(review.next_review_date)}</b>"
            if review.next_review_date
            else "No further review is planned.",
            "letter",
        )
    )
    if review.attendees:
        names = "; ".join(f"{markup(a.name)} ({label(a.role).lower()})" for a in review.attendees)
        story += [P("Present at the meeting", "h3"), P(names, "letter")]
    story += [
        Spacer(1, 8),
        P(
            f"Signed for the board by <b>{markup(review.signed_by)}</b> on "
            f"{moment(review.signed_at)}, meaning: {markup(review.meaning)}.",
            "letter",
        ),
        P(
            "Please contact the tumor board coordinator with any question. The full case summary "
            "with the evidence the board reviewed is kept in the patient's record.",
            "muted",
        ),
    ]
    return story
