"""The meeting pack: one PDF for a tumor board meeting — a cover (meeting, date, place,
attendees), the agenda with each case's question, then every case's summary, each starting
on a new page, with an outline (bookmarks) per case and per section.

A pure function of a domain `Meeting` and the (case, evaluation document, review) of each
agenda case; finding those is the services' job.  Each document is parsed once into its read
model (`EvaluationView`), which is all the summary reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.platypus import Flowable, PageBreak, Spacer

from crlmboard.domain.case import Case
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.meeting import Meeting, Review
from crlmboard.report.blocks import DASH, P, U, data_table, day, key_values, label
from crlmboard.report.case_summary import case_summary_story
from crlmboard.report.document import (
    Bookmark,
    FooterInfo,
    FooterMark,
    Metadata,
    build_pdf,
    content_width,
)
from crlmboard.report.fonts import markup

PackCase = tuple[Case, Mapping[str, Any], Review | None]
"""One agenda case: the case, its evaluation document and its review (if any)."""


def meeting_pack_pdf(
    meeting: Meeting,
    cases: Sequence[PackCase],
    *,
    page_size: str = "A4",
    app_version: str = "",
    audit_head: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
    input_hashes: Mapping[str, str] | None = None,
) -> bytes:
    """The meeting pack as PDF bytes; `cases` in agenda order.  `input_hashes` gives, by
    MRN, the input hash of a case whose evaluation was just made of it (not computed
    again)."""
    width = content_width(page_size)
    title = f"Tumor board meeting {meeting.date.isoformat()}"
    story: list[Flowable] = [
        FooterMark(FooterInfo(identity=f"{title} · meeting pack", app_version=app_version)),
        Bookmark("cover", "Cover and agenda", 0),
        P(
            "<font color='#1f4e79'><b>TUMOR BOARD MEETING PACK</b></font> · colorectal liver "
            "metastases",
            "muted",
        ),
        P(markup(title), "title"),
        Spacer(1, 4),
        key_values(
            [
                ("Date", f"<b>{day(meeting.date)}</b>"),
                ("Time", markup(meeting.time) or DASH),
                ("Location", markup(meeting.location) or DASH),
                ("Cases", str(len(cases))),
            ],
            width,
        ),
        P("Attendees", "h2"),
    ]
    if meeting.attendees:
        story.append(
            data_table(
                ["Name", "Role"],
                [[U(a.name, "cell"), label(a.role)] for a in meeting.attendees],
                [0.5 * width, 0.5 * width],
            )
        )
    else:
        story.append(P("No attendees recorded yet.", "muted"))
    story.append(P("Agenda", "h2"))
    questions = {item.mrn: item.question for item in meeting.agenda}
    if cases:
        story.append(
            data_table(
                ["#", "MRN", "Patient", "Question for the board"],
                [
                    [
                        str(number),
                        markup(case.mrn),
                        U(case.display_name(), "cell"),
                        U(questions.get(case.mrn) or (review.question if review else None), "cell"),
                    ]
                    for number, (case, _evaluation, review) in enumerate(cases, start=1)
                ],
                [0.06 * width, 0.16 * width, 0.26 * width, 0.52 * width],
            )
        )
    else:
        story.append(P("No cases on the agenda.", "muted"))
    for number, (case, evaluation, review) in enumerate(cases, start=1):
        story.append(PageBreak())
        story += case_summary_story(
            case,
            EvaluationView.parse(evaluation, case),  # the document, read once
            review,
            width=width,
            app_version=app_version,
            audit_head=audit_head,
            checkpoint=checkpoint,
            key_prefix=f"case{number}-",
            outline_level=0,
            question=questions.get(case.mrn),
            case_input_sha256=(input_hashes or {}).get(case.mrn),
        )
    metadata = Metadata(
        title=f"{title} — meeting pack",
        subject=f"Meeting pack: {len(cases)} case(s)",
        app_version=app_version,
        keywords=("crlmboard", "meeting pack", meeting.date.isoformat()),
        checkpoint=checkpoint,
    )
    return build_pdf(story, metadata, page_size=page_size)
