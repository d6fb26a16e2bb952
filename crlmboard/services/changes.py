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
wrote.  The errors a service raises are here too, all of them `BoardError`s whose message is
a sentence for the person.  Kept apart from the Board so that every service part (and the
UI) can name these without importing the Board.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from crlmboard.frozen import frozen

if TYPE_CHECKING:
    from crlmboard.domain.case import Case
    from crlmboard.store.backup import BackupInfo


@frozen
class ChangeSet:
    """What a mutating call changed, so a view refreshes only that.

    `cases` are MRNs (a renamed case names the old and the new one); `meetings` are meeting
    ids; `reviews` are the record ids of reviews signed; `follow_ups` are the record ids of
    the reviews whose follow-up was recorded; `settings` names the settings changed
    ("profile", "user", "backup_rotation", "mrn_system"); `everything` says the whole database was
    replaced (restore, demo) and every view must reload; `drafts` are the agenda items whose
    review draft was stored or removed (no view reads anything again for it).
    """

    cases: frozenset[str] = field(default_factory=frozenset)
    meetings: frozenset[int] = field(default_factory=frozenset)
    reviews: frozenset[int] = field(default_factory=frozenset)
    follow_ups: frozenset[int] = field(default_factory=frozenset)
    settings: frozenset[str] = field(default_factory=frozenset)
    everything: bool = False
    drafts: frozenset[int] = field(default_factory=frozenset)

    def __or__(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(
            self.cases | other.cases,
            self.meetings | other.meetings,
            self.reviews | other.reviews,
            self.follow_ups | other.follow_ups,
            self.settings | other.settings,
            self.everything or other.everything,
            self.drafts | other.drafts,
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
            or self.drafts
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


class WriteStopped(BoardError):
    """A write could not be made for a reason that stops every later one too (a full disk,
    a read-only database, the writer lock held elsewhere): a folder import stops there."""


class DiskFull(WriteStopped):
    """The disk holding the database is full; the write was not stored."""


class Busy(WriteStopped):
    """Another program holds the database for writing."""


class ReadOnly(WriteStopped):
    """The database is open read-only here; nothing can be changed."""


class SignedReviewLocked(BoardError):
    """An edit tried to change or remove a signed review (refused and audited)."""


class DatabaseCorrupt(BoardError):
    """The database file is damaged; it was not opened."""

    def __init__(self, message: str, backup: BackupInfo | None = None):
        super().__init__(message)
        self.backup = backup


class CaseNotFound(BoardError, LookupError):
    """No case has this MRN."""


class CaseConflict(BoardError):
    """Someone saved the case after it was opened here: the refused edit (`mine`), what is
    stored now (`theirs`), both versions, and each field where they differ, both values."""

    def __init__(self, mine: Case, theirs: Case, expected_version: int, stored_version: int):
        self.mine = mine
        self.theirs = theirs
        self.expected_version = expected_version
        self.stored_version = stored_version
        self.differences = differences(theirs, mine)
        super().__init__(
            f"Case {theirs.mrn} was changed by someone else after you opened it (you opened "
            f"version {expected_version}; it is now version {stored_version}). Your edit was "
            "not saved. Reopen the case to see their changes, then make your edit again."
            + "".join(f"\n{line}" for line in self.differences)
        )


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(data, list):
        out = {}
        for index, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out or {prefix: "[]"}
    return {prefix: data}


def _record_of(key: str, other: dict[str, Any]) -> str:
    """The outermost record on `key`'s path that the other version lacks altogether (a
    review added by someone else is one difference, not one per field)."""
    for end, char in enumerate(key):
        if char in ".[" and end:
            prefix = key[:end]
            if not any(k == prefix or k.startswith((prefix + ".", prefix + "[")) for k in other):
                return prefix
    return key


def differences(theirs: Case, mine: Case, limit: int = 12) -> list[str]:
    """`path: theirs → yours` for each field where two versions of a case differ; a record
    only one of them has is one line (`reviews[2]: theirs present → yours absent`)."""
    from crlmboard.domain.caseformat import case_to_dict  # only when there is a conflict

    a, b = _flatten(case_to_dict(theirs)), _flatten(case_to_dict(mine))
    lines: list[str] = []
    seen: set[str] = set()
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        if key in a and key in b:
            lines.append(f"{key}: theirs {a[key]!s} → yours {b[key]!s}")
            continue
        here, other = (a, b) if key in a else (b, a)
        if here[key] == "[]" and any(k.startswith(key + "[") for k in other):
            continue  # an empty list where the other version has items: said by the items
        record = _record_of(key, other)
        if record in seen:
            continue
        seen.add(record)
        if record == key and not isinstance(here[key], (dict, list)) and here[key] != "[]":
            value = f"{here[key]!s}"
        else:
            value = "present"
        theirs_text, yours_text = (value, "absent") if key in a else ("absent", value)
        lines.append(f"{record}: theirs {theirs_text} → yours {yours_text}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"… and {len(lines) - limit} more"]
    return lines


class MeetingMissing(BoardError, LookupError):
    """No such meeting or agenda entry."""


class ReviewNotFound(BoardError, LookupError):
    """The case has no review with this number."""


class ReviewNotSigned(BoardError, ValueError):
    """A letter was asked for a review the board has not signed."""


class InputNotFound(BoardError, LookupError):
    """A file or folder to read does not exist."""


class DatabaseMissing(BoardError, LookupError):
    """There is no database where one was asked for; nothing was created.  `backup` is its
    newest verified backup, when it has one (then it must not be created anew)."""

    def __init__(self, message: str, backup: BackupInfo | None = None):
        super().__init__(message)
        self.backup = backup


class DatabaseExists(BoardError, ValueError):
    """`init` was asked for a location that already holds a database."""


class BadLocation(BoardError, ValueError):
    """A database location that is no file path or database URL, or a file that is not a
    crlmboard database (nothing was changed)."""


class BackupMissing(BoardError, LookupError):
    """There is no backup file where one was named."""


class OutputUnwritable(BoardError, ValueError):
    """A file asked for (`backup -o`) could not be written there."""


class OtherDatabase(BoardError, ValueError):
    """A restore was asked to put another database's backup in place (refused unless the
    caller says so explicitly)."""


class NotAllowed(BoardError, PermissionError):
    """The user's role does not allow this; the database refused it (or would)."""


class LoginRequired(BoardError):
    """The server wants a password (none was given, or PGPASSWORD/.pgpass had none)."""


class LoginFailed(BoardError):
    """The server refused the user name or password (or the login is disabled)."""


class PassphraseRequired(BoardError):
    """The database file is encrypted and no passphrase was given."""

    path = ""  # the encrypted file, as the message names it (when known)


class WrongPassphrase(BoardError):
    """The passphrase does not open the encrypted database (nothing was changed)."""

    path = ""  # the encrypted file, as the message names it
