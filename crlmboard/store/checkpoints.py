"""Checkpoints: the audit chain's head, signed with a key that is not in the database.

Anyone who can write the database file can rewrite the audit trail and recompute every
hash; they cannot make a checkpoint without the key.  A checkpoint is
`{"database_id", "seq", "hash", "at", "mac"}` with
`mac = HMAC-SHA256(key, "crlmboard-checkpoint/1|{database_id}|{seq}|{hash}|{at}")` (hex).
A restore writes a *restore mark* the same way (prefix `crlmboard-restore/1`): checkpoints
made before it describe the timeline the restore replaced.

Checkpoints are kept in backup manifests, in PDFs, with the key (the newest one) and in the
checkpoint file `<database file>.checkpoints` beside a SQLite database (JSON lines, 0600).
`verify` judges all of them against the chain: each must be authentic, the row at its seq
must exist with its hash, and no row may follow the newest one unsigned.

The key: `store/keys.py` (SQLite) or the server (PostgreSQL, migration 0008).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crlmboard.store.audit import GENESIS, AuditHead, format_time

CHECKPOINT = "crlmboard-checkpoint/1"
RESTORE = "crlmboard-restore/1"
UNSIGNED = "crlmboard-unsigned/1"  # rows up to `seq` were found unsigned at a save
RECOVERED = "crlmboard-recovered/1"  # rows up to `seq` signed at the open after a crash
SIDECAR_SUFFIX = ".checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    """A signed chain head (or, with kind RESTORE, the head right after a restore)."""

    database_id: str
    seq: int
    hash: str
    at: str  # UTC, audit time format
    mac: str
    kind: str = CHECKPOINT

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "database_id": self.database_id,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "mac": self.mac,
        }
        if self.kind != CHECKPOINT:
            data["kind"] = self.kind
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """A checkpoint from JSON data; ValueError when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("not a checkpoint")
        try:
            checkpoint = cls(
                database_id=str(data["database_id"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                at=str(data["at"]),
                mac=str(data["mac"]),
                kind=str(data.get("kind", CHECKPOINT)),
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("not a checkpoint") from None
        if checkpoint.kind not in KINDS or checkpoint.seq < 0:
            raise ValueError("not a checkpoint")
        return checkpoint

    def describe(self) -> str:
        what = {
            RESTORE: "restore mark",
            UNSIGNED: "unsigned-rows mark",
            RECOVERED: "recovery mark",
        }.get(self.kind, "checkpoint")
        return f"{what} of audit row {self.seq} ({self.at})"


KINDS = (CHECKPOINT, RESTORE, UNSIGNED, RECOVERED)


def message(kind: str, database_id: str, seq: int, hash_: str, at: str) -> bytes:
    return f"{kind}|{database_id}|{seq}|{hash_}|{at}".encode()


def sign(
    key: bytes,
    database_id: str,
    head: AuditHead | None,
    moment: datetime,
    kind: str = CHECKPOINT,
) -> Checkpoint:
    """The checkpoint of a chain head (an empty chain: row 0, the genesis hash)."""
    seq, hash_ = (0, GENESIS) if head is None else (head.seq, head.hash)
    at = format_time(moment)
    mac = hmac.new(key, message(kind, database_id, seq, hash_, at), hashlib.sha256).hexdigest()
    return Checkpoint(database_id, seq, hash_, at, mac, kind)


def authentic(key: bytes, checkpoint: Checkpoint) -> bool:
    expected = hmac.new(
        key,
        message(
            checkpoint.kind,
            checkpoint.database_id,
            checkpoint.seq,
            checkpoint.hash,
            checkpoint.at,
        ),
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(expected, checkpoint.mac)


# -- the checkpoint file beside a SQLite database ------------------------------------------


def sidecar_path(database: Path) -> Path:
    return database.with_name(database.name + SIDECAR_SUFFIX)


def append(database: Path, checkpoint: Checkpoint) -> None:
    """Add a checkpoint to the file beside the database (0600, appended, fsynced)."""
    path = sidecar_path(database)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (checkpoint.to_json() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def read_sidecar(database: Path) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of the file beside the database, and its lines that are not
    checkpoints (a damaged or edited file)."""
    path = sidecar_path(database)
    found: list[Checkpoint] = []
    bad: list[str] = []
    try:
        with path.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    found.append(Checkpoint.from_dict(json.loads(line)))
                except (ValueError, UnicodeDecodeError):
                    bad.append(f"line {number}")
    except FileNotFoundError:
        pass
    except OSError as error:
        bad.append(f"the file cannot be read ({error.strerror})")
    return found, bad


# -- verifying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A checkpoint and where it was found (for the report)."""

    checkpoint: Checkpoint
    source: str


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verified: int = 0
    newest: Found | None = None
    # the newest checkpoint the chain holds (authentic, its row there with its hash): the
    # rows up to it need no walk for a quick check (`check --since-checkpoint`)
    anchor: Found | None = None


def verify(
    found: Iterable[Found],
    *,
    database_id: str | None,
    key: bytes | None,
    head: AuditHead | None,
    hash_at: Callable[[int], str | None],
    key_place: str = "",
) -> Verdict:
    """Judge checkpoints against the chain (see the module docstring).  A checkpoint of
    another database is left out; without the key nothing can be judged (a warning)."""
    verdict = Verdict()
    ours = [f for f in found if database_id is not None and f.checkpoint.database_id == database_id]
    others = [f for f in found if f not in ours]
    if others:
        sources = sorted({f.source for f in others})
        verdict.warnings.append(
            f"{len(others)} checkpoint(s) name another database and were not used "
            f"({', '.join(sources[:3])}{', …' if len(sources) > 3 else ''})"
        )
    if not ours:
        return verdict
    if key is None:
        verdict.warnings.append(
            f"{len(ours)} checkpoint(s) of this database cannot be verified: its audit key is "
            f"not on this computer{f' (looked in {key_place})' if key_place else ''}"
        )
        return verdict
    good: list[Found] = []
    for item in ours:
        if authentic(key, item.checkpoint):
            good.append(item)
        else:
            verdict.problems.append(
                f"the {item.checkpoint.describe()} in {item.source} is not authentic: it was "
                "altered or forged"
            )
    restores = [f.checkpoint.at for f in good if f.checkpoint.kind == RESTORE]
    for item in good:
        checkpoint = item.checkpoint
        if any(
            at > checkpoint.at or (at == checkpoint.at and checkpoint.kind != RESTORE)
            for at in restores
        ):
            continue  # made before a restore replaced the chain after it (a restore mark
            # is the last thing a restore writes: a checkpoint of the same moment precedes it)
        if checkpoint.seq == 0:
            verdict.verified += 1
            continue
        if head is None or checkpoint.seq > head.seq:
            verdict.problems.append(
                f"audit rows after row {0 if head is None else head.seq} are missing: the "
                f"{checkpoint.describe()} in {item.source} records row {checkpoint.seq}"
            )
        elif hash_at(checkpoint.seq) != checkpoint.hash:
            verdict.problems.append(
                f"audit row {checkpoint.seq} is not the one the {checkpoint.describe()} in "
                f"{item.source} records: the audit trail was rewritten"
            )
        else:
            verdict.verified += 1
            if verdict.anchor is None or checkpoint.seq > verdict.anchor.checkpoint.seq:
                verdict.anchor = item
        if checkpoint.kind == RECOVERED:
            before = [
                f.checkpoint.seq
                for f in good
                if f.checkpoint.kind in (CHECKPOINT, RESTORE) and f.checkpoint.seq < checkpoint.seq
            ]
            first = max(before, default=0) + 1
            rows = f"row {first}" if first == checkpoint.seq else f"rows {first}–{checkpoint.seq}"
            verdict.warnings.append(
                f"audit {rows} were signed only when the database was next opened "
                f"({checkpoint.at}), after crlmboard had been stopped while saving; if no such "
                "stop is known, review them"
            )
        if checkpoint.kind == UNSIGNED:
            before = [
                f.checkpoint.seq
                for f in good
                if f.checkpoint.kind != UNSIGNED and f.checkpoint.seq < checkpoint.seq
            ]
            first = max(before, default=0) + 1
            rows = f"row {first}" if first == checkpoint.seq else f"rows {first}–{checkpoint.seq}"
            verdict.problems.append(
                f"audit {rows} were found unsigned at a save on {checkpoint.at} (the "
                f"{checkpoint.describe()} in {item.source}): they were added outside "
                "crlmboard (or crlmboard was stopped while saving)"
            )
            continue
        if verdict.newest is None or (checkpoint.seq, checkpoint.at) > (
            verdict.newest.checkpoint.seq,
            verdict.newest.checkpoint.at,
        ):
            verdict.newest = item
    return verdict


def unsigned_rows(newest: Checkpoint | None, head: AuditHead | None) -> str | None:
    """The problem when rows follow the newest checkpoint (crlmboard signs the head after
    every change it saves)."""
    if newest is None or head is None or head.seq <= newest.seq:
        return None
    first = newest.seq + 1
    rows = f"row {first}" if first == head.seq else f"rows {first}–{head.seq}"
    return (
        f"audit {rows} came after the newest checkpoint ({newest.at}) and are not signed: "
        "crlmboard signs the chain after every change it saves, so they were added outside "
        "crlmboard (or crlmboard was stopped while saving)"
    )
