"""`@frozen`: a frozen dataclass whose methods are not compiled when its module is imported.

`@dataclass(frozen=True)` writes the source text of `__init__`, `__repr__`, `__eq__`,
`__hash__`, `__setattr__` and `__delattr__` for each class and compiles it at import: about
6 M instructions a class (a text per field in five of them), 117 M for the 18 record types
of the guideline engine — an eighth of `crlmboard evaluate` as a whole process
(performance.md B10).  `@frozen` makes the same class: the fields are collected by
`dataclasses` itself (`dataclasses.fields`, `replace`, `asdict` and `is_dataclass` work as
before, with `__dataclass_params__` saying frozen), and the six methods behave as the
generated ones do, built from closures over the field list, so nothing is compiled.
`tests/test_frozen.py` holds each behaviour against `@dataclass(frozen=True)`.

For the plain value types only: every field in `__init__` (no `init=False`, `kw_only` or
`InitVar`), no `__post_init__`, no `slots`, no inheritance between dataclasses — anything
else is refused when the class is made, so a later change cannot silently differ.
"""

from __future__ import annotations

import dataclasses
import inspect
from _thread import get_ident
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

__all__ = ["frozen"]

T = TypeVar("T", bound=type)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: T) -> T:
    """The class as `@dataclass(frozen=True)` makes it (eq, hash and repr included)."""
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base):
            raise TypeError(f"@frozen {cls.__qualname__}: inheriting a dataclass is not supported")
    if "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"@frozen {cls.__qualname__}: __slots__ and __post_init__ not supported")
    documented = bool(cls.__doc__)
    # the fields exactly as dataclasses collects them (defaults checked, ClassVar left out);
    # with no method asked for, nothing is compiled
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    every = cls.__dict__["__dataclass_fields__"]
    fields = dataclasses.fields(cls)
    if any(field.name not in every or not field.init or field.kw_only for field in fields):
        raise TypeError(f"@frozen {cls.__qualname__}: init=False and kw_only not supported")
    if len(every) != len(fields) and any(
        "InitVar" in str(field.type) for field in every.values() if field not in fields
    ):
        raise TypeError(f"@frozen {cls.__qualname__}: InitVar not supported")
    params = cls.__dict__["__dataclass_params__"]
    params.init = params.repr = params.eq = params.frozen = True

    names = tuple(field.name for field in fields)
    methods: dict[str, Callable[..., Any]] = {
        "__init__": _init(cls, fields),
        "__repr__": _repr(tuple(field.name for field in fields if field.repr)),
        "__eq__": _eq(_values(tuple(field.name for field in fields if field.compare))),
        "__hash__": _hash(
            _values(
                tuple(
                    field.name
                    for field in fields
                    if (field.compare if field.hash is None else field.hash)
                )
            )
        ),
        "__setattr__": _setattr(cls, frozenset(names)),
        "__delattr__": _delattr(cls, frozenset(names)),
    }
    for name, method in methods.items():
        if name in cls.__dict__:
            raise TypeError(f"@frozen {cls.__qualname__}: {name} of its own not supported")
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    cls.__signature__ = _Signature(fields)  # type: ignore[attr-defined]
    if not documented:  # as dataclasses writes it: the name and the signature
        cls.__doc__ = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    return cls


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of these fields' values (always a tuple, as the generated code compares)."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    names = tuple(field.name for field in fields)
    count = len(names)
    index = {name: i for i, name in enumerate(names)}
    defaults: list[Any] = []
    factories: list[Any] = []
    seen_default = False
    for field in fields:
        has_default = field.default is not MISSING or field.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {field.name!r} follows default argument")
        seen_default = seen_default or has_default
        defaults.append(field.default)
        factories.append(field.default_factory)
    title = f"{cls.__qualname__}.__init__()"
    required = sum(1 for default in defaults if default is MISSING) - sum(
        1 for factory in factories if factory is not MISSING
    )

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        given = len(args)
        if given > count:
            takes = f"{count + 1}" if required == count else f"from {required + 1} to {count + 1}"
            raise TypeError(
                f"{title} takes {takes} positional arguments but {given + 1} were given"
            )
        values: list[Any] = [*args, *([MISSING] * (count - given))]
        for key, value in kwargs.items():
            at = index.get(key)
            if at is None:
                raise TypeError(f"{title} got an unexpected keyword argument {key!r}")
            if at < given:
                raise TypeError(f"{title} got multiple values for argument {key!r}")
            values[at] = value
        missing: list[str] = []
        for at in range(given, count):
            if values[at] is MISSING:
                if defaults[at] is not MISSING:
                    values[at] = defaults[at]
                elif factories[at] is not MISSING:
                    values[at] = factories[at]()
                else:
                    missing.append(repr(names[at]))
        if missing:
            listed = (
                missing[0]
                if len(missing) == 1
                else ", ".join(missing[:-1])
                + (", and " if len(missing) > 2 else " and ")
                + missing[-1]
            )
            plural = "argument" if len(missing) == 1 else "arguments"
            raise TypeError(
                f"{title} missing {len(missing)} required positional {plural}: {listed}"
            )
        return values

    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs or len(args) != count:
            args = tuple(bind(args, kwargs))
        for name, value in zip(names, args, strict=True):
            setter(self, name, value)

    return __init__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = (id(self), get_ident())
        if key in running:
            return "..."
        running.add(key)
        try:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        finally:
            running.discard(key)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _eq(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _setattr(cls: type, names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]  # cls is a class

    return __setattr__


def _delattr(cls: type, names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type]  # cls is a class

    return __delattr__


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()  # a default made by a factory, shown as dataclasses shows it


class _Signature:
    """The class's `inspect.signature`, made when first asked (help(), a debugger): the
    parameters as the generated `__init__` would have them, without `self`."""

    def __init__(self, fields: tuple[dataclasses.Field[Any], ...]) -> None:
        self.fields = fields
        self.made: inspect.Signature | None = None

    def __get__(self, instance: Any, owner: type) -> inspect.Signature:
        if self.made is None:
            parameters = []
            for field in self.fields:
                default = field.default
                if default is MISSING and field.default_factory is not MISSING:
                    default = _FACTORY
                parameters.append(
                    inspect.Parameter(
                        field.name,
                        inspect.Parameter.POSITIONAL_OR_KEYWORD,
                        default=inspect.Parameter.empty if default is MISSING else default,
                        annotation=field.type,
                    )
                )
            self.made = inspect.Signature(parameters, return_annotation=None)
        return self.made
