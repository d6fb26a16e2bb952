"""The referral CSV: the template, a good file, each kind of bad row, and the preview."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crlmboard.domain.validation import InvalidInput
from crlmboard.interop.referrals import (
    COLUMNS,
    CP1252_NOTE,
    parse_referrals,
    read_referrals,
    template_header,
)
from tests.conftest import TODAY

TEMPLATE = Path(__file__).parents[2] / "crlmboard" / "resources" / "templates" / "referrals.csv"
HEADER = ",".join(COLUMNS)
GOOD_ROW = (
    "REF-0001,Testperson,Anna,1961-04-02,female,Dr Sample Oncologist,2026-10-01,"
    "sigmoid,2026-09-01,2026-09-15,Resectable upfront?,2026-12-01"
)


def problems(data: bytes) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_referrals(data, TODAY)
    return [str(p) for p in caught.value.problems]


def test_the_template_is_the_header_row() -> None:
    text = TEMPLATE.read_text("utf-8")
    assert text.splitlines() == [template_header()]
    # the empty template has no rows: that is said, not imported as nothing
    assert problems(TEMPLATE.read_bytes()) == [
        "row 2: no rows: the file has the header only, so there is nothing to import"
    ]


def test_excel_csv_on_windows_is_read_as_cp1252_and_said_so() -> None:
    # Excel's "CSV (semicolon)" on Windows: Windows-1252, semicolons
    data = "mrn;family_name;given_name;sex\nREF-1;Müller-Lüdenscheidt;Renée;female\n"
    referrals, notes = read_referrals(data.encode("cp1252"), TODAY)
    assert referrals[0].document["patient"]["family_name"] == "Müller-Lüdenscheidt"
    assert referrals[0].document["patient"]["given_name"] == "Renée"
    assert notes == [CP1252_NOTE]
    # the same file in UTF-8 (with or without a byte-order mark) needs no note
    assert read_referrals(data.encode("utf-8-sig"), TODAY)[1] == []
    assert read_referrals(data.encode("utf-8"), TODAY)[0] == referrals


def test_a_file_in_no_known_encoding_is_refused() -> None:
    # 0x81 is undefined in Windows-1252 and not UTF-8 either
    assert problems(b"mrn,family_name\nREF-1,Te\x81st\n") == [
        "row 2: the file is neither UTF-8 nor Windows-1252 text; save it from the spreadsheet "
        "as 'CSV UTF-8'"
    ]


def test_a_good_file() -> None:
    data = f"{HEADER}\n{GOOD_ROW}\nREF-0002,,,,,,,,,,,\n".encode()
    first, second = parse_referrals(data, TODAY)
    assert first.row == 2 and first.mrn == "REF-0001"
    assert first.document == {
        "format": "crlmboard.case/1",
        "patient": {
            "mrn": "REF-0001",
            "family_name": "Testperson",
            "given_name": "Anna",
            "birth_date": "1961-04-02",
            "sex": "female",
            "referring_clinician": "Dr Sample Oncologist",
            "referral_date": "2026-10-01",
        },
        "primary": {"site": "sigmoid", "diagnosis_date": "2026-09-01"},
        "liver_metastases_diagnosis_date": "2026-09-15",
    }
    assert first.question == "Resectable upfront?"
    assert first.meeting_date == date(2026, 12, 1)
    assert second.document == {"format": "crlmboard.case/1", "patient": {"mrn": "REF-0002"}}


def test_a_spreadsheet_file_with_bom_semicolons_and_column_titles() -> None:
    header = (
        "MRN;Family name;Given name;Birth date;Sex;Referring clinician;Referral date;"
        "Primary site;Diagnosis date;Liver metastases diagnosis date;Question;"
        "Meeting date"
    )
    row = GOOD_ROW.replace(",", ";")
    (referral,) = parse_referrals(("\ufeff" + header + "\r\n" + row + "\r\n").encode(), TODAY)
    assert referral.mrn == "REF-0001"
    assert referral.document["patient"]["family_name"] == "Testperson"


def test_quoted_fields_may_hold_the_delimiter() -> None:
    data = b'mrn,question\nREF-1,"Resect, or ablate first?"\n'
    (referral,) = parse_referrals(data, TODAY)
    assert referral.question == "Resect, or ablate first?"


def test_columns_may_be_left_out_and_blank_lines_are_skipped() -> None:
    (referral,) = parse_referrals(b"mrn,sex\n\nREF-1,male\n\n", TODAY)
    assert referral.document["patient"] == {"mrn": "REF-1", "sex": "male"}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("REF-1,,,1961-02-30,,,,,,,,", "row 2, birth_date: not a real calendar date"),
        ("REF-1,,,02/04/1961,,,,,,,,", "row 2, birth_date: must be a date YYYY-MM-DD"),
        ("REF-1,,,2026-12-01,,,,,,,,", "row 2, birth_date: must not be in the future"),
        ("REF-1,,,,F,,,,,,,", "row 2, sex: must be one of: female, male, other, unknown"),
        (
            "REF-1,,,,,,,colon,,,,",
            "row 2, primary_site: must be one of: caecum, ascending, "
            "hepatic_flexure, transverse, splenic_flexure, descending, "
            "sigmoid, rectosigmoid, rectum",
        ),
        ("REF-1,,,,,,,,2026-13-01,,,", "row 2, diagnosis_date: not a real calendar date"),
        ("REF-1,,,,,,,,,,,next week", "row 2, meeting_date: must be a date YYYY-MM-DD"),
        (
            "REF 1,,,,,,,,,,,",
            "row 2, mrn: must be 1–32 characters of A–Z, a–z, 0–9, '-', '_', '/' or '.'",
        ),
        (",Testperson,,,,,,,,,,", "row 2, mrn: is required"),
        ("REF-1,Testperson", "row 2: has 2 fields, the header has 12"),
        (
            "REF-1,,,1950-01-01,,,,,,1940-01-01,,",
            "row 2, liver_metastases_diagnosis_date: must not be before the birth date",
        ),
    ],
)
def test_each_kind_of_bad_row(row: str, expected: str) -> None:
    assert problems(f"{HEADER}\n{row}\n".encode()) == [expected]


def test_every_problem_of_every_row_is_listed() -> None:
    data = f"{HEADER}\n{GOOD_ROW}\nREF-0001,,,,,,,,,,,\nREF-0003,,,,M,,,,,,,\n".encode()
    assert problems(data) == [
        "row 3, mrn: REF-0001 is also on row 2",
        "row 4, sex: must be one of: female, male, other, unknown",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"mrn\tsex\nREF-1\tmale\n",
            "row 1, header: the fields must be separated by ',' or ';' (found a tab)",
        ),
        (
            b"mrn,sex\nREF-1,m\xe4le\n",  # read as Windows-1252: "mäle" is no sex
            "row 2, sex: must be one of: female, male, other, unknown",
        ),
        (
            b"",
            "row 1, header: the file is empty; the first row must name the columns of the template",
        ),
        (
            b"mrn,gender\nREF-1,male\n",
            "row 1, header: unknown column 'gender' (the columns are: " + ", ".join(COLUMNS) + ")",
        ),
        (b"family_name\nTestperson\n", "row 1, header: the column 'mrn' is required"),
        (b"mrn,mrn\nA,B\n", "row 1, header: the column 'mrn' appears twice"),
        (
            b'mrn,question\nREF-1,"open quote\n',
            "row 2: not readable as CSV (unexpected end of data)",
        ),
    ],
)
def test_a_broken_file_is_refused_with_the_reason(data: bytes, expected: str) -> None:
    assert problems(data) == [expected]
