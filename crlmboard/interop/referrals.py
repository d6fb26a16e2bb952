"""The referral CSV template: bytes in, one validated referral per row out, or every problem.

A spreadsheet saves the template (`resources/templates/referrals.csv`) as UTF-8 with or
without a byte-order mark, with `,` or `;` between the fields.  Each row names one patient;
its fields go through the same domain validation as a case file.  A file with any bad row is
refused whole, with every problem as `row N, column: message` (row 1 is the header, so N is
the row number a spreadsheet shows).  The question for the board and the meeting date are
parsed and checked here; the import (services/interop.py) puts the case on that meeting's
agenda.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from crlmboard.domain.caseformat import FORMAT, case_from_dict
from crlmboard.domain.meeting import MeetingFields
from crlmboard.domain.validation import InvalidInput, Problem

COLUMNS: tuple[str, ...] = (
    "mrn",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "referring_clinician",
    "referral_date",
    "primary_site",
    "diagnosis_date",
    "liver_metastases_diagnosis_date",
    "question",
    "meeting_date",
)
REQUIRED = ("mrn",)
PATIENT_COLUMNS = (
    "mrn",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "referring_clinician",
    "referral_date",
)
PRIMARY_COLUMNS = {"primary_site": "site", "diagnosis_date": "diagnosis_date"}
DELIMITERS = (",", ";")
MAX_QUESTION = 2000


@dataclass(frozen=True)
class Referral:
    """One row of the file: the case fields it brings and what the board is asked."""

    row: int
    mrn: str
    document: dict[str, Any]  # a crlmboard.case/1 document with only the row's fields
    question: str | None
    meeting_date: date | None

    def fields(self) -> dict[str, Any]:
        """The row's case fields by column name (for a preview)."""
        out: dict[str, Any] = {k: v for k, v in self.document["patient"].items()}
        for column, key in PRIMARY_COLUMNS.items():
            value = (self.document.get("primary") or {}).get(key)
            if value is not None:
                out[column] = value
        if "liver_metastases_diagnosis_date" in self.document:
            out["liver_metastases_diagnosis_date"] = self.document[
                "liver_metastases_diagnosis_date"
            ]
        return out


def header_name(text: str) -> str:
    """`Birth date` / `birth-date` / ` BIRTH_DATE ` → `birth_date`."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


CP1252_NOTE = (
    "the file is not UTF-8: it was read as Windows-1252 (what Excel saves as 'CSV' on "
    "Windows); check accented names below, or save it as 'CSV UTF-8' to be sure"
)


def decode(data: bytes) -> tuple[str, list[str]]:
    """The text of the file and notes on how it was read: UTF-8 (a byte-order mark is
    dropped), else Windows-1252, the encoding of Excel's plain CSV on Windows."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        return data.decode("cp1252"), [CP1252_NOTE]
    except UnicodeDecodeError:
        row = data[: utf8_error.start].count(b"\n") + 1
        raise InvalidInput(
            [
                Problem(
                    f"row {row}",
                    "the file is neither UTF-8 nor Windows-1252 text; save it from the "
                    "spreadsheet as 'CSV UTF-8'",
                )
            ]
        ) from None


def delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0 and header.strip() and header_name(header) not in COLUMNS:
        found = next(
            (f"'{d}'" if d != "\t" else "a tab" for d in ("\t", "|") if d in header), "none"
        )
        raise InvalidInput(
            [
                Problem(
                    "row 1, header", f"the fields must be separated by ',' or ';' (found {found})"
                )
            ]
        )
    return best


def parse_referrals(data: bytes, today: date) -> list[Referral]:
    """Every referral of a file; raise `InvalidInput` with every problem of every row."""
    return read_referrals(data, today)[0]


