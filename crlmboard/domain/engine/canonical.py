"""The canonical case JSON of the engine's `input_sha256`, written straight from the records.

`caseformat.canonical_json` defines the text: `case_to_dict(case, with_reviews=False)` dumped
with sorted keys, compact separators and UTF-8 characters kept.  Building those dicts and
sorting their keys again for every evaluation was more than half of the engine's time, so
`canonical_text` writes the same bytes directly: for each record type a small writer is
generated once, with the field names already in key order and each field's usual value type
written inline (`json.dumps` of `_plain(value)`: integral floats as ints, dates ISO, enums by
value, nulls left out).  A value of any other type goes through `_value_text`, and anything
that one does not know exactly (a dict, a subclass of list or int, a non-finite float, a
record type with an `evaluation` or `kind` field) hands the whole case back to
`canonical_json`.  tests/domain/engine/test_canonical.py holds the two equal.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from crlmboard.domain.case import TREATMENT_KINDS, Case
from crlmboard.domain.caseformat import FORMAT, canonical_json
from crlmboard.domain.models import Record

__all__ = ["canonical_text"]

_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # as json.dumps escapes


class _Unusual(Exception):
    """A value the direct writer leaves to `canonical_json`."""


def _value_text(value: Any) -> str:
    """`json.dumps(_plain(value))` for any value a record may hold (the general path)."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is float:
        if value.is_integer():  # finite and integral: written as an int
            return repr(int(value))
        if value - value == 0:  # finite
            return repr(value)
        raise _Unusual
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return repr(value)
    if kind is date:
        return f'"{value.isoformat()}"'
    if kind is list:
        return "[" + ",".join([_value_text(v) for v in value]) + "]"
    if value is None:
        return "null"
    if isinstance(value, Enum):
        if isinstance(value._value_, str):
            return _encode_str(value._value_)
        raise _Unusual
    if isinstance(value, Record):
        return _writer(kind)(value)
    if kind is datetime:
        return f'"{value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}"'
    raise _Unusual


# --------------------------------------------------------------------------------------
# Writers generated per record type

Writer = Callable[..., str]
_WRITERS: dict[tuple[type, bool], Writer] = {}


def _bare(annotation: Any) -> Any:
    """`X` of `Annotated[X, …]` (anything else as it is)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _plain_type(annotation: Any) -> Any:
    """`X` of `X | None`, `Annotated[X, …]` or `Annotated[X, …] | None` (anything else as
    it is)."""
    annotation = _bare(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _bare(args[0])
    return annotation


def _field_code(name: str, annotation: Any, names: dict[str, Any]) -> list[str]:
    """Lines appending `"name":value` to `out` for the field's value `v` (not None)."""
    prefix = _encode_str(name) + ":"
    key = repr(prefix)
    formatted = repr(prefix.replace("%", "%%") + "%d")  # %d of an integral float is its int
    usual = _plain_type(annotation)
    general = f"out.append({key} + _value_text(v))"
    if usual is str:
        return [f"if v.__class__ is str: out.append({key} + _encode_str(v))", f"else: {general}"]
    if usual is int:
        return [f"if v.__class__ is int: out.append({formatted} % v)", f"else: {general}"]
    if usual is float:
        return [
            "if v.__class__ is float and v.is_integer():",
            f"    out.append({formatted} % v)",
            f"else: {general}",
        ]
    if usual is bool:
        return [
            f"if v is True: out.append({prefix + 'true'!r})",
            f"elif v is False: out.append({prefix + 'false'!r})",
            f"else: {general}",
        ]
    if usual is date:
        return [
            f"if v.__class__ is date: out.append({key} + '\"' + v.isoformat() + '\"')",
            f"else: {general}",
        ]
    if (
        isinstance(usual, type)
        and issubclass(usual, Enum)
        and all(isinstance(member.value, str) for member in usual)
    ):
        names[f"_type_{name}"] = usual
        names[f"_text_{name}"] = {member: prefix + _encode_str(member.value) for member in usual}
        return [f"if v.__class__ is _type_{name}: out.append(_text_{name}[v])", f"else: {general}"]
    if typing.get_origin(usual) is list:
        item = _bare(typing.get_args(usual)[0])
        if isinstance(item, type) and issubclass(item, Record):
            names[f"_type_{name}"] = item
            names[f"_write_{name}"] = _writer(item)
            return [
                "if v.__class__ is list:",
                f"    out.append({key} + '[' + ','.join([_write_{name}(x) if x.__class__ "
                f"is _type_{name} else _value_text(x) for x in v]) + ']')",
                f"else: {general}",
            ]
    return [general]


