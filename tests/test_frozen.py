"""`@frozen` behaves as `@dataclass(frozen=True)` does: the same class, field for field and
method for method, for every record type that uses it (the engine's, the validation
problem, the change set) and for the shapes a value type may take."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from crlmboard.frozen import frozen

# -- the same class bodies, made both ways -------------------------------------------------


def _both(body: Any) -> tuple[type, type]:
    """(`@dataclass(frozen=True)`, `@frozen`) of two copies of a class body."""
    return dataclasses.dataclass(frozen=True)(body()), frozen(body())


def _point() -> type:
    class Point:
        """A point."""

        x: int
        y: float = 1.5
        tags: tuple[str, ...] = ()
        note: str = field(default="", repr=False, compare=False)
        seen: list[int] = field(default_factory=list, hash=False)
        KIND: ClassVar[str] = "point"

        @property
        def total(self) -> float:
            return self.x + self.y

    return Point


def _empty() -> type:
    class Empty:
        pass

    return Empty


def _one() -> type:
    class One:
        """One value."""

        value: float

    return One


def _equal_behaviour(real: type, ours: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    a, b = real(*args, **kwargs), ours(*args, **kwargs)
    assert repr(a) == repr(b)
    assert hash(a) == hash(b)
    assert a == real(*args, **kwargs) and b == ours(*args, **kwargs)
    assert (a == b) is False and (a != b) is True  # another class: never equal
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert dataclasses.astuple(a) == dataclasses.astuple(b)
    assert vars(a) == vars(b) and list(vars(a)) == list(vars(b))
    assert real.__match_args__ == ours.__match_args__
    assert str(inspect.signature(real)) == str(inspect.signature(ours))
    assert real.__doc__ == ours.__doc__
    for name in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(real.__dataclass_params__, name) == getattr(
            ours.__dataclass_params__, name
        ), name
    assert copy.copy(b) == b and copy.deepcopy(b) == b
    for instance in (a, b):
        with pytest.raises(FrozenInstanceError, match="cannot assign to field"):
            instance.x = 2  # type: ignore[misc]
        with pytest.raises(FrozenInstanceError, match="cannot assign to field"):
            instance.other = 2
        with pytest.raises(FrozenInstanceError, match="cannot delete field"):
            del instance.x  # type: ignore[misc]


def test_a_record_with_defaults_factories_and_field_options_behaves_the_same() -> None:
    real, ours = _both(_point)
    for args, kwargs in [
        ((1,), {}),
        ((1, 2.0), {}),
        ((1, 2.0, ("a",), "note", [3]), {}),
        ((), {"x": 4, "note": "n"}),
        ((5,), {"seen": [1], "tags": ("b",)}),
    ]:
        _equal_behaviour(real, ours, args, kwargs)
    a, b = real(1, note="one"), ours(1, note="one")
    # compare=False: not compared, not hashed; hash=False: compared, not hashed
    assert b == ours(1, note="another") and a == real(1, note="another")
    assert b != ours(1, seen=[9]) and hash(b) == hash(ours(1, seen=[9]))
    assert ours(1).seen is not ours(1).seen  # a fresh list from the factory each time
    assert b.total == 2.5 and ours.KIND == "point"
    assert dataclasses.replace(b, y=3.0) == ours(1, 3.0, note="x")
    assert dataclasses.is_dataclass(ours) and dataclasses.is_dataclass(b)


def test_a_record_without_fields_and_one_with_one_behave_the_same() -> None:
    for body, args in ((_empty, ()), (_one, (float("nan"),))):
        real, ours = _both(body)
        _equal_behaviour(real, ours, args, {})
    nan = float("nan")
    real, ours = _both(_one)
    # the tuple comparison of the generated __eq__: the same NaN object is equal to itself
    assert (real(nan) == real(nan)) == (ours(nan) == ours(nan))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((1, 2.0, (), "", [], 6), {}),
        ((1,), {"x": 2}),
        ((1,), {"z": 2}),
        ((), {"y": 2.0}),
    ],
)
def test_wrong_arguments_are_refused_with_the_same_message(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    real, ours = _both(_point)
    with pytest.raises(TypeError) as refused_real:
        real(*args, **kwargs)
    with pytest.raises(TypeError) as refused_ours:
        ours(*args, **kwargs)
    assert str(refused_ours.value) == str(refused_real.value)


def test_missing_arguments_are_named_as_python_names_them() -> None:
    def body() -> type:
        class Three:
            """Three required."""

            a: int
            b: int
            c: int

        return Three

    real, ours = _both(body)
    for args in ((), (1,), (1, 2)):
        with pytest.raises(TypeError) as refused_real:
            real(*args)
        with pytest.raises(TypeError) as refused_ours:
            ours(*args)
        assert str(refused_ours.value) == str(refused_real.value)


def test_what_frozen_does_not_make_is_refused_when_the_class_is_made() -> None:
    def with_post_init() -> type:
        class P:
            a: int

            def __post_init__(self) -> None:
                pass

        return P

    def with_init_false() -> type:
        class P:
            a: int = field(default=0, init=False)

        return P

    def with_own_repr() -> type:
        class P:
            a: int

            def __repr__(self) -> str:
                return "P"

        return P

    def default_first() -> type:
        class P:
            a: int = 0
            b: int  # type: ignore[misc]

        return P

    def mutable_default() -> type:
        class P:
            a: list[int] = []  # noqa: RUF012

        return P

    @frozen
    class Base:
        a: int

    def inheriting() -> type:
        class P(Base):
            b: int = 0

        return P

    for body in (with_post_init, with_init_false, with_own_repr, default_first, inheriting):
        with pytest.raises(TypeError):
            frozen(body())
    with pytest.raises(ValueError, match="mutable default"):
        frozen(mutable_default())


# -- the record types that use it, on real evaluations -------------------------------------


def _frozen_types() -> list[type]:
    """Every class of crlmboard made by `@frozen` (the modules that use it imported)."""
    import sys

    import crlmboard.services.changes
    import crlmboard.services.evaluation  # noqa: F401

    found = []
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("crlmboard") or module is None:
            continue
        for value in vars(module).values():
            init = getattr(value, "__init__", None) if isinstance(value, type) else None
            if (
                init is not None
                and value.__module__ == name
                and hasattr(init, "__code__")
                and Path(init.__code__.co_filename).name == "frozen.py"
            ):
                found.append(value)
    return found


def _twin(cls: type) -> type:
    """The same fields as `cls`, made by `@dataclass(frozen=True)` under the same name."""
    specs = []
    for f in dataclasses.fields(cls):
        options: dict[str, Any] = {"repr": f.repr, "compare": f.compare, "hash": f.hash}
        if f.default is not dataclasses.MISSING:
            options["default"] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            options["default_factory"] = f.default_factory
        specs.append((f.name, f.type, field(**options)))
    twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def test_the_record_types_are_made_by_frozen() -> None:
    names = {cls.__qualname__ for cls in _frozen_types()}
    assert {
        "Facts",
        "Episode",
        "ChemotherapyExposure",
        "FutureLiverRemnant",
        "PortalVeinEmbolisation",
        "ImagingRef",
        "RecistBaseline",
        "RecistTimepoint",
        "DemotedTarget",
        "Score",
        "Context",
        "Hit",
        "Rule",
        "Profile",
        "ProfileKey",
        "Finding",
        "Evaluation",
        "EngineChange",
        "Problem",
        "FieldSpec",
        "ChangeSet",
    } <= names, names


def _hash_or_refusal(value: Any) -> int | str:
    """The hash, or the refusal's message (a value holding a list has no hash)."""
    try:
        return hash(value)
    except TypeError as refused:
        return str(refused)


