"""`crlmboard.case/1` ⇄ `Case`: the public case-file contract, without files.

`case_from_dict` checks a whole document and either returns a `Case` or raises
`InvalidInput` listing every problem as `path: message`.  `case_to_dict` writes what was
given: unknown (null) values are left out, derived values are never written.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from pydantic import TypeAdapter, ValidationError

from crlmboard.domain.case import TREATMENT_KINDS, Case, ImagingTimepoint, treatment_kind
from crlmboard.domain.meeting import Review
from crlmboard.domain.models import (
    Attendee,
    ExtrahepaticDisease,
    FollowUp,
    ImagingTimepointFields,
    IsoDate,
    LabResult,
    LesionMeasurement,
    MolecularProfile,
    Patient,
    PrimaryTumour,
    Record,
    ReviewAction,
    ReviewFields,
    SurgeryOutcome,
    SurgicalPlan,
)
from crlmboard.domain.validation import InvalidInput, Problem, problems_from_error, scan_raw

FORMAT = "crlmboard.case/1"

_DATE: TypeAdapter[date] = TypeAdapter(IsoDate)

TOP_LEVEL_KEYS = (
    "format",
    "patient",
    "primary",
    "liver_metastases_diagnosis_date",
    "extrahepatic_disease",
    "molecular",
    "labs",
    "treatments",
    "imaging",
    "plan",
    "surgery_outcomes",
    "reviews",
)


class _Reader:
    """Collects problems while validating one document block by block."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def record(self, model: type[Record], data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            self.problems.append(Problem(path, "must be an object"))
            return None
        try:
            return model.model_validate(data)
        except ValidationError as error:
            self.problems.extend(problems_from_error(error, path))
            return None

    def items(self, data: Any, path: str) -> list[Any]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problems.append(Problem(path, "must be a list"))
            return []
        return data

    def split(self, data: Any, path: str, keys: tuple[str, ...]) -> tuple[Any, dict[str, Any]]:
        """Separate nested-list keys from a record's own fields."""
        if not isinstance(data, dict):
            return data, {}
        own = {k: v for k, v in data.items() if k not in keys}
        return own, {k: data[k] for k in keys if k in data}


def case_from_dict(data: Any, today: date) -> Case:
    """Validate a `crlmboard.case/1` document; raise `InvalidInput` with every problem."""
    reader = _Reader()
    problems = reader.problems
    if not isinstance(data, dict):
        raise InvalidInput([Problem("", "a case file must hold one JSON object")])
    problems.extend(scan_raw(data))
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(Problem(str(key), "unknown key"))
    if data.get("format") != FORMAT:
        problems.append(Problem("format", f"must be {FORMAT!r}"))
    patient = None
    if data.get("patient") is None:
        problems.append(Problem("patient", "is required"))
    else:
        patient = reader.record(Patient, data["patient"], "patient")

    primary = None
    if data.get("primary") is not None:
        primary = reader.record(PrimaryTumour, data["primary"], "primary")
    molecular = None
    if data.get("molecular") is not None:
        molecular = reader.record(MolecularProfile, data["molecular"], "molecular")
    plan = None
    if data.get("plan") is not None:
        plan = reader.record(SurgicalPlan, data["plan"], "plan")

    diagnosis = None
    if data.get("liver_metastases_diagnosis_date") is not None:
        try:
            diagnosis = _DATE.validate_python(data["liver_metastases_diagnosis_date"])
        except ValidationError as error:
            problems.extend(problems_from_error(error, "liver_metastases_diagnosis_date"))

    def block(name: str, model: type[Record]) -> list[Any]:
        items = reader.items(data.get(name), name)
        return [reader.record(model, item, f"{name}[{i}]") for i, item in enumerate(items)]

    extrahepatic = block("extrahepatic_disease", ExtrahepaticDisease)
    labs = block("labs", LabResult)
    outcomes = block("surgery_outcomes", SurgeryOutcome)

    treatments: list[Any] = []
    for i, item in enumerate(reader.items(data.get("treatments"), "treatments")):
        path = f"treatments[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(path, "must be an object"))
            continue
        kind = item.get("kind")
        if kind not in TREATMENT_KINDS:
            problems.append(
                Problem(f"{path}.kind", "must be one of: " + ", ".join(TREATMENT_KINDS))
            )
            continue
        fields = {k: v for k, v in item.items() if k != "kind"}
        treatments.append(reader.record(TREATMENT_KINDS[kind], fields, path))

    imaging: list[Any] = []
    for i, item in enumerate(reader.items(data.get("imaging"), "imaging")):
        path = f"imaging[{i}]"
        own, nested = reader.split(item, path, ("lesions",))
        fields = reader.record(ImagingTimepointFields, own, path)
        lesions = [
            reader.record(LesionMeasurement, lesion, f"{path}.lesions[{j}]")
            for j, lesion in enumerate(reader.items(nested.get("lesions"), f"{path}.lesions"))
        ]
        if fields is not None and None not in lesions:
            imaging.append(ImagingTimepoint(**_fields(fields), lesions=lesions))

    reviews: list[Any] = []
    for i, item in enumerate(reader.items(data.get("reviews"), "reviews")):
        path = f"reviews[{i}]"
        own, nested = reader.split(item, path, ("actions", "attendees", "follow_up", "evaluation"))
        fields = reader.record(ReviewFields, own, path)
        actions = [
            reader.record(ReviewAction, a, f"{path}.actions[{j}]")
            for j, a in enumerate(reader.items(nested.get("actions"), f"{path}.actions"))
        ]
        attendees = [
            reader.record(Attendee, a, f"{path}.attendees[{j}]")
            for j, a in enumerate(reader.items(nested.get("attendees"), f"{path}.attendees"))
        ]
        follow_up = None
        if nested.get("follow_up") is not None:
            follow_up = reader.record(FollowUp, nested["follow_up"], f"{path}.follow_up")
        evaluation = nested.get("evaluation")
        if evaluation is not None and not isinstance(evaluation, dict):
            problems.append(Problem(f"{path}.evaluation", "must be an object"))
        if fields is not None and None not in actions and None not in attendees:
            reviews.append(
                Review(
                    **_fields(fields),
                    actions=actions,
                    attendees=attendees,
                    follow_up=follow_up,
                    evaluation=evaluation,
                )
            )

    if problems or patient is None:
        raise InvalidInput(list(dict.fromkeys(problems)))
    case = Case(
        patient=patient,
        primary=primary,
        liver_metastases_diagnosis_date=diagnosis,
        extrahepatic_disease=extrahepatic,
        molecular=molecular,
        labs=labs,
        treatments=treatments,
        imaging=imaging,
        plan=plan,
        surgery_outcomes=outcomes,
        reviews=reviews,
    )
    cross = case.problems(today)
    if cross:
        raise InvalidInput(cross)
    return case


