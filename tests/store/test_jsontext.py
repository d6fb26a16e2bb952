"""JSON text made by orjson is byte for byte the standard library's, or is not used (issue
21, B5): the audit chain's hash definition and the stored frozen evaluations fix it."""

from __future__ import annotations

import enum
import json
import math
import random
import struct
import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crlmboard.store import audit, jsontext


def standard_canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def standard_compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def outcome(encode: Any, value: Any) -> tuple[str, str]:
    """The text, or the kind of refusal."""
    try:
        return "text", encode(value)
    except (TypeError, ValueError, RecursionError) as refused:
        return "refused", type(refused).__name__


def assert_same(value: Any) -> None:
    assert outcome(jsontext.canonical, value) == outcome(standard_canonical, value)
    assert outcome(jsontext.compact, value) == outcome(standard_compact, value)
    assert outcome(jsontext.canonical_bytes, value) == outcome(
        lambda v: standard_canonical(v).encode("utf-8"), value
    )


def floats_of_every_magnitude() -> list[float]:
    rng = random.Random(21)
    found = [
        struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(20_000)
    ]
    for exponent in range(-324, 309):
        for mantissa in (1.0, 1.5, 2.5, 9.999, 1.2345678901234567, 7.1):
            with_sign = (
                mantissa * 10.0**exponent
                if exponent > -300
                else mantissa * 1e-300 * 10.0 ** (exponent + 300)
            )
            found += [with_sign, -with_sign]
    found += [rng.uniform(-1e6, 1e6) for _ in range(5_000)]
    found += [round(rng.uniform(0, 500), rng.randint(0, 6)) for _ in range(5_000)]
    found += [0.0, -0.0, 1e-4, 1e-5, 5e-324, 1e16, 1e15, 9.999999999999999e15, math.nan, math.inf]
    return found


def test_every_float_is_written_as_the_standard_library_writes_it_or_refused_alike() -> None:
    """Including those orjson writes otherwise (below 1e-4: `0.00005`, `1e-9`; NaN and
    infinity as `null`): found on each call and left to the standard library."""
    values = floats_of_every_magnitude()
    assert_same(values)
    for value in values:
        assert_same(value)
        assert_same({"value": value, "unit": "mm"})


def test_every_character_is_escaped_alike_in_values_and_in_sorted_keys() -> None:
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert_same("".join(characters))
    assert_same({c: n for n, c in enumerate(reversed(characters[:5000]))})
    assert_same({c: n for n, c in enumerate(characters[::97])})
    assert_same(["\ud800", "a lone surrogate"])  # refused alike: orjson refuses, json writes it


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


class Kind(enum.StrEnum):
    CT = "ct"


@pytest.mark.parametrize(
    "value",
    [
        {"at": date(2026, 3, 2)},  # json refuses a date: orjson would write it
        {"pair": (1, 2)},  # a tuple is a list to both
        {"level": Level.LOW, "kind": Kind.CT},
        {1: "key not text", "b": 2},
        {"big": 2**70, "negative": -(2**64)},
        {"nested": {"z": [1, 2.5, None, True, False, ""], "a": {"é": "ü", "E": "\x00\x1f\x7f"}}},
    ],
)
def test_values_orjson_writes_otherwise_are_written_or_refused_as_before(value: Any) -> None:
    assert_same(value)


def test_an_enum_member_or_a_uuid_is_written_as_its_value_where_json_refused_it() -> None:
    """What `jsontext` does not promise: such values are never given (`audit.jsonable`
    makes every value the store audits JSON data first, and refuses a UUID)."""
    assert jsontext.canonical({"colour": Colour.RED, "id": uuid.UUID(int=7)}) == (
        '{"colour":"red","id":"00000000-0000-0000-0000-000000000007"}'
    )
    assert outcome(standard_canonical, {"colour": Colour.RED})[0] == "refused"
    assert audit.jsonable({"colour": Colour.RED}) == {"colour": "red"}
    with pytest.raises(TypeError):
        audit.jsonable(uuid.UUID(int=7))


def test_deep_data_is_written_as_before() -> None:
    deep: Any = 1
    for _ in range(300):  # beyond orjson's depth: the standard library writes it
        deep = [deep]
    assert_same(deep)


_json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_json_data)
def test_any_json_data_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    assert_same(value)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(), _json_data, max_size=5), st.lists(_json_data, min_size=1, max_size=3)
)
def test_encoded_values_are_spliced_as_the_standard_library_splices_them(
    outer: dict[str, Any], inner: list[Any]
) -> None:
    """With orjson or without (`_spliced`, the standard library's way), the same text, or
    the same refusal (NaN in the data)."""
    placed = {
        **outer,
        "items": [
            {"value": audit.Encoded(standard_canonical(v))}
            for v in inner
            if outcome(standard_canonical, v)[0] == "text"
        ],
    }
    assert outcome(audit.canonical_spliced, placed) == outcome(audit._spliced, placed)
    assert outcome(audit.canonical_spliced_bytes, placed) == outcome(
        lambda v: audit._spliced(v).encode("utf-8"), placed
    )


def test_the_row_hash_is_the_hash_of_its_canonical_text() -> None:
    """The chain's definition: SHA-256 of `prev|canonical(values)` in UTF-8."""
    row = {name: None for name in audit._HASHED}
    row.update(
        seq=3,
        at="2026-03-02T09:30:00.000000",
        action="changes",
        table_name="patient",
        record_id="7",
        case_id=7,
        fields='["lab_result","patient"]',
        after_json='[{"after":{"family_name":"Zoë Testpatient ✓"}}]',
        app_user="demo",
    )
    values = [row[name] for name in audit._HASHED]
    expected = audit.sha256_text("f" * 64 + "|" + standard_canonical(values))
    assert audit.row_hash("f" * 64, row) == expected


@pytest.mark.parametrize("number", [5e-05, 1.5e-07, 1e-09, 1e-10, 0.0001, 1e16, 12.5, -0.0])
def test_a_spliced_text_writes_each_float_as_the_standard_library_does(number: float) -> None:
    placed = {"value": number, "lesions": [number, {"mm": number}], "e": audit.Encoded("[1e-05]")}
    plain = {"value": number, "lesions": [number, {"mm": number}], "e": [1e-05]}
    assert audit.canonical_spliced(placed) == standard_canonical(plain)
    for refused in (math.nan, math.inf):
        with pytest.raises(ValueError):
            audit.canonical_spliced({"value": refused, "e": audit.Encoded("[1]")})
