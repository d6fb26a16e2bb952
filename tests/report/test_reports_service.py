"""`board.reports` and the `pdf`/`letter` commands: the right evaluation for each document,
clear refusals, files written whole, exit codes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.services.cases import CaseNotFound
from crlmboard.services.reports import ReviewNotFound, ReviewNotSigned, latest_signed_review
from tests.report.conftest import REVIEWED, pages_text

pytestmark = [pytest.mark.pdf, pytest.mark.db]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def reviewed(board: Board) -> str:
    """The MRN of an imported case with a signed review and a draft one."""
    return board.cases.import_text(REVIEWED.read_text("utf-8")).mrn


def test_current_summary_uses_todays_evaluation(board: Board, reviewed: str) -> None:
    pdf = board.reports.case_summary(reviewed)
    text = squash(" ".join(pages_text(pdf)))
    assert f"as of {board.today().isoformat()}" in text
    # the case has a signed review (1) and a draft (2): the signed one is shown, by default
    assert "No board review attached" not in text
    assert "No board review is attached" not in text
    assert "2025-03-24 (review 1, the latest signed review)" in text
    assert "The latest signed board review (review 1 of this case), shown by default" in text
    assert "Signed by A. Surgeon" in text


def test_the_latest_signed_review_is_the_latest_meeting_then_signature(
    board: Board, reviewed: str
) -> None:
    import datetime as dt

    case = board.cases.get(reviewed)
    first = case.reviews[0]
    later = first.model_copy(
        update={"signed_at": first.signed_at + dt.timedelta(hours=1), "amends": 0}  # type: ignore[operator]
    )
    earlier = first.model_copy(update={"meeting_date": dt.date(2025, 1, 6)})
    assert latest_signed_review(case) == 0
    assert (
        latest_signed_review(
            case.model_copy(update={"reviews": [first, later, earlier, case.reviews[1]]})
        )
        == 1
    )
    assert latest_signed_review(case.model_copy(update={"reviews": []})) is None


def test_review_summary_uses_the_frozen_evaluation(board: Board, reviewed: str) -> None:
    case = board.cases.get(reviewed)
    frozen = case.reviews[0].evaluation
    assert frozen is not None
    text = squash(" ".join(pages_text(board.reports.case_summary(reviewed, 0))))
    assert f"as of {frozen['as_of']}" in text
    assert "signed by A. Surgeon" in text


def test_draft_review_without_evaluation_is_evaluated_for_its_meeting_date(
    board: Board, reviewed: str
) -> None:
    text = squash(" ".join(pages_text(board.reports.case_summary(reviewed, 1))))
    assert "as of 2025-04-28" in text
    assert "DRAFT — not signed" in text


def test_refusals_say_what_is_wrong(board: Board, reviewed: str) -> None:
    with pytest.raises(CaseNotFound):
        board.reports.case_summary("NOPE-1")
    with pytest.raises(ReviewNotFound, match="has no review 3: it has 2 reviews"):
        board.reports.case_summary(reviewed, 2)
    with pytest.raises(ReviewNotSigned, match="not signed"):
        board.reports.letter(reviewed, 1)
    with pytest.raises(ReviewNotFound):
        board.reports.letter(reviewed, -1)


def test_letter_and_files_are_written_whole(board: Board, reviewed: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    target = board.reports.write_letter(reviewed, 0, folder / "letter.pdf")
    assert target.read_bytes().startswith(b"%PDF-")
    assert len(PdfReader(target).pages) == 1
    summary = board.reports.write_case_summary(
        reviewed, folder / "summary.pdf", 0, page_size="letter"
    )
    box = PdfReader(summary).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612.0, 792.0)
    assert sorted(p.name for p in folder.iterdir()) == [
        "letter.pdf",
        "summary.pdf",
    ]  # no temporary files left behind


@pytest.fixture
def cli_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A database file holding the reviewed case, made through the command line."""
    db = str(tmp_path / "cli.sqlite3")
    assert main(["init", "--db", db]) == 0
    assert main(["import", str(REVIEWED), "--db", db]) == 0
    capsys.readouterr()
    return db


def test_cli_pdf_and_letter(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case.pdf"
    assert main(["pdf", "EX-0003", "--db", cli_db, "-o", str(out)]) == 0
    assert "wrote the case summary" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF-")
    assert (
        main(["pdf", "EX-0003", "--db", cli_db, "--review", "1", "--letter-size", "-o", str(out)])
        == 0
    )
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert float(reader.pages[0].mediabox.width) == 612.0
    letter = tmp_path / "letter.pdf"
    assert main(["letter", "EX-0003", "--db", cli_db, "--review", "1", "-o", str(letter)]) == 0
    assert len(PdfReader(letter).pages) == 1
    assert "wrote the outcome letter" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pdf", "NOPE-1"], "There is no case with MRN NOPE-1."),
        (["pdf", "EX-0003", "--review", "9"], "has no review 9"),
        (["pdf", "EX-0003", "--review", "0"], "reviews are numbered from 1"),
        (["letter", "EX-0003", "--review", "2"], "is not signed"),
        (["letter", "EX-0003", "--review", "3"], "has no review 3"),
    ],
)
def test_cli_exit_2_for_unknown_case_or_review(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "x.pdf"
    assert main([*args, "--db", cli_db, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
