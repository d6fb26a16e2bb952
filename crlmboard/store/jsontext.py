"""JSON text as the standard library's encoder writes it, made by orjson where that gives the
same bytes (issue 21, B5: encoding was a fifth of a folder import's work).

The audit chain hashes canonical JSON (`json` with sorted keys, no spaces, Unicode kept) and
the store keeps compact JSON of frozen evaluations: those bytes are fixed.  orjson writes the
same bytes for every value the store writes — text (every code point, escapes included),
keys sorted by code point, integers, `true`/`false`/`null`, and floats, which both write as
the shortest text that reads back the same — with two exceptions, both found here on each
call and then encoded by the standard library as before:
- a finite float below 1e-4 in magnitude: orjson writes `0.00005` or `1e-9` where `json`
  writes `5e-05` or `1e-09` (`_small_float` finds such a number in the text);
- NaN and ±infinity: orjson writes `null`; `json` writes `NaN` or refuses (canonical JSON).
  A text with `null` in it must read back equal to the value, which a `null` for a float
  never does.
Whatever orjson refuses (a lone surrogate, an integer beyond 64 bits, a key that is not
text, a date, a dataclass, depth beyond 255) goes to the standard library too, and is
written or refused as before.  The values given are JSON data (`audit.jsonable`): an `Enum`
member that is neither text nor a number, or a UUID, which `json` refuses and orjson writes
as its value, is never given (a test shows what each does with them).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson

_DIGITS = frozenset(b"0123456789")
_NUMBER_ENDS = frozenset(b",]}")


def _small_float(text: bytes) -> bool:
    """Whether orjson's text may hold a float it writes otherwise than `json`: below 1e-4,
    orjson writes `0.0000` and a digit (1e-5 to 1e-4) or an exponent of one digit (`1e-6` to
    `1e-9`), `json` `1e-05`.  A float is found by its place in a number; text of the data
    that looks like one only sends the value to the standard library (floats of every
    magnitude were compared, 800,000 of them once, ~30,000 in the tests: no other differs)."""
    at = text.find(b"e-")
    while at != -1:  # d e - d, then the number's end
        if (
            at > 0
            and text[at - 1] in _DIGITS
            and at + 2 < len(text)
            and text[at + 2] in _DIGITS
            and (at + 3 == len(text) or text[at + 3] in _NUMBER_ENDS)
        ):
            return True
        at = text.find(b"e-", at + 2)
    at = text.find(b"0.0000")
    while at != -1:  # a number that starts 0.0000 and a digit that is not 0
        if (
            (at == 0 or (text[at - 1] not in _DIGITS and text[at - 1] != 0x2E))  # not after "."
            and at + 6 < len(text)
            and 0x31 <= text[at + 6] <= 0x39
        ):
            return True
        at = text.find(b"0.0000", at + 6)
    return False


_PASS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
SORTED = orjson.OPT_SORT_KEYS | _PASS
IN_ORDER = _PASS

_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def fast(value: Any, option: int) -> bytes | None:
    """orjson's UTF-8 text of `value` when it is, byte for byte, the standard encoder's with
    the same options; None when it may not be (the caller encodes with `json`)."""
    try:
        text = orjson.dumps(value, option=option)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if _small_float(text):
        return None
    if b"null" in text and orjson.loads(text) != value:  # a NaN or an infinity written null
        return None
    return text


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces, Unicode kept) as UTF-8 bytes."""
    text = fast(value, SORTED)
    return _CANONICAL.encode(value).encode("utf-8") if text is None else text


_FLAT = frozenset({str, int, type(None)})


def canonical_flat_bytes(values: list[Any]) -> bytes:
    """`canonical_bytes` of a list of texts, integers and nulls (an audit row's hashed
    values): no float, key or container in it, so orjson's text is the standard library's
    without the checks `fast` makes (a lone surrogate, an integer beyond 64 bits: refused
    by orjson, written by `json`)."""
    if all(type(value) in _FLAT for value in values):
        with contextlib.suppress(TypeError):
            return orjson.dumps(values)
    return canonical_bytes(values)


def canonical(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, Unicode kept."""
    text = fast(value, SORTED)
    return _CANONICAL.encode(value) if text is None else text.decode("utf-8")


def compact(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`: keys in their order."""
    text = fast(value, IN_ORDER)
    if text is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.decode("utf-8")