def _fields(record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in type(record).model_fields}


_AS_IS = frozenset({str, int, bool, type(None)})  # written as they are (not subclasses)
_FIELD_NAMES: dict[type[Record], tuple[str, ...]] = {}


def _field_names(model: type[Record]) -> tuple[str, ...]:
    """A record type's field names (looked up once: `_plain` runs for every value)."""
    names = _FIELD_NAMES.get(model)
    if names is None:
        names = _FIELD_NAMES[model] = tuple(model.model_fields)
    return names


def _plain(value: Any) -> Any:
    # fast paths by exact type first (this runs for every value of a case: canonical JSON,
    # hence every evaluation's input hash); the general rules below decide the rest
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is list:
        return [_plain(v) for v in value]
    if kind is date:
        return value.isoformat()
    if kind is float:
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, Record):
        return _record(value)
    if isinstance(value, Enum) and isinstance(value._value_, str):  # StrEnum
        return value._value_
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, Record):
        return _record(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # StrEnum
        return value.value
    return value


def _record(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _field_names(type(record)):
        value = getattr(record, name)
        if value is None:
            continue
        # a frozen evaluation is kept verbatim: its null facts are part of the document
        out[name] = value if type(value) in _AS_IS or name == "evaluation" else _plain(value)
    return out


def case_to_dict(case: Case, *, with_reviews: bool = True) -> dict[str, Any]:
    """The `crlmboard.case/1` document of a case (nulls left out, lists always written)."""
    out: dict[str, Any] = {"format": FORMAT, "patient": _record(case.patient)}
    if case.primary is not None:
        out["primary"] = _record(case.primary)
    if case.liver_metastases_diagnosis_date is not None:
        out["liver_metastases_diagnosis_date"] = case.liver_metastases_diagnosis_date.isoformat()
    out["extrahepatic_disease"] = [_record(x) for x in case.extrahepatic_disease]
    if case.molecular is not None:
        out["molecular"] = _record(case.molecular)
    out["labs"] = [_record(x) for x in case.labs]
    out["treatments"] = [{"kind": treatment_kind(t), **_record(t)} for t in case.treatments]
    out["imaging"] = [_record(x) for x in case.imaging]
    if case.plan is not None:
        out["plan"] = _record(case.plan)
    out["surgery_outcomes"] = [_record(x) for x in case.surgery_outcomes]
    if with_reviews:
        out["reviews"] = [_record(x) for x in case.reviews]
    return out


def canonical_json(case: Case) -> str:
    """Canonical JSON of a case without reviews: sorted keys, compact separators."""
    return json.dumps(
        case_to_dict(case, with_reviews=False),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def dumps_case(case: Case) -> str:
    """A case file's text (2-space indent, UTF-8)."""
    return json.dumps(case_to_dict(case), indent=2, ensure_ascii=False) + "\n"


def _refuse_constant(name: str) -> float:
    return float("nan")  # NaN, Infinity: flagged by scan_raw with its path


MAX_JSON_DEPTH = 100  # a case file nests 6 levels, an mCODE bundle about 10
MAX_NUMBER_CHARACTERS = 50
# a run of number characters longer than a number may be (maybe inside a string)
_LONG_NUMBER = re.compile(f"[-+.0-9eE]{{{MAX_NUMBER_CHARACTERS + 1}}}")
# A number token of more than MAX_NUMBER_CHARACTERS characters has at most four that are
# not digits (sign, point, e, exponent sign), so its digits come in at most three runs and
# one run is at least this long: a text without such a run of digits has no long number.
# Looked for in the UTF-8 bytes, digits mapped to "0" and the rest to " " (C speed; the
# regular expression above reads a case file at about 9 µs a kilobyte).
_DIGIT_RUN = -(-(MAX_NUMBER_CHARACTERS + 1 - 4) // 3)
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))


def _may_hold_a_long_number(text: str) -> bool:
    """Whether the text may hold a number token too long to be a measurement (never
    False when it does; True sends it to the careful reading)."""
    digits = text.encode("utf-8", "surrogatepass").translate(_DIGITS_ONLY)
    if b"0" * _DIGIT_RUN not in digits:
        return False
    return _LONG_NUMBER.search(text) is not None


class _Refused(ValueError):
    """A JSON text this reader refuses whole (the message says why)."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _value in pairs:  # the first key given twice, for the message
        if key in seen:
            shown = key if len(key) <= 40 else key[:40] + "…"
            raise _Refused(f"the key {shown!r} appears twice in one object (refused, not guessed)")
        seen.add(key)
    raise AssertionError("unreachable")  # pragma: no cover


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise _Refused(
            f"a number of {len(text)} digits is too long to be a measurement "
            f"(at most {MAX_NUMBER_CHARACTERS} characters)"
        )
    return kind(text)


def _depth(data: Any) -> int:
    """How deep objects and arrays nest in parsed JSON (0: a plain value), counted up to
    one level past MAX_JSON_DEPTH; level by level, looking only at objects and arrays."""
    deepest, level = 0, [data] if isinstance(data, dict | list) else []
    while level and deepest <= MAX_JSON_DEPTH:
        deepest += 1
        level = [
            child
            for value in level
            for child in (value.values() if type(value) is dict else value)
            if type(child) is dict or type(child) is list
        ]
    return deepest


def parse_json(text: str) -> Any:
    """A case file's (or bundle's) JSON, read as `loads_case` reads it.  Raises
    JSONDecodeError for text that is not JSON, and InvalidInput for JSON this reader
    refuses whole: a key given twice in one object (never resolved last-wins), nesting
    deeper than MAX_JSON_DEPTH, a number too long to be a measurement."""
    # Numbers are read as int and float unless the text has a run of characters long
    # enough to be a number too long; only then is each number looked at (`_number`).
    long_run = _may_hold_a_long_number(text)
    try:
        data = json.loads(
            text,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicate_keys,
            parse_int=(lambda t: _number(t, int)) if long_run else None,
            parse_float=(lambda t: _number(t, float)) if long_run else None,
        )
    except _Refused as refused:
        raise InvalidInput([Problem("", str(refused))]) from None
    except RecursionError:
        data, too_deep = None, True
    else:
        too_deep = _depth(data) > MAX_JSON_DEPTH
    if too_deep:
        raise InvalidInput(
            [Problem("", f"the JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels)")]
        )
    return data


def loads_case(text: str, today: date) -> Case:
    """Parse a case file's text; malformed JSON is a problem like any other."""
    try:
        data = parse_json(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            [
                Problem(
                    "", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
                )
            ]
        ) from None
    return case_from_dict(data, today)


def normalised(document: Any) -> Any:
    """A document for comparing content: nulls and empty lists left out (both mean "none
    known"), integral floats as ints."""
    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items() if v is not None and v != []}
    if isinstance(document, list):
        return [normalised(v) for v in document]
    return _plain(document)
