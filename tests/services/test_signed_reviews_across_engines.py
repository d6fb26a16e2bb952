"""A review signed under engine 1.0.0 keeps its frozen evaluation byte for byte under 1.1.0.

The fixture is a case file with one signed review whose evaluation was produced by engine
1.0.0 (`signed-review-engine-1.0.0.evaluation.json` is that engine's exact output): new
lesions on a baseline without a measurable target, which 1.0.0 read as NE (and suggested a
transplant referral) and 1.1.0 reads as PD.  The review must come back unchanged through a
real SQLite database, an export and a reopening; the app and the PDF name the engine it was
signed with; and the case (not the signed review) says how today's engine reads it.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import ENGINE_VERSION
from crlmboard.services import Board
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
CASE_FILE = FIXTURES / "signed-review-engine-1.0.0.case.json"
FROZEN = FIXTURES / "signed-review-engine-1.0.0.evaluation.json"
MRN = "SIGNED-100"


def document_text(document: Any) -> str:
    """A stored evaluation written as the engine writes one (`evaluation_to_json`)."""
    return (
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    )


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def test_the_fixture_is_engine_1_0_0_output() -> None:
    frozen = FROZEN.read_text("utf-8")
    document = json.loads(frozen)
    assert document["engine_version"] == "1.0.0"
    assert document_text(document) == frozen
    assert ENGINE_VERSION == "1.1.0"


def test_a_1_0_0_signed_review_reproduces_byte_for_byte(board: Board, db_path: Path) -> None:
    frozen = FROZEN.read_text("utf-8")
    summary = board.cases.import_path(CASE_FILE)
    assert summary.imported == [(str(CASE_FILE), MRN)] and not summary.refused
    stored = board.cases.get(MRN).reviews[0]
    assert stored.signed
    assert document_text(stored.evaluation) == frozen
    # the export writes it back unchanged
    exported = json.loads(board.cases.export_text(MRN))
    assert document_text(exported["reviews"][0]["evaluation"]) == frozen
    # a reopening leaves it as it was
    board.close()
    with Board.open(db_path, clock=lambda: TODAY) as again:
        case = again.cases.get(MRN)
        assert document_text(case.reviews[0].evaluation) == frozen
        # and the re-imported export is the same again
        reread = loads_case(again.cases.export_text(MRN), TODAY)
        assert document_text(reread.reviews[0].evaluation) == frozen


def test_the_case_says_how_todays_engine_reads_the_signed_review(board: Board) -> None:
    board.cases.import_path(CASE_FILE)
    case = board.cases.get(MRN)
    changes = board.evaluation.engine_changes(case)
    assert len(changes) == 1
    change = changes[0]
    assert change.review_index == 0
    assert change.signed_engine_version == "1.0.0"
    assert change.as_of.isoformat() == "2025-03-04"
    assert "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY" in change.rules_added
    assert "PATHWAY.TRANSPLANT_REFERRAL" in change.rules_removed
    assert "signed with guideline engine 1.0.0. Engine 1.1.0" in change.text()
    # the stored review is untouched by the comparison
    assert document_text(board.cases.get(MRN).reviews[0].evaluation) == FROZEN.read_text("utf-8")


def test_no_note_for_reviews_signed_with_todays_engine(board: Board, upfront: Any) -> None:
    frozen = json.loads(FROZEN.read_text("utf-8"))
    data = json.loads(CASE_FILE.read_text("utf-8"))
    case = loads_case(json.dumps(data), TODAY)
    today = board.evaluation.document(case, case.reviews[0].meeting_date)
    data["reviews"][0]["evaluation"] = today
    assert frozen["engine_version"] != today["engine_version"]
    assert board.evaluation.engine_changes(loads_case(json.dumps(data), TODAY)) == []


def test_the_pdfs_name_the_signing_engine_and_only_the_case_summary_notes_the_change(
    board: Board,
) -> None:
    board.cases.import_path(CASE_FILE)
    review_pdf = pdf_text(board.reports.case_summary(MRN, 0))
    assert "with guideline engine 1.0.0" in review_pdf
    assert "Engine 1.1.0, on the same case" not in review_pdf
    assert "NE" in review_pdf  # the frozen RECIST reading, not today's
    case_pdf = pdf_text(board.reports.case_summary(MRN))
    assert "Review 1 (meeting 2025-03-04) was signed with guideline engine 1.0.0" in case_pdf
    assert "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY" in case_pdf
    assert "The signed review stays as it was" in case_pdf
