"""board.cases on a real database file: list, save with version check, import, export."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.caseformat import case_to_dict, normalised
from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board
from crlmboard.services.cases import CaseConflict, CaseNotFound
from tests.conftest import GOLDEN, golden_cases

pytestmark = pytest.mark.db


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_import_folder_then_export_gives_back_the_content(board: Board, tmp_path: Path) -> None:
    summary = board.cases.import_path(GOLDEN)
    assert sorted(mrn for _, mrn in summary.imported) == ["EX-0001", "EX-0002", "EX-0003"]
    assert summary.refused == []
    assert summary.changes.cases == {"EX-0001", "EX-0002", "EX-0003"}
    for path in golden_cases():
        source = json.loads(path.read_text("utf-8"))
        target = board.cases.export(source["patient"]["mrn"], tmp_path / "out.json")
        assert normalised(json.loads(target.read_text("utf-8"))) == normalised(source)


def test_a_broken_file_is_refused_whole_and_the_database_is_untouched(
    board: Board, db_path: Path, tmp_path: Path, upfront: dict[str, Any]
) -> None:
    board.cases.import_path(GOLDEN / "conversion-ras-mutant.json")
    board.close()
    before = db_path.read_bytes()
    upfront["imaging"][1]["lesions"][0]["longest_diameter_mm"] = -1
    upfront["patient"]["ecog"] = 8
    reopened = Board.open(db_path)
    summary = reopened.cases.import_path(write(tmp_path / "bad.json", upfront))
    reopened.close()
    assert summary.imported == []
    assert [str(p) for p in summary.refused[0][1]] == [
        "patient.ecog: must be ≤ 4",
        "imaging[1].lesions[0].longest_diameter_mm: must be ≥ 0",
    ]
    assert db_path.read_bytes() == before


def test_folder_import_is_all_or_nothing_per_file(
    board: Board, tmp_path: Path, upfront: dict[str, Any]
) -> None:
    write(tmp_path / "a-good.json", upfront)
    bad = json.loads(json.dumps(upfront))
    bad["patient"]["mrn"] = "EX-0009"
    bad["labs"][0]["date"] = "not a date"
    write(tmp_path / "b-bad.json", bad)
    (tmp_path / "c-not-json.json").write_text("{", "utf-8")
    (tmp_path / "notes.txt").write_text("ignored", "utf-8")
    summary = board.cases.import_path(tmp_path)
    assert [mrn for _, mrn in summary.imported] == ["EX-0001"]
    assert [Path(f).name for f, _ in summary.refused] == ["b-bad.json", "c-not-json.json"]
    assert board.cases.count() == 1


def test_duplicate_mrn_is_refused_unless_replacing(
    board: Board, tmp_path: Path, upfront: dict[str, Any]
) -> None:
    path = write(tmp_path / "case.json", upfront)
    board.cases.import_path(path)
    summary = board.cases.import_path(path)
    assert str(summary.refused[0][1][0]).startswith(
        "patient.mrn: a case with MRN EX-0001 already exists"
    )
    upfront["patient"]["given_name"] = "Adele"
    summary = board.cases.import_path(write(tmp_path / "case.json", upfront), replace=True)
    assert summary.ok
    assert board.cases.get("EX-0001").patient.given_name == "Adele"


def test_save_checks_the_version(board: Board) -> None:
    board.cases.import_path(GOLDEN / "upfront-resection.json")
    case, version = board.cases.get_with_version("EX-0001")
    mine = case.model_copy(deep=True)
    mine.patient.given_name = "Ada Mine"
    saved = board.cases.save(mine, version)
    assert saved.version == version + 1
    assert saved.changes.cases == {"EX-0001"}
    theirs = case.model_copy(deep=True)
    theirs.patient.given_name = "Ada Theirs"
    with pytest.raises(CaseConflict, match="changed by someone else") as refused:
        board.cases.save(theirs, version)
    assert board.cases.get("EX-0001").patient.given_name == "Ada Mine"
    # The refusal names both values (the stored one and the refused one) and both versions.
    conflict = refused.value
    assert (conflict.expected_version, conflict.stored_version) == (version, version + 1)
    assert conflict.theirs.patient.given_name == "Ada Mine"
    assert conflict.mine.patient.given_name == "Ada Theirs"
    assert "patient.given_name: theirs Ada Mine → yours Ada Theirs" in str(conflict)
    assert f"you opened version {version}; it is now version {version + 1}" in str(conflict)


def test_a_conflict_with_a_sign_off_names_the_stored_value_and_the_new_review(
    board: Board,
) -> None:
    """A save refused because someone signed a review of the case meanwhile: the message
    names the stored weight (still the file's whole number) and the added review as one
    line, not as a hundred of its fields (found by the department test)."""
    board.cases.import_path(GOLDEN / "upfront-resection.json")
    meeting = board.meetings.create(board.today() - timedelta(days=1)).meeting_id
    board.meetings.add_to_agenda(meeting, "EX-0001", "Resect first?")
    case, version = board.cases.get_with_version("EX-0001")
    draft = board.reviews.start(meeting, "EX-0001")
    board.reviews.sign(draft, recommendation=None, decision="Resect")
    mine = case.model_copy(deep=True)
    mine.patient.weight_kg = 58.25
    with pytest.raises(CaseConflict) as refused:
        board.cases.save(mine, version)
    conflict = refused.value
    assert conflict.differences == [
        f"patient.weight_kg: theirs {case_to_dict(case)['patient']['weight_kg']} → yours 58.25",
        "reviews[0]: theirs present → yours absent",
    ]
    assert board.cases.get("EX-0001").patient.weight_kg == case.patient.weight_kg


def test_save_refuses_an_invalid_case(board: Board) -> None:
    board.cases.import_path(GOLDEN / "upfront-resection.json")
    case, version = board.cases.get_with_version("EX-0001")
    broken = case.model_copy(deep=True)
    broken.imaging[0].lesions.append(broken.imaging[0].lesions[0])
    with pytest.raises(InvalidInput) as caught:
        board.cases.save(broken, version)
    assert str(caught.value.problems[0]) == (
        "imaging[0].lesions[1].id: lesion L1 appears twice at this timepoint"
    )


def test_list_filters_and_sorts_in_sql(board: Board) -> None:
    board.cases.import_path(GOLDEN)
    assert [r.mrn for r in board.cases.page("clara")] == ["EX-0003"]
    assert [r.mrn for r in board.cases.page("ex-000 example")] == ["EX-0001", "EX-0002", "EX-0003"]
    assert [r.mrn for r in board.cases.page(sort="age")] == ["EX-0002", "EX-0001", "EX-0003"]
    assert [r.mrn for r in board.cases.page(sort="mrn", descending=True, limit=2)] == [
        "EX-0003",
        "EX-0002",
    ]
    assert [r.mrn for r in board.cases.page(sort="mrn", offset=2)] == ["EX-0003"]
    assert board.cases.page("%") == []
    assert board.cases.count("nobody") == 0


def test_missing_case(board: Board) -> None:
    with pytest.raises(CaseNotFound, match="There is no case with MRN X"):
        board.cases.get("X")
