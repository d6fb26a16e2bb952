"""Signing the audit chain's head with the database's key (AUDIT-DESIGN.md): after every
committed save, at close, in backups' manifests, and the marks a restore or a stop leaves.

Called by services/database.py and services/maintenance.py, which write no SQL themselves.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crlmboard.store import audit, checkpoints, keys
from crlmboard.store.audit import AuditHead
from crlmboard.store.database import database_id as store_database_id
from crlmboard.store.database import read_session

log = logging.getLogger(__name__)

# -- checkpoints -----------------------------------------------------------------------------


HEAD = -1  # `sign_head(after=HEAD)`: nothing was written since the newest checkpoint


def sign_head(
    engine: Engine,
    path: Path | None,
    moment: datetime,
    *,
    after: int | None = None,
    to_file: bool = False,
    kind: str = checkpoints.CHECKPOINT,
) -> checkpoints.Checkpoint | None:
    """Sign the chain head of a SQLite database (with the writer lock held): kept as the
    newest checkpoint with the key, and (`to_file`) appended to the checkpoint file beside
    the database.

    `after`: the row our transaction followed.  Rows between the newest checkpoint and it
    were not signed by crlmboard; signing the head would bless them, so an *unsigned* mark
    naming them goes to the checkpoint file and the key store first (and `check` reports
    it).  A newest checkpoint the chain no longer matches is kept in the file likewise.
    A checkpoint that cannot be written is logged, never fails the save."""
    if path is None:
        return None
    try:
        database_id = store_database_id(engine)
        if database_id is None:  # a database older than its id (upgraded at its next open)
            return None
        key = keys.key_for(database_id)
        with read_session(engine) as session:
            head = audit.read_head(session)
            if after == HEAD:
                after = 0 if head is None else head.seq
            previous = latest(database_id, key)
            if previous is not None and after is not None:
                _keep_evidence(session, path, key, database_id, previous, after, moment)
        checkpoint = checkpoints.sign(key, database_id, head, moment, kind)
        keys.save_latest(database_id, checkpoint.to_json())
        if to_file:
            checkpoints.append(path, checkpoint)
    except (OSError, keys.KeyringUnavailable, sqlite3.Error, OperationalError) as error:
        log.error("the audit checkpoint could not be written: %s", type(error).__name__)
        return None
    return checkpoint


def latest(database_id: str, key: bytes) -> checkpoints.Checkpoint | None:
    text = keys.load_latest(database_id)
    if text is None:
        return None
    try:
        found = checkpoints.Checkpoint.from_dict(json.loads(text))
    except ValueError:
        return None
    if found.database_id != database_id or not checkpoints.authentic(key, found):
        return None
    return found


def pending_restore_mark(engine: Engine, moment: datetime) -> None:
    """On a restored copy, before the swap: its restore mark, kept aside with the key (a
    kill right after the swap must not leave the restore unsigned)."""
    try:
        database_id = store_database_id(engine)
        if database_id is None:
            return
        with read_session(engine) as session:
            head = audit.read_head(session)
        mark = checkpoints.sign(
            keys.key_for(database_id), database_id, head, moment, checkpoints.RESTORE
        )
        keys.save_pending(database_id, mark.to_json())
    except (OSError, keys.KeyringUnavailable, sqlite3.Error, OperationalError) as error:
        log.error("the restore mark could not be made: %s", type(error).__name__)


def promote_restore_mark(engine: Engine, path: Path) -> bool:
    """After a restore's swap (or at the open after one was killed): the pending restore
    mark, if the chain holds its row, becomes the newest checkpoint and goes to the
    checkpoint file.  Returns whether it did."""
    try:
        database_id = store_database_id(engine)
        text = None if database_id is None else keys.load_pending(database_id)
        if database_id is None or not text:
            return False
        key = keys.load_key(database_id)
        mark = checkpoints.Checkpoint.from_dict(json.loads(text))
        with read_session(engine) as session:
            matches = audit.hash_at(session, mark.seq) == mark.hash
        if key is None or not checkpoints.authentic(key, mark) or not matches:
            keys.clear_pending(database_id)  # the swap did not happen
            return False
        checkpoints.append(path, mark)
        keys.save_latest(database_id, mark.to_json())
        keys.clear_pending(database_id)
        return True
    except (OSError, ValueError, keys.KeyringUnavailable, sqlite3.Error, OperationalError) as e:
        log.error("the restore mark could not be kept: %s", type(e).__name__)
        return False


def recover_unsigned(engine: Engine, path: Path, moment: datetime) -> None:
    """After crlmboard was stopped without closing (the lock was taken over): rows after
    the newest checkpoint are most likely its last save, committed but not yet signed.
    They are signed with a *recovery* mark, which `check` names as a warning."""
    try:
        database_id = store_database_id(engine)
        key = None if database_id is None else keys.load_key(database_id)
        if database_id is None or key is None:
            return
        previous = latest(database_id, key)
        with read_session(engine) as session:
            head = audit.read_head(session)
            if (
                previous is None
                or head is None
                or head.seq <= previous.seq
                or (previous.seq > 0 and audit.hash_at(session, previous.seq) != previous.hash)
            ):
                return
        mark = checkpoints.sign(key, database_id, head, moment, checkpoints.RECOVERED)
        checkpoints.append(path, mark)
        keys.save_latest(database_id, mark.to_json())
        log.warning("audit rows left unsigned by a stopped crlmboard were signed at open")
    except (OSError, keys.KeyringUnavailable, sqlite3.Error, OperationalError) as error:
        log.error("the audit chain could not be signed after a stop: %s", type(error).__name__)


def _keep_evidence(
    session: Session,
    path: Path,
    key: bytes,
    database_id: str,
    previous: checkpoints.Checkpoint,
    after: int,
    moment: datetime,
) -> None:
    """Before the newest checkpoint is replaced: keep it in the file if the chain no longer
    matches it, and mark rows it does not cover that our transaction followed."""
    if previous.seq > after or (
        previous.seq > 0 and audit.hash_at(session, previous.seq) != previous.hash
    ):
        checkpoints.append(path, previous)
        log.error("the audit chain no longer matches its newest checkpoint")
    elif previous.seq < after:
        found = audit.hash_at(session, after)
        if found is not None:
            mark = checkpoints.sign(
                key, database_id, AuditHead(after, found), moment, checkpoints.UNSIGNED
            )
            checkpoints.append(path, mark)
            keys.save_unsigned(database_id, mark.to_json())
            log.error("audit rows not signed by crlmboard were found before a save")


def backup_signer(database: Path) -> Callable[[sqlite3.Connection], dict[str, object] | None]:
    """What `create_backup` calls for the manifest's checkpoint: the newest checkpoint,
    when the copy's chain holds that row with that hash (a backup never signs anything
    itself: it would bless rows crlmboard did not write).  Also kept in the checkpoint
    file."""

    def sign(connection: sqlite3.Connection) -> dict[str, object] | None:
        database_id = store_database_id(connection)
        if database_id is None:
            return None
        try:
            key = keys.load_key(database_id)
            newest = None if key is None else latest(database_id, key)
            if newest is None:
                return None
            found = connection.execute(
                "SELECT row_hash FROM audit_event WHERE seq = ?", (newest.seq,)
            ).fetchone()
            if newest.seq > 0 and (found is None or found[0] != newest.hash):
                log.error("the backup's audit chain does not hold the newest checkpoint")
                return None
            checkpoints.append(database, newest)
        except (OSError, keys.KeyringUnavailable) as error:
            log.error("the backup's checkpoint could not be kept: %s", type(error).__name__)
            return None
        return newest.as_dict()

    return sign


def server_checkpoint(engine: Engine) -> checkpoints.Checkpoint:
    """PostgreSQL: the head signed by the server (`crlmboard_checkpoint()`, migration 0008:
    the key never leaves it)."""
    with read_session(engine) as session:
        data = session.execute(sa.text("SELECT crlmboard_checkpoint()")).scalar()
    return checkpoints.Checkpoint.from_dict(data)


def server_verifies(engine: Engine, checkpoint: checkpoints.Checkpoint) -> bool:
    """PostgreSQL: whether the server's key made this checkpoint."""
    with read_session(engine) as session:
        return bool(
            session.execute(
                sa.text("SELECT crlmboard_verify_checkpoint(:d, :s, :h, :a, :m, :k)"),
                {
                    "d": checkpoint.database_id,
                    "s": checkpoint.seq,
                    "h": checkpoint.hash,
                    "a": checkpoint.at,
                    "m": checkpoint.mac,
                    "k": checkpoint.kind,
                },
            ).scalar()
        )


def verify_now(
    engine: Engine, found: list[checkpoints.Found], database_id: str, key: bytes | None
) -> tuple[checkpoints.Verdict, AuditHead | None]:
    """The chain against the checkpoints found, with the head read now from a connection
    of its own (a save may have been signed since a check's snapshot was taken)."""
    with engine.connect() as fresh:
        head = audit.read_head(fresh)

        def hash_at(seq: int) -> str | None:
            return audit.hash_at(fresh, seq)

        verdict = checkpoints.verify(
            found,
            database_id=database_id,
            key=key,
            head=head,
            hash_at=hash_at,
            key_place=keys.where(),
        )
    return verdict, head
