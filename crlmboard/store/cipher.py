"""Turning a SQLite database (and its backups) into encrypted ones, and changing the
passphrase: each file is written as a verified copy that replaces the original only when
its content equals the original's (table hashes, audit head, patient count) and it passes
`integrity_check`, as a schema upgrade does.  A failure at any step leaves the original.

The caller holds the database's writer lock.  See `encryption` for how files are keyed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from crlmboard.store import backup, encryption
from crlmboard.store.database import (
    SQLITE_ERRORS,
    StoreError,
    connect_sqlite,
)
from crlmboard.store.integrity import integrity_check

COPY_MARK = ".encrypting-"


def _facts(path: Path, passphrase: str | None) -> dict[str, Any]:
    connection = connect_sqlite(path, read_only=True, passphrase=passphrase)
    try:
        return backup.database_facts(connection)
    finally:
        connection.close()


def _checkpoint(path: Path, passphrase: str | None) -> None:
    connection = connect_sqlite(path, wal=False, passphrase=passphrase)
    try:
        mode = str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode == "wal" and connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
            raise StoreError("The database is in use by another program; close it and try again.")
    finally:
        connection.close()


def _copy(path: Path, old: str | None, new: str, *, wal: bool) -> Path:
    """A verified copy of `path` (plain when `old` is None) encrypted with `new`."""
    copy = path.with_name(f"{path.name}{COPY_MARK}{os.getpid()}")
    _remove(copy)
    encryption.private_new_file(copy)
    try:
        source = encryption.open_source(path, old)
        try:
            encryption.export(source, copy, new)
        finally:
            source.close()
        connection = connect_sqlite(copy, wal=wal, passphrase=new)
        try:
            problems = integrity_check(connection)
            if problems:
                raise StoreError(f"the encrypted copy failed its integrity check: {problems[0]}")
            if wal:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                connection.execute("PRAGMA journal_mode = DELETE")
        finally:
            connection.close()
        if _facts(copy, new) != _facts(path, old):
            raise StoreError("the encrypted copy does not hold the same data")
        backup.fsync_path(copy)
    except BaseException:
        _remove(copy)
        raise
    return copy


def _swap(copy: Path, path: Path) -> None:
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        _remove(copy)
        raise StoreError("The database changed while it was encrypted; try again.")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    os.replace(copy, path)
    backup.fsync_path(path.parent)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _reseal(backup_file: Path) -> None:
    """A backup's manifest after its file was re-encrypted (same content, new bytes)."""
    manifest = backup.read_manifest(backup_file)
    if manifest is None:
        return
    manifest.update(
        size=backup_file.stat().st_size,
        sha256=backup.file_sha256(backup_file),
        encrypted=True,
    )
    backup.write_private_atomically(
        backup.manifest_path(backup_file),
        json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"),
    )


def encrypt_file(path: Path, passphrase: str) -> int:
    """Encrypt a plain database and every backup of it in its backups folder; returns the
    number of backups encrypted."""
    try:
        _checkpoint(path, None)
        _swap(_copy(path, None, passphrase, wal=True), path)
        encryption.remember(path, passphrase)
        done = 0
        for found in backup.list_backups(path, hash_files=False):
            if found.path.is_file() and not encryption.is_encrypted(found.path):
                _swap(_copy(found.path, None, passphrase, wal=False), found.path)
                _reseal(found.path)
                done += 1
    except SQLITE_ERRORS as error:
        raise StoreError(f"The database could not be encrypted: {error}") from None
    return done


def rekey_file(path: Path, old: str, new: str) -> int:
    """Give an encrypted database, and the backups of it encrypted with the same
    passphrase, a new passphrase; returns the number of backups changed.  Backups that
    `old` does not open are left as they are."""
    try:
        _checkpoint(path, old)
        _swap(_copy(path, old, new, wal=True), path)
        encryption.remember(path, new)
        done = 0
        for found in backup.list_backups(path, hash_files=False):
            if found.path.is_file() and encryption.opens(found.path, old):
                _swap(_copy(found.path, old, new, wal=False), found.path)
                _reseal(found.path)
                encryption.remember(found.path, new)
                done += 1
    except SQLITE_ERRORS as error:
        raise StoreError(f"The passphrase could not be changed: {error}") from None
    return done
