"""The outcome letter (one page, from a signed review) and the meeting pack (cover, agenda,
every case's summary, an outline per case)."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from crlmboard.domain.labels import value_label
from crlmboard.domain.meeting import AgendaItem, Meeting
from crlmboard.domain.models import Attendee, Role
from crlmboard.domain.timeline import INKS, build_timeline
from crlmboard.report.case_summary import SECTIONS
from crlmboard.report.letter import LETTER_TITLE, outcome_letter_pdf
from crlmboard.report.meeting_pack import meeting_pack_pdf
from crlmboard.report.timeline import timeline_drawing
from tests.report.conftest import (
    demo_case,
    evaluation_of,
    pages_text,
    pdftotext,
    reviewed_case,
)
from tests.report.test_case_summary import assert_pages_not_blank, check_snapshot

pytestmark = pytest.mark.pdf


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_letter_is_one_page_with_question_recommendation_actions_next_review(
    tmp_path: Path,
) -> None:
    case = reviewed_case()
    review = case.reviews[0]
    pdf = outcome_letter_pdf(case, review, review.evaluation, app_version="9.9.9")
    pages = pages_text(pdf)
    assert len(pages) == 1
    text = squash(pages[0])
    for needle in (
        LETTER_TITLE,
        "To: the referring clinician",
        "EXAMPLE, Clara",
        case.mrn,
        "Resectable after 8 cycles? Staging T2 <N0 & M0>",
        value_label("two_stage_hepatectomy"),
        "Book right portal vein embolisation",
        "Radiology <CT>",
        "2025-03-31",
        "Next review",
        "2025-04-28",
        "Signed for the board by A. Surgeon on 2025-03-24 17:42 UTC, meaning: approved as the "
        "board's decision",
        "page 1 of 1",
        "outcome letter",
    ):
        assert needle in text, needle
    names = pdftotext(pdf, tmp_path)
    for name in ("Ελένη Ογκολόγου", "Иван Радиологов", "דוד כהן", "سارة المنسقة", "田中 花子"):
        assert name in names, name
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None and "outcome letter" in (info.title or "")
    assert_pages_not_blank(pdf, tmp_path)


def test_long_letter_still_fits_one_page() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    long_review = review.model_copy(
        update={
            "decision": "\n".join(f"Paragraph {i}: " + "long reasoning " * 40 for i in range(12)),
            "actions": review.actions * 8,
        }
    )
    pdf = outcome_letter_pdf(case, long_review, review.evaluation, page_size="letter")
    assert len(pages_text(pdf)) == 1


def test_letter_needs_a_signed_review() -> None:
    case = reviewed_case()
    with pytest.raises(ValueError, match="signed"):
        outcome_letter_pdf(case, case.reviews[1], None)


def test_letter_snapshot() -> None:
    case = reviewed_case()
    review = case.reviews[0]
    first = outcome_letter_pdf(case, review, review.evaluation, app_version="0.0.0")
    assert first == outcome_letter_pdf(case, review, review.evaluation, app_version="0.0.0")
    check_snapshot("outcome-letter", first)


def pack_inputs() -> tuple[Meeting, list[tuple[object, ...]]]:
    reviewed = reviewed_case()
    greek = demo_case("0002")
    arabic = demo_case("0007")
    meeting = Meeting(
        date=date(2026, 11, 24),
        time="16:00",
        location="Room <B> & C",
        attendees=[
            Attendee(name="A. Surgeon", role=Role.HEPATOBILIARY_SURGEON),
            Attendee(name="Ελένη Ογκολόγου", role=Role.MEDICAL_ONCOLOGIST),
        ],
        agenda=[
            AgendaItem(mrn=reviewed.mrn, question="Proceed to PVE?", position=0),
            AgendaItem(mrn=greek.mrn, question="Resect now? T2 <N0 & M0>", position=1),
            AgendaItem(mrn=arabic.mrn, question="FLR now sufficient?", position=2),
        ],
    )
    cases = [
        (reviewed, reviewed.reviews[0].evaluation, reviewed.reviews[0]),
        (greek, evaluation_of(greek), None),
        (arabic, evaluation_of(arabic), None),
    ]
    return meeting, cases


def test_meeting_pack_has_cover_agenda_every_case_and_an_outline(tmp_path: Path) -> None:
    meeting, cases = pack_inputs()
    pdf = meeting_pack_pdf(meeting, cases, app_version="9.9.9")  # type: ignore[arg-type]
    pages = pages_text(pdf)
    first = squash(pages[0])
    for needle in (
        "TUMOR BOARD MEETING PACK",
        "2026-11-24",
        "16:00",
        "Room <B> & C",
        "A. Surgeon",
        "Agenda",
        "Proceed to PVE?",
        "Resect now? T2 <N0 & M0>",
        "FLR now sufficient?",
    ):
        assert needle in first, needle
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in page
    text = squash(" ".join(pages))
    assert text.count("Findings of the guideline engine") == 3
    # each case's pages carry that case's identity in the footer
    case_pages = [p for p in pages if "DEMO-0002 ·" in p]
    assert case_pages and all("engine 1.0.0" in p or "engine" in p for p in case_pages)
    outline = PdfReader(io.BytesIO(pdf)).outline
    tops = [entry.title for entry in outline if not isinstance(entry, list)]
    assert tops[0] == "Cover and agenda"
    assert [t.split(" ")[0] for t in tops[1:]] == [c[0].mrn for c in cases]  # type: ignore[attr-defined]
    sections = [entry for entry in outline if isinstance(entry, list)]
    assert len(sections) == 3 and all([s.title for s in e] == list(SECTIONS) for e in sections)
    assert "Ελένη" in pdftotext(pdf, tmp_path)


def test_meeting_pack_snapshot_and_empty_agenda() -> None:
    meeting, cases = pack_inputs()
    pdf = meeting_pack_pdf(meeting, cases[:1], app_version="0.0.0")  # type: ignore[arg-type]
    check_snapshot("meeting-pack", pdf)
    empty = meeting_pack_pdf(Meeting(date=date(2026, 12, 1)), [])
    text = squash(" ".join(pages_text(empty)))
    assert "No cases on the agenda." in text and "page 1 of 1" in text


def test_timeline_drawing_of_an_empty_and_a_full_case() -> None:
    empty = build_timeline(demo_case("0014").model_copy(update={"primary": None}))
    drawing = timeline_drawing(empty, 400)
    assert drawing.width == 400 and drawing.height > 50
    case = demo_case("0011")
    full = timeline_drawing(
        build_timeline(case, evaluation_of(case)["facts"], as_of=date(2026, 11, 24)), 480
    )
    strings = [node.text for node in full.getContents() if hasattr(node, "text")]
    assert "BL" in strings and "PR" in strings
    assert any(s.startswith("FOLFOX") for s in strings)


def test_timeline_drawing_of_a_hepatectomy_and_a_recurrence() -> None:
    """Issue 19, item 4, in the PDF: DEMO-0012's operation starts episode 2, no line of
    diameter sums crosses it, both value axes have their ticks, and the legend lists what
    is drawn (no immunotherapy here; with it, in DEMO-0006, its entry)."""
    from reportlab.graphics.shapes import PolyLine, String

    case = demo_case("0012")
    as_of = date(2026, 11, 24)
    timeline = build_timeline(case, evaluation_of(case, as_of)["facts"], as_of=as_of)
    drawing = timeline_drawing(timeline, 480)
    strings = [node.text for node in drawing.contents if isinstance(node, String)]
    assert "Episode 2" in strings and "Hepatectomy" in strings
    assert {"Primary dx", "Primary resected", "CRLM dx", "Recurrence"} <= set(strings)
    assert strings.count("BL") == 2  # a baseline per episode
    for label in ("0", "20", "40", "60", "80", "5", "10", "15"):
        assert label in strings
    legend = [e.label for e in timeline.legend()]
    assert all(label in strings for label in legend)
    assert not any("Immunotherapy" in s for s in strings)
    operation = 34 + timeline.axis.fraction(date(2025, 3, 17)) * (480 - 68)
    cea = INKS["cea"].light.lstrip("#")
    lines = [  # CEA is one series over the whole record; the diameter sums are per episode
        node
        for node in drawing.contents
        if isinstance(node, PolyLine) and node.strokeColor.hexval()[2:].lower() != cea
    ]
    assert len(lines) == 3  # target sums of episode 1, all lesions of episodes 1 and 2
    for line in lines:
        xs = line.points[0::2]
        assert max(xs) < operation or min(xs) > operation
    immuno = demo_case("0006")
    drawn = timeline_drawing(build_timeline(immuno, as_of=as_of), 480)
    assert "Immunotherapy: Pembrolizumab" in [
        node.text for node in drawn.contents if isinstance(node, String)
    ]
