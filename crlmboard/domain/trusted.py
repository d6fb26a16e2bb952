"""Records built from values that were validated when they were written (the store's rows,
guarded by its constraints): no second validation, only the conversions a stored value needs
to be what validation would have made of it (enumerations, ISO dates and times inside JSON
columns, nested records).  Every write and every import still validates; a property test
(tests/store/test_trusted_read.py) holds a trusted read equal to a validated one.

Validating a heavy case's ~250 records costs several milliseconds; building them this way a
fraction of that (performance.md B3)."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _to_date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _to_utc(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def _converter(annotation: Any) -> Convert | None:
    """How to turn a stored value into the field's value (None: it is already)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converter(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            only = members[0]
            if isinstance(only, type) and issubclass(only, Enum):
                return _member_of(only, optional=True)  # one call per value, not two
            inner = _converter(only)
            if inner is None:
                return None
            return lambda value: None if value is None else inner(value)
        return None  # a union of records (a treatment): built by its own model already
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        each = _converter(item)
        if each is None:
            return None
        return lambda values: None if values is None else [each(v) for v in values]
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return _member_of(annotation, optional=False)
        if issubclass(annotation, BaseModel):
            model = annotation
            return lambda value: construct(model, value) if isinstance(value, dict) else value
        if issubclass(annotation, datetime):
            return _to_utc
        if issubclass(annotation, date):
            return _to_date
    return None


def _member_of(kind: type[Enum], *, optional: bool) -> Convert:
    """A stored value as the enumeration's member (None stays None when `optional`)."""
    by_value = kind._value2member_map_

    def member(value: Any) -> Any:
        found = by_value.get(value)
        if found is not None or (optional and value is None):
            return found
        return kind(value)

    return member


@functools.cache
def _converters(model: type[BaseModel]) -> tuple[tuple[str, Convert], ...]:
    found = []
    for name, field in model.model_fields.items():
        convert = _converter(field.annotation)
        if convert is not None:
            found.append((name, convert))
    return tuple(found)


@functools.cache
def _plain_fields(model: type[BaseModel]) -> int:
    """How many fields `construct` must be given to fill an instance itself; -1 when it
    never may (private attributes, extra keys or computed fields: `model_construct` then)."""
    if (
        model.__private_attributes__
        or model.model_config.get("extra") == "allow"
        or model.__pydantic_computed_fields__
    ):
        return -1
    return len(model.model_fields)


def construct(model: type[M], values: dict[str, Any], *, owned: bool = False) -> M:
    """`model` from trusted `values` (by field name), without validating them again;
    `owned`: the dict is the caller's to give away (the record keeps it, converted)."""
    data = values if owned else dict(values)
    for name, convert in _converters(model):
        if name in data:
            data[name] = convert(data[name])
    if len(data) != _plain_fields(model):
        return model.model_construct(**data)  # defaults to fill in: pydantic does it
    # every field given: what model_construct does, without its per-field work
    record = model.__new__(model)
    set_attribute = object.__setattr__
    set_attribute(record, "__dict__", data)
    set_attribute(record, "__pydantic_fields_set__", set(data))
    set_attribute(record, "__pydantic_extra__", None)
    set_attribute(record, "__pydantic_private__", None)
    return record
