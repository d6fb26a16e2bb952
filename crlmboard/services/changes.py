"""What a write changed, and the errors a person can act on.

Every call that changes the database (or the Board's settings) tells what it changed, so the
UI's door can turn it into one "changes applied" signal that drives every refresh:

- a write with nothing else to say returns the `ChangeSet` itself;
- a write that also produces something (the id of a new meeting, a case's new version, an
  import summary) returns a small frozen result dataclass naming it, with the change set in
  its `changes` field (`SavedCase`, `ImportedCase`, `NewMeeting`, `SignedReview`,
  `ImportSummary`, `FileImport`, `RestoreResult`…) — never a bare tuple;
- `changes_of(result)` gives the change set of either.

Reads, exports, PDFs and backups change nothing in the database and return what they read or
wrote.  Kept apart from the Board so that every service part (and the UI) can name these
without importing the Board.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ChangeSet:
    """What a mutating call changed, so a view refreshes only that.

    `cases` are MRNs (a renamed case names the old and the new one); `meetings` are meeting
    ids; `reviews` are the record ids of reviews signed; `follow_ups` are the record ids of
    the reviews whose follow-up was recorded; `settings` names the settings changed
    ("profile", "user", "backup_rotation"); `everything` says the whole database was
    replaced (restore, demo) and every view must reload.
    """

    cases: frozenset[str] = field(default_factory=frozenset)
    meetings: frozenset[int] = field(default_factory=frozenset)
    reviews: frozenset[int] = field(default_factory=frozenset)
    follow_ups: frozenset[int] = field(default_factory=frozenset)
    settings: frozenset[str] = field(default_factory=frozenset)
    everything: bool = False

    def __or__(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(
            self.cases | other.cases,
            self.meetings | other.meetings,
            self.reviews | other.reviews,
            self.follow_ups | other.follow_ups,
            self.settings | other.settings,
            self.everything or other.everything,
        )

    @property
    def empty(self) -> bool:
        return not (
            self.cases
            or self.meetings
            or self.reviews
            or self.follow_ups
            or self.settings
            or self.everything
        )

    @classmethod
    def of_cases(cls, *mrns: str) -> ChangeSet:
        return cls(cases=frozenset(mrns))

    @classmethod
    def all(cls) -> ChangeSet:
        """The whole database changed (a restore, a new demo)."""
        return cls(everything=True)


NO_CHANGE = ChangeSet()


@runtime_checkable
class Changed(Protocol):
    """A write's result that carries what it changed besides what it produced."""

    @property
    def changes(self) -> ChangeSet: ...


def changes_of(result: ChangeSet | Changed) -> ChangeSet:
    """The change set a write returned, whether bare or inside its result."""
    return result if isinstance(result, ChangeSet) else result.changes


class BoardError(Exception):
    """A failure a person can act on; the message is a sentence that says what to do."""


class NotAllowed(BoardError, PermissionError):
    """The user's role does not allow this; the database refused it (or would)."""
