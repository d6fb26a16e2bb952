"""What a rule is: its fixed metadata next to one small function over the derived facts.

Each group module (`data`, `regimen`, `pathway`, `timing`, `response`, `surgery`, `score`)
defines its rules with the `rule` decorator and lists them in `RULES`.  A rule function
receives a `Context` (facts, episode records, plan, profile, date) and returns a `Hit`
(message and the values it compared) or None.  Thresholds come only from `ctx.profile`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

from crlmboard.domain.engine.facts import Episode, Facts
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.models import Intent, SurgicalPlan
from crlmboard.frozen import frozen


class Severity(StrEnum):
    """How much a finding matters, most serious first."""

    CRITICAL = "critical"
    WARNING = "warning"
    ADVICE = "advice"
    INFO = "info"


SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.ADVICE: 2, Severity.INFO: 3}


@frozen
class Context:
    """Everything a rule may read."""

    as_of: date
    profile: Profile
    facts: Facts
    episode: Episode

    @property
    def plan(self) -> SurgicalPlan:
        return self.episode.plan

    @property
    def liver_background(self) -> str | None:
        background = self.episode.patient.liver_background
        return None if background is None else background.value

    @property
    def primary_site(self) -> str | None:
        primary = self.episode.primary
        return None if primary is None or primary.site is None else primary.site.value

    @property
    def curative(self) -> bool:
        """Curative intent: `plan.intent` curative or absent (absence never hides a warning)."""
        return self.plan.intent in (None, Intent.CURATIVE)


@frozen
class Hit:
    """A rule fired: its message (one or two sentences) and every value it compared."""

    message: str
    values: dict[str, Any]


Check = Callable[[Context], Hit | None]


@frozen
class Rule:
    """One guideline rule with its fixed metadata."""

    id: str
    severity: Severity
    title: str
    description: str
    profile_keys: tuple[str, ...]
    sources: tuple[str, ...]
    check: Check

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]


def rule(
    rule_id: str,
    severity: Severity,
    *,
    title: str,
    description: str,
    sources: tuple[str, ...],
    profile_keys: tuple[str, ...] = (),
) -> Callable[[Check], Rule]:
    """Declare a rule: metadata here, condition in the decorated function."""

    def wrap(check: Check) -> Rule:
        return Rule(rule_id, severity, title, description, profile_keys, sources, check)

    return wrap


def num(value: float | int | None) -> str:
    """A number as a person writes it: `26` for 26.0, `25.9`, `unknown` for None."""
    if value is None:
        return "unknown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def day(value: date | None) -> str:
    """A date as ISO text, `unknown` for None."""
    return "unknown" if value is None else value.isoformat()


def words(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
