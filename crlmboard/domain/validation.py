"""Validation problems in the words a coordinator reads: `path: message`.

Every entry path (case file, UI form, command line) turns pydantic's errors into the same
`Problem`s through `problems_from_error`, so a bound reads the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from crlmboard.frozen import frozen


@frozen
class Problem:
    """One reason an input was refused, with where it is."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInput(ValueError):
    """Input refused whole; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def join_path(prefix: str, loc: Iterable[str | int]) -> str:
    """`imaging[2]` + ('lesions', 0, 'id') → `imaging[2].lesions[0].id`."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    simple = {
        "extra_forbidden": "unknown key",
        "missing": "is required",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "int_parsing": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "finite_number": "must be a finite number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be text",
        "list_type": "must be a list",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "dict_type": "must be an object",
        "date_type": "must be a date YYYY-MM-DD",
    }
    if kind in simple:
        return simple[kind]
    if kind == "greater_than_equal":
        return f"must be ≥ {_number(ctx.get('ge'))}"
    if kind == "less_than_equal":
        return f"must be ≤ {_number(ctx.get('le'))}"
    if kind == "greater_than":
        return f"must be > {_number(ctx.get('gt'))}"
    if kind == "less_than":
        return f"must be < {_number(ctx.get('lt'))}"
    text = isinstance(error.get("input"), str)
    if kind == "string_too_long" or (kind == "too_long" and text):
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "string_too_short" or (kind == "too_short" and text):
        return "must not be empty"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "string_pattern_mismatch":
        return "is not in the expected form"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        expected = expected.replace(" or ", ", ")
        return f"must be one of: {expected}"
    return str(error["msg"])


def problems_from_error(error: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn a pydantic error into path-qualified problems."""
    return [Problem(join_path(prefix, e["loc"]), _message(e)) for e in error.errors()]


def has_lone_surrogate(value: str) -> bool:
    """Whether a text holds a lone surrogate (U+D800–U+DFFF): exactly the characters UTF-8
    cannot encode, so the encoder finds them at C speed (ASCII text has none)."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _leaf_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, str):
        if "\x00" in value:
            return "must not contain a NUL character"
        if has_lone_surrogate(value):
            return "must not contain invalid Unicode (a lone surrogate)"
    return None


def scan_raw(value: Any, path: str = "") -> list[Problem]:
    """Problems JSON parsing lets through: NaN/∞ numbers and NUL characters anywhere.

    A value's path is written only for a value with a problem (a case file holds a few
    thousand values, nearly always none with a problem; B10)."""
    problems: list[Problem] = []
    message = _leaf_problem(value)
    if message is not None:
        problems.append(Problem(path, message))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                problems.append(Problem(path, "a key contains a NUL character"))
                continue
            if isinstance(item, dict | list):
                problems.extend(scan_raw(item, join_path(path, [str(key)])))
            else:
                message = _leaf_problem(item)
                if message is not None:
                    problems.append(Problem(join_path(path, [str(key)]), message))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                problems.extend(scan_raw(item, join_path(path, [index])))
            else:
                message = _leaf_problem(item)
                if message is not None:
                    problems.append(Problem(join_path(path, [index]), message))
    return problems
