"""Work a PDF does once per process rather than once per document (issue 21, B6), read back
from real PDFs: the fonts' first subsets are the same in every document and made once."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFontFace

from crlmboard.domain.case import Case
from crlmboard.report import case_summary as case_summary_module
from crlmboard.report.case_summary import case_summary_pdf
from crlmboard.report.letter import outcome_letter_pdf
from crlmboard.report.meeting_pack import meeting_pack_pdf
from crlmboard.services import Board
from tests.report.conftest import REVIEWED, demo_case, evaluation_of, pages_text, reviewed_case
from tests.report.test_letter_and_pack import pack_inputs

pytestmark = pytest.mark.pdf


def font_files(pdf: bytes) -> dict[str, bytes]:
    """Each embedded font subset's font file (decompressed), by its base font name."""
    found: dict[str, bytes] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = descriptor["/FontFile2"].get_object().get_data()
    return found


def summary_of(number: str) -> bytes:
    case = demo_case(number)
    return case_summary_pdf(case, evaluation_of(case), None, app_version="0.0.0")


def test_a_faces_first_subset_is_the_same_in_documents_of_different_cases() -> None:
    first, second = font_files(summary_of("0003")), font_files(summary_of("0008"))
    shared = [name for name in first if name.startswith("/AAAAAA+NotoSans") and name in second]
    assert {"/AAAAAA+NotoSans-Regular", "/AAAAAA+NotoSans-Bold"} <= set(shared)
    for name in shared:
        assert first[name] == second[name], name


def test_subsets_seen_before_are_not_made_again(monkeypatch: pytest.MonkeyPatch) -> None:
    summary_of("0003")  # every face's first subset made once in this process
    made: Counter[str] = Counter()
    original = TTFontFace.makeSubset

    def counted(face: TTFontFace, subset: list[int]) -> bytes:
        made[face.name.decode()] += 1
        data: bytes = original(face, subset)
        return data

    monkeypatch.setattr(TTFontFace, "makeSubset", counted)
    pdf = summary_of("0008")
    assert font_files(pdf)  # fonts are embedded all the same
    assert made == Counter(), made  # the Latin faces' first subsets came from the first PDF


def test_a_name_in_another_script_gets_subsets_of_its_own() -> None:
    meeting, cases = pack_inputs()
    pdf = meeting_pack_pdf(meeting, cases, app_version="0.0.0")  # type: ignore[arg-type]
    names = set(font_files(pdf))
    # Greek letters of the attendee's name: past the Latin first subset of Noto Sans
    assert "/AAAAAB+NotoSans-Regular" in names
    assert any("NotoSansArabic" in name for name in names)
    case = reviewed_case()
    review = case.reviews[0]
    letter = outcome_letter_pdf(case, review, review.evaluation, app_version="0.0.0")
    assert "/AAAAAA+NotoSans-Regular" in font_files(letter)


def test_a_case_is_hashed_once_for_its_current_summary_and_pack(
    board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation just made of the case carries its input hash: the summary's "record
    changed since" check does not hash the case a second time."""
    mrn = board.cases.import_text(REVIEWED.read_text("utf-8")).mrn
    hashed: list[str] = []
    original = case_summary_module.input_sha256

    def counted(case: Case) -> str:
        hashed.append(case.mrn)
        return original(case)

    monkeypatch.setattr(case_summary_module, "input_sha256", counted)
    assert "The case record has changed" not in " ".join(
        pages_text(board.reports.case_summary(mrn))
    )
    meeting_id = board.meetings.create(date(2026, 11, 24), "16:00", "Room 2").meeting_id
    board.meetings.add_to_agenda(meeting_id, mrn, "Next step?")
    assert PdfReader(io.BytesIO(board.meetings.meeting_pack(meeting_id))).pages
    assert hashed == []
    board.reports.case_summary(mrn, 0)  # a review's frozen evaluation: compared with the case
    assert hashed == [mrn]
