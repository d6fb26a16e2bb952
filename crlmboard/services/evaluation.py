"""The guideline engine as the app and the command line use it: profiles from files, the
current evaluation of a case, the rule catalogue, and `crlmboard evaluate FILE`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from crlmboard import packaged
from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import (
    DEFAULT_PROFILE_RESOURCE,
    ENGINE_VERSION,
    Evaluation,
    Profile,
    catalogue,
    catalogue_to_json,
    evaluate,
    evaluation_to_dict,
    evaluation_to_json,
    input_sha256,
    load_profile_text,
)
from crlmboard.domain.engine.history import EngineChange, engine_changes, needs_comparison
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.changes import ChangeSet

if TYPE_CHECKING:
    from crlmboard.store.repositories import CaseStamp, CaseSummary

log = logging.getLogger(__name__)

T = TypeVar("T")
REMEMBERED = 32  # evaluations of opened cases kept (a board's cases of a morning)

__all__ = [
    "EngineChange",
    "Evaluation",
    "Profile",
    "default_profile",
    "evaluate_case",
    "evaluate_file",
    "evaluation_document",
    "load_profile",
    "rule_catalogue",
    "rule_catalogue_json",
]


def default_profile() -> Profile:
    """The packaged institution profile."""
    text = packaged(DEFAULT_PROFILE_RESOURCE).read_text(encoding="utf-8")
    return load_profile_text(text, "default")


def load_profile(path: str | os.PathLike[str] | None) -> Profile:
    """A profile file (its name is the file's stem), or the default one."""
    if path is None or str(path) == "":
        return default_profile()
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(
            [Problem(str(source), f"cannot read the profile: {error.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput([Problem(str(source), "the profile is not UTF-8 text")]) from None
    try:
        return load_profile_text(text, source.stem)
    except InvalidInput as error:
        raise InvalidInput(
            [
                Problem(f"{source.name}: {p.path}" if p.path else source.name, p.message)
                for p in error.problems
            ]
        ) from None


def evaluate_case(case: Case, as_of: date, profile: Profile) -> Evaluation:
    return evaluate(case, as_of, profile)


def evaluation_document(case: Case, as_of: date, profile: Profile) -> dict[str, Any]:
    """The `crlmboard.evaluation/1` document of a case as plain data."""
    return evaluation_to_dict(evaluate(case, as_of, profile))


def evaluate_file(
    path: str | os.PathLike[str], as_of: date, profile_path: str | os.PathLike[str] | None = None
) -> str:
    """`crlmboard evaluate`: read one case file (no database) and return the JSON text."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput([Problem("", f"cannot read {source}: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise InvalidInput([Problem("", f"{source} is not UTF-8 text")]) from None
    profile = load_profile(profile_path)
    # the file is checked against the real date; as_of only chooses what the engine sees
    case = loads_case(text, max(date.today(), as_of))
    # one case in this process: its input hash through `canonical_json` (the same text)
    # costs less than making the engine's direct writers for it (B10)
    return evaluation_to_json(
        evaluate(case, as_of, profile), case_sha256=input_sha256(case, direct=False)
    )


def rule_catalogue(profile: Profile) -> list[dict[str, Any]]:
    return catalogue(profile)


def rule_catalogue_json(profile: Profile) -> str:
    return catalogue_to_json(profile)


class EvaluationService:
    """`board.evaluation`: the engine on the open database's cases, with the profile in force."""

    def __init__(self, today: Any, profile_path: str | os.PathLike[str] | None = None):
        self._today = today
        self.profile = load_profile(profile_path)
        self._remembered: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._profile_key: tuple[Profile | None, str] = (None, "")

    def use_profile(self, path: str | os.PathLike[str] | None) -> ChangeSet:
        """Switch to another institution profile (refused whole if it is invalid); the
        profile in force is then `profile`."""
        self.profile = load_profile(path)
        self.forget()
        return ChangeSet(settings=frozenset({"profile"}))

    def remembered(self, stamp: CaseStamp, compute: Callable[[], T]) -> T:
        """What `compute()` makes of a stored case's evaluation (its read model, the notes
        on older engines), made once per stored case and save (`stamp`: the row's id and
        creation time, the version and the time of its save — never the MRN alone), as-of
        date, engine version and profile (name, hash and every value); the last
        REMEMBERED are kept, and any save through this board forgets them all."""
        key = (stamp, self._today(), ENGINE_VERSION, self.profile)
        cache = self._remembered
        if key in cache:
            cache.move_to_end(key)
            found: T = cache[key]
            return found
        made = compute()
        cache[key] = made
        if len(cache) > REMEMBERED:
            cache.popitem(last=False)
        return made

    def forget(self) -> None:
        """Drop every remembered evaluation (a case was written)."""
        self._remembered.clear()

    def evaluate(self, case: Case, as_of: date | None = None) -> Evaluation:
        return evaluate(case, as_of or self._today(), self.profile)

    def document(self, case: Case, as_of: date | None = None) -> dict[str, Any]:
        """The `crlmboard.evaluation/1` document of a case, as of today unless told."""
        return evaluation_to_dict(self.evaluate(case, as_of))

    def catalogue(self) -> list[dict[str, Any]]:
        return catalogue(self.profile)

    def summary(self, case: Case) -> CaseSummary:
        """What the case list shows of a case: resectability and the engine's view as of
        today (stored with the case at every write)."""
        # the store is read here, not at import: `crlmboard evaluate` runs without it (B10)
        from crlmboard.store.repositories import CaseSummary

        plan = case.plan
        resectability = plan.resectability.value if plan and plan.resectability else None
        evaluation = self.evaluate(case)
        severities = [f.severity.value for f in evaluation.findings]
        return CaseSummary(
            resectability=resectability,
            current_response=evaluation.facts.current_response,
            open_warnings=severities.count("warning"),
            open_criticals=severities.count("critical"),
        )

    def engine_changes(self, case: Case) -> list[EngineChange]:
        """Signed reviews made with another engine version whose rules today's engine reads
        differently (shown on the case, never on the signed review)."""
        return engine_changes(case, self.profile)

    @property
    def profile_key(self) -> str:
        """What a stored comparison was made with besides the engine: a hash of the whole
        profile in force (its name, its file's hash and every value)."""
        profile = self.profile
        if self._profile_key[0] is not profile:
            self._profile_key = (profile, hashlib.sha256(repr(profile).encode()).hexdigest())
        return self._profile_key[1]

    def comparison(self, case: Case) -> list[EngineChange] | None:
        """`engine_changes` of a case to store with it; None when no review of it was
        signed with another engine (nothing to store: an open makes the empty list at
        once) or when the engine failed on it (logged; the open makes it again)."""
        if not needs_comparison(case):
            return None
        try:
            return self.engine_changes(case)
        except Exception:
            log.exception("engine comparison failed")
            return None

    def keep_comparison(self, session: Any, case: Case) -> None:
        """Store `case`'s comparison with the case just written in `session` (the write's
        own transaction, keyed by the case's new stamp): the first open of this save then
        reads it instead of running the engine once per older review."""
        self.store_comparison(session, case.mrn, self.comparison(case))

    def store_comparison(self, session: Any, mrn: str, changes: list[EngineChange] | None) -> None:
        """Store `changes` (made by `comparison` before the write, outside the writer
        lock) with case `mrn` just written in `session`; nothing for None."""
        from crlmboard.store import comparisons

        if changes is not None:
            comparisons.keep(
                session, mrn, ENGINE_VERSION, self.profile_key, [c.to_json() for c in changes]
            )