def read_referrals(data: bytes, today: date) -> tuple[list[Referral], list[str]]:
    """Every referral of a file and notes on how it was read (its encoding); raise
    `InvalidInput` with every problem of every row, or if it has no rows."""
    text, notes = decode(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InvalidInput(
            [
                Problem(
                    "row 1, header",
                    "the file is empty; the first row must name the columns of the template",
                )
            ]
        )
    sep = delimiter(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise InvalidInput(
            [Problem(f"row {reader.line_num}", f"not readable as CSV ({error})")]
        ) from None
    header = [header_name(h) for h in rows[0]]
    problems: list[Problem] = []
    for name in header:
        if name not in COLUMNS:
            problems.append(
                Problem(
                    "row 1, header",
                    f"unknown column '{name}' (the columns are: {', '.join(COLUMNS)})",
                )
            )
    for name in REQUIRED:
        if name not in header:
            problems.append(Problem("row 1, header", f"the column '{name}' is required"))
    duplicates = sorted({n for n in header if header.count(n) > 1})
    for name in duplicates:
        problems.append(Problem("row 1, header", f"the column '{name}' appears twice"))
    if problems:
        raise InvalidInput(problems)

    referrals: list[Referral] = []
    first_row: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) != len(header):
            problems.append(
                Problem(f"row {number}", f"has {len(cells)} fields, the header has {len(header)}")
            )
            continue
        values = {name: (cell.strip() or None) for name, cell in zip(header, cells, strict=True)}
        referral, row_problems = _row(number, values, today)
        problems.extend(row_problems)
        mrn = values.get("mrn")
        if mrn is not None:
            if mrn in first_row:
                problems.append(
                    Problem(f"row {number}, mrn", f"{mrn} is also on row {first_row[mrn]}")
                )
            else:
                first_row[mrn] = number
        if referral is not None:
            referrals.append(referral)
    if problems:
        raise InvalidInput(problems)
    if not referrals:
        raise InvalidInput(
            [
                Problem(
                    "row 2", "no rows: the file has the header only, so there is nothing to import"
                )
            ]
        )
    return referrals, notes


def column_of(path: str) -> str:
    """The column a case-file path came from: `patient.birth_date` → `birth_date`."""
    if path.startswith("patient."):
        return path.split(".", 1)[1]
    if path.startswith("primary."):
        key = path.split(".", 1)[1]
        return next((col for col, k in PRIMARY_COLUMNS.items() if k == key), key)
    return path or "row"


def _row(
    number: int, values: dict[str, str | None], today: date
) -> tuple[Referral | None, list[Problem]]:
    problems: list[Problem] = []
    if values.get("mrn") is None:
        problems.append(Problem(f"row {number}, mrn", "is required"))
    patient = {k: values[k] for k in PATIENT_COLUMNS if values.get(k) is not None}
    document: dict[str, Any] = {"format": FORMAT, "patient": patient}
    primary = {
        key: values[col] for col, key in PRIMARY_COLUMNS.items() if values.get(col) is not None
    }
    if primary:
        document["primary"] = primary
    if values.get("liver_metastases_diagnosis_date") is not None:
        document["liver_metastases_diagnosis_date"] = values["liver_metastases_diagnosis_date"]
    if not problems:
        try:
            case_from_dict(document, today)
        except InvalidInput as error:
            problems.extend(
                Problem(f"row {number}, {column_of(p.path)}", p.message) for p in error.problems
            )
    question = values.get("question")
    if question is not None and len(question) > MAX_QUESTION:
        problems.append(
            Problem(f"row {number}, question", f"must be at most {MAX_QUESTION} characters")
        )
    meeting: date | None = None
    if values.get("meeting_date") is not None:
        try:
            meeting = MeetingFields.model_validate({"date": values["meeting_date"]}).date
        except ValueError:
            problems.append(Problem(f"row {number}, meeting_date", "must be a date YYYY-MM-DD"))
    if problems:
        return None, problems
    return Referral(number, str(values["mrn"]), document, question, meeting), []


def template_header() -> str:
    """The header row of the template."""
    return ",".join(COLUMNS)
