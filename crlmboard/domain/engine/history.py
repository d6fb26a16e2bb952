"""Signed reviews and the engine of today: which findings a newer engine reads differently.

A signed review keeps the evaluation frozen in it, byte for byte, whatever engine made it.
When that engine is not today's, `engine_changes` re-evaluates the same case as of the same
date with today's engine and lists the rules that fire now but not then, and the other way
round, so the case (never the signed review) can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.engine.catalogue import ENGINE_VERSION
from crlmboard.domain.engine.evaluation import evaluate
from crlmboard.domain.engine.profile import Profile
from crlmboard.frozen import frozen


@frozen
class EngineChange:
    """One signed review whose findings today's engine reads differently."""

    review_index: int
    meeting_date: date
    signed_engine_version: str
    as_of: date
    rules_added: tuple[str, ...]
    """Rules today's engine gives that the signed evaluation did not."""
    rules_removed: tuple[str, ...]
    """Rules of the signed evaluation that today's engine no longer gives."""

    def text(self) -> str:
        """One or two sentences for the case page and the case summary."""
        parts = []
        if self.rules_added:
            parts.append("adds " + ", ".join(self.rules_added))
        if self.rules_removed:
            parts.append("no longer gives " + ", ".join(self.rules_removed))
        return (
            f"Review {self.review_index + 1} (meeting {self.meeting_date.isoformat()}) was "
            f"signed with guideline engine {self.signed_engine_version}. Engine "
            f"{ENGINE_VERSION}, on the same case as of {self.as_of.isoformat()}, "
            f"{' and '.join(parts)}. The signed review stays as it was."
        )

    def to_json(self) -> dict[str, Any]:
        """As stored with the case (`from_json` gives it back equal)."""
        return {
            "review_index": self.review_index,
            "meeting_date": self.meeting_date.isoformat(),
            "signed_engine_version": self.signed_engine_version,
            "as_of": self.as_of.isoformat(),
            "rules_added": list(self.rules_added),
            "rules_removed": list(self.rules_removed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineChange:
        return cls(
            review_index=int(data["review_index"]),
            meeting_date=date.fromisoformat(data["meeting_date"]),
            signed_engine_version=str(data["signed_engine_version"]),
            as_of=date.fromisoformat(data["as_of"]),
            rules_added=tuple(data["rules_added"]),
            rules_removed=tuple(data["rules_removed"]),
        )


def signed_engine_version(evaluation: Mapping[str, Any] | None) -> str | None:
    """The engine version a frozen evaluation names (None without one)."""
    if not isinstance(evaluation, Mapping):
        return None
    version = evaluation.get("engine_version")
    return str(version) if version else None


def _compared(review: Any) -> str | None:
    """The engine version of a signed review's frozen evaluation when it is not today's
    (the review is then compared with today's engine), else None."""
    frozen = review.evaluation
    version = signed_engine_version(frozen)
    if not review.signed or frozen is None or version is None or version == ENGINE_VERSION:
        return None
    return version


def needs_comparison(case: Case) -> bool:
    """Whether a review of the case was signed with another engine (only then does
    `engine_changes` run the engine; without one it is an empty list at once)."""
    return any(_compared(review) is not None for review in case.reviews)


def engine_changes(case: Case, profile: Profile) -> list[EngineChange]:
    """The signed reviews made with another engine whose rules today's engine reads
    differently, oldest first (the reviews themselves are never touched)."""
    changes: list[EngineChange] = []
    for index, review in enumerate(case.reviews):
        version = _compared(review)
        if version is None:
            continue
        frozen = review.evaluation
        assert frozen is not None
        try:
            as_of = date.fromisoformat(str(frozen.get("as_of")))
        except ValueError:
            as_of = review.meeting_date
        then = {
            str(f.get("rule"))
            for f in frozen.get("findings") or []
            if isinstance(f, Mapping) and f.get("rule")
        }
        now = set(evaluate(case, as_of, profile).rule_ids())
        if now == then:
            continue
        changes.append(
            EngineChange(
                review_index=index,
                meeting_date=review.meeting_date,
                signed_engine_version=version,
                as_of=as_of,
                rules_added=tuple(sorted(now - then)),
                rules_removed=tuple(sorted(then - now)),
            )
        )
    return changes