def _writer(model: type[Record], with_kind: bool = False) -> Writer:
    """The writer of a record type: `write(record)` or, for a treatment, `write(record, kind)`
    with the `"kind":…` text put among the fields in key order."""
    found = _WRITERS.get((model, with_kind))
    if found is not None:
        return found
    fields: dict[str, Any] = dict(model.model_fields)
    if "evaluation" in fields or "kind" in fields:
        raise _Unusual  # kept verbatim by `case_to_dict`, or shadowing a treatment's kind
    # the types pydantic resolved when it built the model: `typing.get_type_hints` would
    # evaluate every string annotation of the module again (B10: `crlmboard evaluate`
    # builds these writers in every run)
    hints = {name: field.annotation for name, field in fields.items()}
    names: dict[str, Any] = {
        "_value_text": _value_text,
        "_encode_str": _encode_str,
        "date": date,
        "_Unusual": _Unusual,
    }
    lines = [
        "def write(record, kind=None):",
        "    try:",
        "        d = record.__dict__",
        "        out = []",
    ]
    for name in sorted([*fields, "kind"] if with_kind else fields):
        if name == "kind" and with_kind:
            lines.append("        out.append(kind)")
            continue
        lines += [f"        v = d[{name!r}]", "        if v is not None:"]
        lines += ["            " + line for line in _field_code(name, hints.get(name), names)]
    lines += [
        "    except (AttributeError, KeyError):",  # not a plain record: the slow way
        "        raise _Unusual from None",
        "    return '{' + ','.join(out) + '}'",
    ]
    exec("\n".join(lines), names)
    write: Writer = names["write"]
    _WRITERS[(model, with_kind)] = write
    return write


def _records_text(records: list[Any]) -> str:
    parts = []
    for record in records:
        if not isinstance(record, Record):
            raise _Unusual
        parts.append(_writer(type(record))(record))
    return "[" + ",".join(parts) + "]"


_TREATMENT_KIND = {
    model: _encode_str("kind") + ":" + _encode_str(kind) for kind, model in TREATMENT_KINDS.items()
}


def _treatments_text(treatments: list[Any]) -> str:
    """Each treatment with its `kind` among its fields, as `case_to_dict` writes it."""
    parts = []
    for treatment in treatments:
        kind = _TREATMENT_KIND.get(type(treatment))
        if kind is None:
            raise _Unusual
        parts.append(_writer(type(treatment), True)(treatment, kind))
    return "[" + ",".join(parts) + "]"


def canonical_text(case: Case) -> str:
    """`canonical_json(case)`: the same text, written directly from the records."""
    if type(case) is not Case:
        return canonical_json(case)
    try:
        parts = [
            '"extrahepatic_disease":' + _records_text(case.extrahepatic_disease),
            '"format":' + _encode_str(FORMAT),
            '"imaging":' + _records_text(case.imaging),
            '"labs":' + _records_text(case.labs),
        ]
        if case.liver_metastases_diagnosis_date is not None:
            parts.append(
                '"liver_metastases_diagnosis_date":"'
                + case.liver_metastases_diagnosis_date.isoformat()
                + '"'
            )
        if case.molecular is not None:
            parts.append('"molecular":' + _value_text(case.molecular))
        parts.append('"patient":' + _value_text(case.patient))
        if case.plan is not None:
            parts.append('"plan":' + _value_text(case.plan))
        if case.primary is not None:
            parts.append('"primary":' + _value_text(case.primary))
        parts.append('"surgery_outcomes":' + _records_text(case.surgery_outcomes))
        parts.append('"treatments":' + _treatments_text(case.treatments))
    except _Unusual:
        return canonical_json(case)
    return "{" + ",".join(parts) + "}"
