"""`board.interop` on a real database, and the command line: `crlmboard fhir`, `crlmboard
import` of a bundle and of a referral CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.domain.caseformat import case_to_dict, normalised
from crlmboard.interop.mcode import covered
from crlmboard.services import Board
from crlmboard.services.cases import CaseNotFound
from crlmboard.services.demo import demo_case_files
from tests.conftest import GOLDEN, TODAY
from tests.fhirconformance.validator import Validator

pytestmark = pytest.mark.db

DEMO = Path(__file__).parents[2] / "crlmboard" / "resources" / "demo"
HEADER = (
    "mrn,family_name,given_name,birth_date,sex,referring_clinician,referral_date,"
    "primary_site,diagnosis_date,liver_metastases_diagnosis_date,question,meeting_date"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def demo_board(board: Board) -> Board:
    summary = board.cases.import_path(DEMO)
    assert summary.ok and len(summary.imported) == len(demo_case_files())
    return board


def test_export_fhir_of_a_stored_case(
    fhir_validator: Validator, demo_board: Board, tmp_path: Path
) -> None:
    bundle = demo_board.interop.export_fhir("DEMO-0007")
    assert fhir_validator.validate(bundle).errors == []
    target = demo_board.interop.write_fhir("DEMO-0007", tmp_path / "out" / "b.json")
    assert json.loads(target.read_text("utf-8")) == bundle
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]  # no temporary left
    with pytest.raises(CaseNotFound):
        demo_board.interop.export_fhir("NO-SUCH")


def test_a_bundle_imports_like_a_case_file(demo_board: Board, tmp_path: Path) -> None:
    bundle_file = demo_board.interop.write_fhir("DEMO-0011", tmp_path / "b.json")
    with Board.open(tmp_path / "other.sqlite3", clock=lambda: TODAY) as other:
        summary = other.cases.import_path(bundle_file)
        assert summary.imported == [(str(bundle_file), "DEMO-0011")]
        assert summary.notes == [] and summary.refused == []
        again = other.cases.get("DEMO-0011")
        refused = other.cases.import_path(bundle_file)
        assert "already exists" in str(refused.refused[0][1][0])
        assert other.cases.import_path(bundle_file, replace=True).ok
    original = demo_board.cases.get("DEMO-0011")
    assert normalised(covered(case_to_dict(again))) == normalised(covered(case_to_dict(original)))


def test_unmapped_bundle_content_comes_back_as_notes(demo_board: Board, tmp_path: Path) -> None:
    bundle = demo_board.interop.export_fhir("DEMO-0001")
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["address"] = [{"city": "Sampletown"}]
    file = write(tmp_path / "b.json", json.dumps(bundle))
    with Board.open(tmp_path / "other.sqlite3", clock=lambda: TODAY) as other:
        summary = other.cases.import_path(file)
    assert summary.ok
    assert summary.notes == [
        (str(file), [f"Patient/{patient['id']}: address not mapped (no case-file field for it)"])
    ]


# -- referral CSV -------------------------------------------------------------------------


def referrals(tmp_path: Path) -> Path:
    return write(
        tmp_path / "referrals.csv",
        "\n".join(
            [
                HEADER,
                "REF-0001,Testperson,Anna,1961-04-02,female,Dr Sample,2026-10-01,sigmoid,"
                "2026-09-01,"
                "2026-09-15,Resectable upfront?,2026-12-01",
                "REF-0002,Otherperson,,,,Dr Filler,,,,,,",
                "DEMO-0001,,,,,,,,,,,",
            ]
        )
        + "\n",
    )


@pytest.fixture
def stored(demo_board: Board, tmp_path: Path) -> Board:
    """The demo plus a referral with only a name so far."""
    minimal = {
        "format": "crlmboard.case/1",
        "patient": {"mrn": "REF-0002", "family_name": "Testperson"},
    }
    assert demo_board.cases.import_path(write(tmp_path / "m.json", json.dumps(minimal))).ok
    return demo_board


def test_preview_shows_what_will_be_created_and_writes_nothing(
    stored: Board, tmp_path: Path
) -> None:
    file = referrals(tmp_path)
    count = stored.cases.count()
    preview = stored.interop.preview_referrals(file)
    assert [(r.row, r.mrn, r.action) for r in preview.rows] == [
        (2, "REF-0001", "create"),
        (3, "REF-0002", "update"),
        (4, "DEMO-0001", "unchanged"),
    ]
    created = preview.rows[0]
    assert created.fields["birth_date"] == "1961-04-02"
    assert created.question == "Resectable upfront?"
    assert str(created.meeting_date) == "2026-12-01"
    assert preview.rows[1].fields == {"referring_clinician": "Dr Filler"}
    assert preview.rows[1].kept == {"family_name": ("Testperson", "Otherperson")}
    assert (preview.creates, preview.updates) == (1, 1)
    assert stored.cases.count() == count


def test_import_creates_new_cases_and_fills_only_empty_fields(
    stored: Board, tmp_path: Path
) -> None:
    demo = stored.cases.get("DEMO-0001")
    summary = stored.cases.import_path(referrals(tmp_path))
    assert summary.ok
    assert [mrn for _, mrn in summary.imported] == ["REF-0001", "REF-0002"]
    ((_, notes),) = summary.notes
    assert notes[0] == (
        "row 3 (REF-0002): kept the stored family_name 'Testperson', the file has 'Otherperson'"
    )
    assert notes[1] == "row 4 (DEMO-0001): nothing to fill in"
    assert "row 2 (REF-0001): put on the agenda of the meeting on 2026-12-01" in notes
    new = stored.cases.get("REF-0001")
    assert new.primary is not None and new.primary.site is not None
    assert new.primary.site.value == "sigmoid"
    assert str(new.liver_metastases_diagnosis_date) == "2026-09-15"
    filled = stored.cases.get("REF-0002")
    assert filled.patient.referring_clinician == "Dr Filler"
    assert filled.patient.family_name == "Testperson"
    assert stored.cases.get("DEMO-0001") == demo


def test_a_bad_row_refuses_the_file_and_the_database_is_untouched(
    board: Board, db_path: Path, tmp_path: Path
) -> None:
    board.cases.import_path(GOLDEN / "upfront-resection.json")
    board.close()
    before = db_path.read_bytes()
    file = write(
        tmp_path / "r.csv",
        "\n".join(
            [
                HEADER,
                "REF-0001,Testperson,Anna,1961-04-02,female,,,,,,,",
                "REF-0002,,,1961-02-30,,,,,,,,",
                "REF-0001,,,,,,,,,,,",
            ]
        )
        + "\n",
    )
    with Board.open(db_path, clock=lambda: TODAY) as reopened:
        summary = reopened.cases.import_path(file)
        count = reopened.cases.count()
    assert summary.imported == [] and count == 1
    assert [str(p) for p in summary.refused[0][1]] == [
        "row 3, birth_date: not a real calendar date",
        "row 4, mrn: REF-0001 is also on row 2",
    ]
    assert db_path.read_bytes() == before


# -- command line -------------------------------------------------------------------------


def test_cli_fhir_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, other = str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")
    assert main(["init", "--db", db]) == main(["init", "--db", other]) == 0
    assert main(["import", str(DEMO / "DEMO-0002-perioperative-capox.json"), "--db", db]) == 0
    out = tmp_path / "bundle.json"
    assert main(["fhir", "DEMO-0002", "-o", str(out), "--db", db]) == 0
    assert "wrote the mCODE bundle to" in capsys.readouterr().out
    assert json.loads(out.read_text("utf-8"))["resourceType"] == "Bundle"
    assert main(["fhir", "DEMO-0002", "-o", "-", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "collection"
    assert main(["fhir", "NO-SUCH", "-o", str(tmp_path / "x.json"), "--db", db]) == 2
    assert "There is no case with MRN NO-SUCH" in capsys.readouterr().err
    assert main(["import", str(out), "--db", other]) == 0
    assert "imported DEMO-0002" in capsys.readouterr().out


def test_cli_imports_referrals_with_row_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "a.sqlite3")
    good = write(
        tmp_path / "good.csv",
        HEADER.replace(",", ";") + "\n" + "REF-9;Testperson;;;;;;rectum;;;;\n",
    )
    assert main(["init", "--db", db]) == 0
    assert main(["import", str(good), "--db", db]) == 0
    assert "imported REF-9" in capsys.readouterr().out
    bad = write(tmp_path / "bad.csv", "mrn,sex\nREF-8,F\n")
    assert main(["import", str(bad), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "row 2, sex: must be one of: female, male, other, unknown" in err


def test_cli_prints_bundle_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], upfront: dict[str, Any]
) -> None:
    db = str(tmp_path / "a.sqlite3")
    source = write(tmp_path / "case.json", json.dumps(upfront))
    assert main(["init", "--db", db]) == main(["init", "--db", str(tmp_path / "c.sqlite3")]) == 0
    assert main(["import", str(source), "--db", db]) == 0
    out = tmp_path / "b.json"
    assert main(["fhir", upfront["patient"]["mrn"], "-o", str(out), "--db", db]) == 0
    bundle = json.loads(out.read_text("utf-8"))
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:44444444-4444-4444-8444-444444444444",
            "resource": {
                "resourceType": "Encounter",
                "id": "44444444-4444-4444-8444-444444444444",
                "status": "finished",
                "class": {"code": "AMB"},
            },
        }
    )
    write(out, json.dumps(bundle))
    capsys.readouterr()
    assert main(["import", str(out), "--db", str(tmp_path / "c.sqlite3")]) == 0
    printed = capsys.readouterr().out
    assert "notes on" in printed and "Encounter not mapped" in printed
