"""Records built from values that were validated when they were written (the store's rows,
guarded by its constraints): no second validation, only the conversions a stored value needs
to be what validation would have made of it (enumerations, ISO dates and times inside JSON
columns, nested records).  Every write and every import still validates; a property test
(tests/store/test_trusted_read.py) holds a trusted read equal to a validated one.

Validating a heavy case's ~250 records costs several milliseconds; building them this way a
fraction of that (performance.md B3).  `construct` takes values by name; `builder` compiles,
once per table and record class, a function making a record from a row by position (what
a case's open reads: issue 21, B3)."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


def _converter(annotation: Any, *, owned: bool = False) -> Convert | None:
    """How to turn a stored value into the field's value (None: it is already);
    `owned`: nested dicts are the record's to keep (converted in place)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converter(typing.get_args(annotation)[0], owned=owned)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            only = members[0]
            if isinstance(only, type) and issubclass(only, Enum):
                return _member_of(only, optional=True)  # one call per value, not two
            inner = _converter(only, owned=owned)
            if inner is None:
                return None
            return lambda value: None if value is None else inner(value)
        return None  # a union of records (a treatment): built by its own model already
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        each = _converter(item, owned=owned)
        if each is None:
            return None
        return lambda values: None if values is None else [each(v) for v in values]
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return _member_of(annotation, optional=False)
        if issubclass(annotation, BaseModel):
            model = annotation
            return lambda value: (
                construct(model, value, owned=owned) if isinstance(value, dict) else value
            )
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


# -- rows built by position (the store's reads: issue 21, B3) -----------------------------


@dataclass(frozen=True)
class Stored:
    """How a store decodes one column's stored value before it is a field's value:
    `decode` is given every value but None (`nulls`: None too); `final`: what it gives is
    already the field's value (a date, an aware UTC time), with nothing left to convert."""

    decode: Callable[[Any], Any]
    final: bool = False
    nulls: bool = False


@functools.cache
def _enum_lookup(kind: type[Enum], optional: bool) -> dict[Any, Any]:
    lookup: dict[Any, Any] = dict(kind._value2member_map_)
    if optional:
        lookup[None] = None
    return lookup


def _enumeration(annotation: Any) -> tuple[type[Enum], bool] | None:
    """The enumeration of a field that is one (and whether None is allowed), else None."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return None
        annotation, optional = members[0], True
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation, optional
    return None


def builder(
    model: type[M],
    names: Sequence[str],
    stored: Sequence[Stored | None] = (),
    given: Sequence[str] = (),
    refused: Callable[..., M] | None = None,
) -> Callable[..., M]:
    """A function making `model` from a row (a tuple of stored values): the fields `names`
    in the row's order (columns after them are left alone), each decoded by `stored[i]`
    when there is one, then converted as `construct` converts it; the fields `given`
    follow the row as arguments, as they are (records already built).  A row whose
    values cannot be converted so (a stored text outside its enumeration, say) goes to
    `refused` with the same arguments, when there is one.

    The same records as `construct` gives from the same values by name, built without a
    dict by name per row or a call per field: the conversions are compiled once into one
    function (an enumeration is one lookup, a field stored as its value is taken as it
    is)."""
    stored = tuple(stored) + (None,) * (len(names) - len(stored))
    converters = dict(_converters(model))
    scope: dict[str, Any] = {}
    items = []
    for i, (name, how) in enumerate(zip(names, stored, strict=True)):
        value = f"row[{i}]"
        if how is not None:
            scope[f"d{i}"] = how.decode
            value = (
                f"d{i}({value})"
                if how.nulls
                else f"(None if (v{i} := {value}) is None else d{i}(v{i}))"
            )
        if how is None or not how.final:
            enumeration = _enumeration(model.model_fields[name].annotation)
            if enumeration is not None:
                scope[f"e{i}"] = _enum_lookup(*enumeration)
                value = f"e{i}[{value}]"
            elif name in converters:
                scope[f"c{i}"] = _owned_converter(model.model_fields[name].annotation)
                value = f"c{i}({value})"
        items.append(f"{name!r}: {value}")
    items += [f"{name!r}: {name}" for name in given]
    fields = (*names, *given)
    assert len(set(fields)) == len(fields) and all(f.isidentifier() for f in given)
    if sorted(fields) == sorted(model.model_fields) and _plain_fields(model) >= 0:
        # what `construct` does when every field is given
        scope.update(_new=model.__new__, _model=model, _set=object.__setattr__)
        scope["_fields"] = EveryField(fields)  # one for every record: see EveryField
        body = (
            "    record = _new(_model)\n"
            f"    _set(record, '__dict__', {{{', '.join(items)}}})\n"
            "    _set(record, '__pydantic_fields_set__', _fields)\n"
            "    _set(record, '__pydantic_extra__', None)\n"
            "    _set(record, '__pydantic_private__', None)\n"
            "    return record\n"
        )
    else:  # defaults to fill in: pydantic does it
        scope["_construct"] = model.model_construct
        body = f"    return _construct(**{{{', '.join(items)}}})\n"
    arguments = "".join(", " + name for name in given)
    if refused is not None:
        scope["_refused"] = refused
        body = (
            "    try:\n"
            + "".join("    " + line + "\n" for line in body.splitlines())
            + "    except (KeyError, ValueError, TypeError, AttributeError):\n"
            + f"        return _refused(row{arguments})\n"
        )
    source = f"def build(row{arguments}):\n{body}"
    exec(compile(source, f"<trusted {model.__name__}>", "exec"), scope)
    build: Callable[..., M] = scope["build"]
    return build


class EveryField(set[str]):
    """The fields set of records built with every field given (`builder`), one for all
    records of a class: it never changes, so none can change another's.  Pydantic only
    ever adds to a record's fields set, and only a field's name (an assignment), which
    this set holds already; every other change is refused.  (A set per record was a
    quarter of a heavy case's read, most of it in the garbage collector: issue 21, B3.)"""

    def add(self, name: str) -> None:
        if name not in self:
            raise TypeError(f"{name!r} is not a field of these records")

    def _unchanging(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("the fields set of records read from the store does not change")

    remove = discard = pop = clear = update = _unchanging
    difference_update = intersection_update = symmetric_difference_update = _unchanging
    __ior__ = __iand__ = __isub__ = __ixor__ = _unchanging

    def __copy__(self) -> set[str]:  # a record's copy (`model_copy`) has a set of its own
        return set(self)

    def __deepcopy__(self, _memo: Any) -> set[str]:
        return set(self)

    def __reduce__(self) -> Any:  # pickled as a plain set
        return set, (list(self),)


def _owned_converter(annotation: Any) -> Convert:
    """The field's converter (`_converter`) for a value the record may keep as it is:
    a JSON column's freshly decoded value, whose nested dicts become records in place."""
    convert = _converter(annotation, owned=True)
    assert convert is not None
    return convert
