"""Backups of a SQLite database: made, verified, listed, thinned and restored.

A backup is made with SQLite's online backup API (never a file copy) into a temporary file,
switched to a single-file journal, integrity-checked, fsynced and renamed into place; its
manifest (time, app and schema version, patient count, per-table content hashes, audit-chain
head, file hash) is written last, the same way.  A backup without a manifest, or whose file
no longer matches its manifest, is not verified: it is never offered as good and never
counts as kept.  Backups live in `backups/` beside the database (folder 0700, files 0600),
named `<database file name>-<UTC time>.sqlite3` with `<name>.manifest.json` beside.

Two databases may share a folder (`board.sqlite3`, `board.db`): a backup belongs to the
database whose id (migration 0006) its manifest names, and only to it.  Backups made before
there were ids (named `<database stem>-<UTC time>.sqlite3`, no id in the manifest) belong to
the database their manifest names by file name.
"""

from __future__ import annotations

import contextlib
import hashlib

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crlmboard.store.audit import GENESIS, AuditHead, ErasureLedger, row_hash
from crlmboard.store.database import (
    SQLITE_DATABASE_ERRORS,
    SQLITE_ERRORS,
    StoreError,
    connect_sqlite,
    create_private_file,
    database_id,
    new_sqlite_file,
)
from crlmboard.store.encryption import is_encrypted
from crlmboard.store.integrity import integrity_check
from crlmboard.store.lock import pid_alive

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "crlmboard.backup/1"
STAMP = "%Y%m%d-%H%M%S-%fZ"
KEEP_LAST = 10
KEEP_DAYS = 30
PAUSE_MARK = ".rotation-paused"


_UNREADABLE: tuple[type[Exception], ...] = (StoreError, *SQLITE_ERRORS)


class BackupFailed(StoreError):
    """A backup could not be made; older backups are left as they were."""


BACKUP_CANCELLED = "Backup cancelled: nothing written."


class BackupCancelled(StoreError):
    """A backup was stopped by its `progress` before it was complete: nothing of it was
    left, and older backups are as they were."""


def backup_dir(database: Path) -> Path:
    return database.parent / "backups"


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def private_dir(folder: Path) -> Path:
    """Create (or tighten) one of the app's own folders: 0700."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    return folder


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (folders: where the platform allows it)."""
    flags = os.O_RDONLY
    if path.is_dir():
        if os.name == "nt":  # pragma: no cover - Windows cannot fsync a folder
            return
        flags |= getattr(os, "O_DIRECTORY", 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_atomically(target: Path, data: bytes) -> None:
    """Write a 0600 file: temporary name, fsync, rename, fsync of the folder."""
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(target.parent)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- what a database holds -----------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    return value


TABLES_FORMAT = 2  # `tables_format` of content hashes made by `table_hashes`
PAGES_FORMAT = "pages/1"  # `tables_format` of the page hashes a backup's manifest holds


def _hashed_tables(connection: sqlite3.Connection) -> list[str]:
    """The tables whose content a manifest hashes.  Full-text indexes (virtual tables and
    their shadow tables, migration 0005) are left out: like the other indexes, they are
    derived from the tables."""
    return [
        str(r[0])
        for r in connection.execute(
            "SELECT name FROM sqlite_master AS t WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND NOT EXISTS (SELECT 1 FROM sqlite_master "
            "AS v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' "
            "AND t.name LIKE v.name || '!_%' ESCAPE '!') ORDER BY name"
        )
    ]


HASH_CHUNK = 20_000  # rows per statement


def table_hashes(connection: sqlite3.Connection) -> dict[str, str]:
    """A SHA-256 per table over its rows in rowid order, computed in bulk: SQLite renders
    each chunk of rows as one text (`quote` of every value, a blob as its length) and the
    blobs (long values stored compressed) are hashed as they are — no Python object per
    row.  (Format 2; `table_hashes_v1` is the per-row one older manifests used.)"""
    hashes = {}
    for name in _hashed_tables(connection):
        info = list(connection.execute(f'PRAGMA table_info("{name}")'))
        wide = [str(c[1]) for c in info if str(c[2]).upper() in ("TEXT", "JSON", "BLOB", "")]
        parts = [
            f"""CASE WHEN typeof("{c[1]}") = 'blob' THEN 'x' || length("{c[1]}") """
            f"""ELSE quote("{c[1]}") END"""
            if c[1] in wide
            else f'quote("{c[1]}")'
            for c in info
        ]
        line = " || ',' || ".join(parts) or "''"
        rows = (
            f"SELECT max(r), group_concat(line, char(10)) FROM (SELECT rowid AS r, {line} AS line "
            f'FROM "{name}" WHERE rowid > ? ORDER BY rowid LIMIT {HASH_CHUNK})'
        )
        blobs = (
            f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in wide)} FROM "{name}" '
            f"WHERE rowid > ? AND rowid <= ? AND ("
            + " OR ".join(f"""typeof("{c}") = 'blob'""" for c in wide)
            + ") ORDER BY rowid"
        )
        digest = hashlib.sha256()
        last = -(1 << 63)
        while True:
            top, text = connection.execute(rows, (last,)).fetchone()
            if top is None:
                break
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
            if wide:
                for values in connection.execute(blobs, (last, top)):
                    for value in values:
                        if isinstance(value, bytes):
                            digest.update(value)
            last = top
        hashes[name] = digest.hexdigest()
    return hashes