def _instances(value: Any, found: dict[int, Any]) -> None:
    """Every value object reachable from `value` (through fields, lists, tuples, dicts)."""
    if id(value) in found:
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found[id(value)] = value
        for f in dataclasses.fields(value):
            _instances(getattr(value, f.name), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _instances(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _instances(item, found)


def test_the_engine_values_of_every_golden_case_behave_as_dataclasses_would() -> None:
    """Each value the engine makes of the golden cases (facts, episode, scores, RECIST,
    findings, the evaluation), and the profile and the rules, against a twin made by
    `@dataclass(frozen=True)` with the same values: the same repr, hash, equality and
    signature."""
    from crlmboard.domain.caseformat import loads_case
    from crlmboard.domain.engine import RULES, evaluate
    from crlmboard.domain.engine.profile import PROFILE_KEYS
    from crlmboard.services.evaluation import default_profile

    golden = Path(__file__).parent / "golden"
    profile = default_profile()
    found: dict[int, Any] = {}
    for file in sorted(golden.glob("*.json")):
        if file.name.endswith(".expected.json"):
            continue
        case = loads_case(file.read_text("utf-8"), date(2026, 11, 24))
        evaluation = evaluate(case, date(2026, 11, 24), profile)
        _instances(evaluation, found)
        _instances(evaluation.facts, found)
    _instances((profile, RULES, PROFILE_KEYS), found)
    kinds = {type(value) for value in found.values()}
    assert len(kinds) >= 12, kinds
    twins = {cls: _twin(cls) for cls in kinds}
    for value in found.values():
        cls = type(value)
        twin = twins[cls](**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})
        assert repr(twin) == repr(value)
        assert str(inspect.signature(twins[cls])) == str(inspect.signature(cls))
        assert _hash_or_refusal(twin) == _hash_or_refusal(value)
        same = cls(**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})
        assert same == value
        assert not same != value  # noqa: SIM202  (__ne__ from __eq__)
        assert dataclasses.replace(value) == value
        if cls.__name__ in ("Facts", "Finding", "Profile", "ProfileKey", "Score"):
            assert pickle.loads(pickle.dumps(value)) == value
            assert copy.deepcopy(value) == value
