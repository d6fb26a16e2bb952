"""What a write changed, and the errors a person can act on.

Every mutating service call returns a `ChangeSet`; the UI's door turns it into one
"changes applied" signal that drives every refresh.  Kept apart from the Board so that every
service part (and the UI) can name it without importing the Board.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChangeSet:
    """What a mutating call changed, so a view refreshes only that.

    `cases` are MRNs; `meetings`, `reviews` and `follow_ups` are record ids; `settings`
    names the settings changed (profile, user…); `everything` says the whole database was
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


class BoardError(Exception):
    """A failure a person can act on; the message is a sentence that says what to do."""


class NotAllowed(BoardError, PermissionError):
    """The user's role does not allow this; the database refused it (or would)."""