def page_owners(connection: sqlite3.Connection) -> tuple[int, dict[int, str]] | None:
    """The page size and the table owning each b-tree page of the hashed tables (SQLite's
    `dbstat`), or None where this SQLite has no `dbstat`."""
    names = set(_hashed_tables(connection))
    try:
        rows = connection.execute("SELECT name, pageno FROM dbstat WHERE aggregate = FALSE")
        owners = {int(page): str(name) for name, page in rows if name in names}
    except SQLITE_DATABASE_ERRORS:  # e.g. SQLCipher's build, which has no dbstat
        return None
    return int(connection.execute("PRAGMA page_size").fetchone()[0]), owners


def file_digests(
    path: Path, layout: tuple[int, dict[int, str]] | None
) -> tuple[str, dict[str, str] | None]:
    """One read of a database file (no -wal: a backup): its SHA-256 and, with `layout`
    (`page_owners`), a SHA-256 per table over its pages in file order.  Raw pages, no row
    read back into Python: a backup's manifest names its tables' content this way."""
    digest = hashlib.sha256()
    tables: dict[str, Any] | None = None
    if layout is not None:
        size, owners = layout
        tables = {name: hashlib.sha256() for name in set(owners.values())}
        page = 1
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
            if tables is not None:
                view = memoryview(block)
                for start in range(0, len(block), size):
                    owner = owners.get(page)
                    if owner is not None:
                        tables[owner].update(view[start : start + size])
                    page += 1
    if tables is None:
        return digest.hexdigest(), None
    return digest.hexdigest(), {name: d.hexdigest() for name, d in sorted(tables.items())}


def table_hashes_v1(connection: sqlite3.Connection) -> dict[str, str]:
    """The per-row table hashes of manifests without `tables_format` (before format 2)."""
    hashes = {}
    for name in _hashed_tables(connection):
        digest = hashlib.sha256()
        for row in connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
            digest.update(
                json.dumps(
                    [_json_value(v) for v in row], ensure_ascii=False, separators=(",", ":")
                ).encode("utf-8")
            )
            digest.update(b"\n")
        hashes[name] = digest.hexdigest()
    return hashes


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return (
        connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        is not None
    )


def schema_revision(connection: sqlite3.Connection) -> str | None:
    if not _has_table(connection, "alembic_version"):
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def patient_count(connection: sqlite3.Connection) -> int:
    if not _has_table(connection, "patient"):
        return 0
    return int(connection.execute("SELECT count(*) FROM patient").fetchone()[0])


def audit_head(connection: sqlite3.Connection) -> AuditHead | None:
    if not _has_table(connection, "audit_event"):
        return None
    row = connection.execute(
        "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return None if row is None else AuditHead(int(row[0]), str(row[1]))


def current_state(path: Path) -> tuple[AuditHead | None, int, str | None]:
    """The audit head, patient count and schema revision of a SQLite file."""
    connection = connect_sqlite(path, read_only=True)
    try:
        return audit_head(connection), patient_count(connection), schema_revision(connection)
    finally:
        connection.close()


def free_space(folder: Path) -> str:
    """The free space of a folder for a message (" (12.3 MB free)"), or "" if unknown."""
    return _free_space(folder)


def chain_verifies(connection: sqlite3.Connection) -> bool:
    """The audit chain of a backup verifies from the first row (a row erased by a recorded
    erasure counts as intact: see `audit.ErasureLedger`)."""
    if not _has_table(connection, "audit_event"):
        return True
    previous, expected = GENESIS, 1
    ledger = ErasureLedger()
    cursor = connection.execute("SELECT * FROM audit_event ORDER BY seq")
    names = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            values = dict(zip(names, row, strict=True))
            if values["seq"] != expected or values["prev_hash"] != previous:
                return False
            if row_hash(previous, values) == values["row_hash"]:
                ledger.intact(values["seq"], values)
            elif not ledger.tombstone(values["seq"], values):
                return False
            previous, expected = values["row_hash"], expected + 1
        return not ledger.unlisted()
    finally:
        cursor.close()


def database_facts(connection: sqlite3.Connection, *, tables: bool = True) -> dict[str, Any]:
    """Schema, patient count and audit head (and, with `tables`, content hashes per table:
    for a database without `dbstat`)."""
    head = audit_head(connection)
    facts: dict[str, Any] = {
        "schema": schema_revision(connection),
        "patients": patient_count(connection),
        "audit_head": None if head is None else head.as_dict(),
    }
    if tables:
        facts["tables"], facts["tables_format"] = table_hashes(connection), TABLES_FORMAT
    return facts


# -- manifests and listing -----------------------------------------------------------------


@dataclass(frozen=True)
class BackupInfo:
    """A backup file, its manifest, and whether it verified."""

    path: Path
    created: datetime | None
    patients: int | None
    schema: str | None
    reason: str | None
    audit_head: AuditHead | None
    verified: bool
    problem: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def read_manifest(backup: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(manifest_path(backup).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def _info(
    backup: Path, manifest: dict[str, Any] | None, verified: bool, problem: str | None
) -> BackupInfo:
    manifest = manifest or {}
    created = None
    with contextlib.suppress(KeyError, ValueError, TypeError):
        created = datetime.fromisoformat(manifest["created"])
    return BackupInfo(
        path=backup,
        created=created,
        patients=manifest.get("patients"),
        schema=manifest.get("schema"),
        reason=manifest.get("reason"),
        audit_head=AuditHead.from_dict(manifest.get("audit_head")),
        verified=verified,
        problem=problem,
        manifest=manifest,
    )


def verify_backup(backup: Path, *, deep: bool = False, hash_file: bool = True) -> BackupInfo:
    """Check a backup against its manifest.

    The usual check compares the file's size and SHA-256 with the manifest (without
    `hash_file`, only the size: for deciding whether a new backup is due); the deep one
    also opens it, runs integrity_check, verifies its audit chain and recomputes every
    table hash."""
    manifest = read_manifest(backup)
    if not backup.is_file():
        return _info(backup, manifest, False, "the file is missing")
    if manifest is None:
        return _info(backup, None, False, "it has no manifest (it was never completed)")
    try:
        if backup.stat().st_size != manifest.get("size") or (
            hash_file and file_sha256(backup) != manifest.get("sha256")
        ):
            return _info(backup, manifest, False, "the file changed since it was made")
    except OSError as error:
        return _info(backup, manifest, False, f"it cannot be read: {error.strerror}")
    if deep:
        problem = _deep_problem(backup, manifest)
        if problem:
            return _info(backup, manifest, False, problem)
    return _info(backup, manifest, True, None)


def _deep_problem(backup: Path, manifest: dict[str, Any]) -> str | None:
    try:
        connection = connect_sqlite(backup, read_only=True)
    except SQLITE_DATABASE_ERRORS as error:
        return f"it cannot be opened: {error}"
    try:
        problems = integrity_check(connection)
        if problems:
            return f"integrity_check failed: {problems[0]}"
        if not chain_verifies(connection):
            return "its audit chain does not verify"
        kind = manifest.get("tables_format")
        if kind == PAGES_FORMAT:
            found = file_digests(backup, page_owners(connection))[1]
        else:
            found = (table_hashes if kind == TABLES_FORMAT else table_hashes_v1)(connection)
        if found != manifest.get("tables"):
            return "its content does not match its manifest"
    except SQLITE_DATABASE_ERRORS as error:
        return f"it cannot be read: {error}"
    finally:
        connection.close()
    return None


def backup_stem(database: Path) -> str:
    """The start of the names of a database's backups (its whole file name, so that
    `board.sqlite3` and `board.db` never share one)."""
    return database.name + "-"


def file_database_id(database: Path) -> str | None:
    """The id of a SQLite file (None when it has none, is missing or cannot be read)."""
    if not database.is_file() or database.stat().st_size == 0:
        return None
    try:
        connection = connect_sqlite(database, read_only=True)
    except _UNREADABLE:  # damaged, or encrypted with a passphrase not known yet
        return None
    try:
        return database_id(connection)
    except _UNREADABLE:
        return None
    finally:
        connection.close()


def adopt_database_id(path: Path, value: str) -> bool:
    """Give a database without an id (a copy of a backup made before ids) the id `value`,
    so that restoring an old backup keeps the database's identity.  Returns whether it did."""
    connection = connect_sqlite(path, wal=False)
    try:
        if database_id(connection) is not None or not _has_table(connection, "setting"):
            return False
        connection.execute("INSERT INTO setting (key, value) VALUES ('database_id', ?)", (value,))
        return True
    finally:
        connection.close()


def list_backups(database: Path, *, hash_files: bool = True) -> list[BackupInfo]:
    """The backups of a database in its backups folder, newest first, each checked against
    its manifest (see `verify_backup`)."""
    found = [verify_backup(path, hash_file=hash_files) for path in _backups_of(database)]
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda b: (b.created or _stamp_time(b.path) or epoch, b.path.name), reverse=True)
    return found


def _stamp_time(path: Path) -> datetime | None:
    parts = path.name.removesuffix(".sqlite3").rsplit("-", 3)
    if len(parts) != 4:
        return None
    try:
        return datetime.strptime("-".join(parts[1:]), STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _backups_of(database: Path, own_id: str | None = None, *, read_id: bool = True) -> list[Path]:
    """The files of the backups folder that are backups of this database: named as its
    backups, and (from their manifest) made of the database with its id — or, for a
    backup without an id, or a database without one (missing, damaged), of a file of its
    name.  A file without a manifest counts by its name alone."""
    folder = backup_dir(database)
    if not folder.is_dir():
        return []
    if own_id is None and read_id:
        own_id = file_database_id(database)
    found = []
    for stem in dict.fromkeys((database.name, database.stem)):
        for path in folder.glob(f"{stem}-*.sqlite3"):
            if path.name.rsplit("-", 3)[0] != stem or _stamp_time(path) is None:
                continue
            manifest = read_manifest(path)
            if manifest is None:
                mine = stem == database.name
            elif manifest.get("database_id") and own_id is not None:
                mine = manifest["database_id"] == own_id
            else:
                mine = manifest.get("database") == database.name
            if mine:
                found.append(path)
    return found


def newest_verified(database: Path) -> BackupInfo | None:
    for info in list_backups(database):
        if info.verified:
            return info
    return None


# -- making one ----------------------------------------------------------------------------


def create_backup(
    database: Path,
    *,
    reason: str,
    now: datetime,
    app_version: str,
    destination: Path | None = None,
    progress: Callable[[int, int], object] | None = None,
    sign: Callable[[sqlite3.Connection], dict[str, Any] | None] | None = None,
    hold: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> BackupInfo:
    """Back up a SQLite database (online, while others may read and write it; the backup's
    own connection only reads).  `sign` makes the checkpoint of the copy's audit head for
    the manifest (services: it needs the key).

    The copy is one snapshot: a read transaction opened before the first page is copied
    and kept to the last (T24).  Without it, SQLite's backup restarts from the first page
    whenever another connection writes, and a database written to every few seconds would
    never finish copying.  `hold` (the writer lock) is held only while the snapshot is
    taken and signed — at that moment the newest checkpoint is of its head — not while
    the pages are copied: other processes' saves go on meanwhile.

    `progress(done, total)` hears of the pages copied after each step of the copy, and
    once more when the copy has passed its integrity check, before it is put in place.
    An answer of False (only False: None goes on) stops the backup there
    (`BackupCancelled`): the unfinished file is removed and nothing is put in place."""
    if destination is None:
        folder = private_dir(backup_dir(database))
        final = folder / f"{backup_stem(database)}{now.astimezone(UTC).strftime(STAMP)}.sqlite3"
    else:
        final = destination.expanduser().resolve()
        folder = final.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = folder / f".{final.name}.tmp-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    create_private_file(temporary)
    busy = _mark_in_progress(temporary)  # until the manifest is written
    try:
        try:
            source = connect_sqlite(database, read_only=True)  # a backup only reads
            try:
                checkpoint = None
                with hold() if hold is not None else contextlib.nullcontext():
                    source.execute("BEGIN")
                    source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot
                    if sign is not None:
                        checkpoint = sign(source)
                target = new_sqlite_file(temporary, like=database)
                try:
                    copied = [0, 0]  # pages done, pages in all

                    def step(_status: int, remaining: int, total: int) -> None:
                        copied[:] = [total - remaining, total]
                        if progress is not None and progress(*copied) is False:
                            raise BackupCancelled(BACKUP_CANCELLED)  # ends the copy

                    source.backup(target, pages=1024, progress=step)
                    target.execute("PRAGMA journal_mode = DELETE")
                    problems = integrity_check(target)
                    if problems:
                        raise BackupFailed(f"The backup failed its integrity check: {problems[0]}")
                    layout = page_owners(target)
                    facts = database_facts(target, tables=layout is None)
                    facts["database_id"] = database_id(target)
                    if checkpoint is not None:
                        facts["checkpoint"] = checkpoint
                    if progress is not None and progress(copied[1], copied[1]) is False:
                        raise BackupCancelled(BACKUP_CANCELLED)  # before it is put in place
                finally:
                    target.close()
            finally:
                source.close()  # ends the snapshot
            fsync_path(temporary)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{temporary}{suffix}").unlink(missing_ok=True)
            os.replace(temporary, final)
            fsync_path(folder)
        except SQLITE_ERRORS as error:
            _discard(temporary)
            full = "full" in str(error).lower()  # SQLITE_FULL: say how much room there is
            raise BackupFailed(
                f"The backup could not be made in {folder}: "
                + (f"the disk is full{_free_space(folder)}" if full else str(error))
            ) from None
        except OSError as error:
            _discard(temporary)
            raise BackupFailed(
                f"The backup could not be written to {folder}: "
                f"{error.strerror}{_free_space(folder)}"
            ) from None
        except BaseException:
            _discard(temporary)
            raise
        manifest = {
            "format": MANIFEST_FORMAT,
            "created": now.astimezone(UTC).isoformat(),
            "reason": reason,
            "database": database.name,
            "app_version": app_version,
            "sqlite_version": sqlite3.sqlite_version,
            "encrypted": is_encrypted(final),
            **facts,
            "file": final.name,
            "size": final.stat().st_size,
        }
        manifest["sha256"], pages = file_digests(final, layout)
        if pages is not None:
            manifest["tables"], manifest["tables_format"] = pages, PAGES_FORMAT
        try:
            write_private_atomically(
                manifest_path(final), json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            )
        except OSError as error:
            raise BackupFailed(
                f"The backup's manifest could not be written to {folder}: "
                f"{error.strerror}{_free_space(folder)}"
            ) from None
        return _info(final, manifest, True, None)  # its file was hashed just now
    finally:
        _unmark(busy)


def _discard(temporary: Path) -> None:
    """Remove an unfinished backup: its file and any journal SQLite left beside it."""
    for name in (str(temporary), *(f"{temporary}{s}" for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(OSError):
            Path(name).unlink(missing_ok=True)


def _free_space(folder: Path) -> str:
    try:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    except (OSError, AttributeError):
        return ""
    return f" ({free / 1e6:.1f} MB free)"


def cleanup_unfinished(database: Path) -> list[Path]:
    """Remove what an interrupted backup left: temporary files, and backup files whose
    manifest was never written.  Returns what was removed.

    A backup in progress is left alone: a command's backup copies its pages without the
    writer lock (`create_backup`), so another process may open the database meanwhile.  Its
    file carries an advisory lock (`flock`) until the manifest is written; where there is
    no `flock`, a temporary file naming a live process is left."""
    folder = backup_dir(database)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    candidates = list(folder.glob(f".{backup_stem(database)}*.tmp-*")) + [
        path
        for path in _backups_of(database, read_id=False)
        if not manifest_path(path).exists() and path.name.startswith(backup_stem(database))
    ]
    for path in candidates:
        if _in_progress(path):
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:  # open elsewhere (Windows), or a folder that cannot be written
            continue
        removed.append(path)
    return removed


def _mark_in_progress(path: Path) -> int | None:
    """An advisory lock on a backup being made (kept through its rename)."""
    if fcntl is None:  # pragma: no cover - Windows: the temporary file names the process
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _unmark(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # releases the lock


def _in_progress(path: Path) -> bool:
    """Whether another process is making this backup file now."""
    if fcntl is None:  # pragma: no cover - Windows
        pid = path.name.rsplit(".tmp-", 1)[-1] if ".tmp-" in path.name else ""
        return pid.isdigit() and pid_alive(int(pid))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


# -- thinning ------------------------------------------------------------------------------


def to_keep(
    backups: Iterable[BackupInfo], now: datetime, *, last: int = KEEP_LAST, days: int = KEEP_DAYS
) -> set[Path]:
    """The verified backups retention keeps: the newest `last`, the newest of each UTC day
    of the last `days` days, the newest of each of the `days` + 1 most recent days that have
    a backup (the same count: the newest day and the `days` before it; so a clock jumping
    forward, or a long absence, does not retire them all at once: T23), and any dated after
    `now` (the clock may have gone back)."""
    verified = sorted(
        (b for b in backups if b.verified and b.created is not None),
        key=lambda b: b.created or now,
        reverse=True,
    )
    keep = {b.path for b in verified[:last]}
    cutoff = now - timedelta(days=days)
    seen_days: set[Any] = set()
    for b in verified:
        assert b.created is not None
        if b.created > now:
            keep.add(b.path)
            continue
        day = b.created.astimezone(UTC).date()
        if day in seen_days:
            continue
        seen_days.add(day)  # the newest backup of its day (newest first)
        if b.created >= cutoff or len(seen_days) <= days + 1:
            keep.add(b.path)
    return keep


def prune(database: Path, now: datetime) -> list[Path]:
    """Delete verified backups retention does not keep (never one that failed
    verification unless it is older than the retention period).  Paused while a restore
    waits for confirmation.  Returns the deleted files."""
    if rotation_paused(database):
        return []
    backups = list_backups(database)
    if not any(b.verified for b in backups):
        return []
    keep = to_keep(backups, now)
    cutoff = now - timedelta(days=KEEP_DAYS)
    removed = []
    for b in backups:
        if b.path in keep:
            continue
        if not b.verified and (b.created is None or b.created >= cutoff):
            continue
        b.path.unlink(missing_ok=True)
        manifest_path(b.path).unlink(missing_ok=True)
        removed.append(b.path)
    return removed


def pause_path(database: Path) -> Path:
    return backup_dir(database) / (database.name + PAUSE_MARK)


def _legacy_pause_path(database: Path) -> Path:
    return backup_dir(database) / (database.stem + PAUSE_MARK)


def rotation_paused(database: Path) -> bool:
    return pause_path(database).exists() or _legacy_pause_path(database).exists()


def pause_rotation(database: Path, reason: str) -> None:
    private_dir(backup_dir(database))
    write_private_atomically(pause_path(database), reason.encode("utf-8"))


def resume_rotation(database: Path) -> None:
    pause_path(database).unlink(missing_ok=True)
    _legacy_pause_path(database).unlink(missing_ok=True)


# -- restoring -----------------------------------------------------------------------------


def corrupt_name(database: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return database.with_name(f"{database.name}.corrupt-{stamp}")


def restore_file(
    backup: Path, database: Path, finish: Callable[[Path], object] | None = None
) -> None:
    """Put a backup's content in place of `database` with one atomic rename.

    `finish(copy)` completes the restored copy before the rename (the services upgrade it
    and append the `restore` audit row there, so the row comes with the swap).  The caller
    has checkpointed the current database (or moved its -wal aside): a -wal with content
    would be applied to the restored file, so it is refused.  Either the old or the new
    database is in place at every moment."""
    if is_encrypted(database) and not is_encrypted(backup):
        raise BackupFailed(
            f"The backup {backup.name} is not encrypted and the database is: restoring it "
            "would leave the patients' data unencrypted. Nothing was changed."
        )
    temporary = database.with_name(f".{database.name}.restoring-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    create_private_file(temporary)
    try:
        source = connect_sqlite(backup, read_only=True)
        try:
            target = new_sqlite_file(temporary, like=backup)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
                problems = integrity_check(target)
                if problems:
                    raise BackupFailed(
                        f"The restored copy failed its integrity check: {problems[0]}"
                    )
            finally:
                target.close()
        finally:
            source.close()
        Path(f"{temporary}-journal").unlink(missing_ok=True)
        if finish is not None:
            finish(temporary)
        fsync_path(temporary)
        wal = Path(f"{database}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise BackupFailed(
                "The database is still in use (its -wal file holds changes); "
                "close other programs using it and restore again."
            )
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, database)
        fsync_path(database.parent)
    except SQLITE_ERRORS as error:
        raise BackupFailed(f"The backup {backup.name} could not be restored: {error}") from None
    finally:
        temporary.unlink(missing_ok=True)
