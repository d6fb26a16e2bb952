"""Where the database is, how connections are set up, and how a transaction starts.

SQLite connections get `busy_timeout` first, then `foreign_keys=ON` (asserted), WAL and
`synchronous=FULL`; writes start with `BEGIN IMMEDIATE` so two writers never deadlock
half-way.  Any SQLAlchemy URL works, PostgreSQL included; a plain path means a SQLite file.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crlmboard.store import encryption

BUSY_TIMEOUT_MS = 5000
# What either SQLite library (plain, or SQLCipher for an encrypted file) raises
SQLITE_ERRORS: tuple[type[Exception], ...] = encryption.errors()
SQLITE_DATABASE_ERRORS: tuple[type[Exception], ...] = encryption.database_errors()
_NO_SETTING_TABLE: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    encryption.cipher_module().OperationalError,
    sa.exc.OperationalError,
    sa.exc.ProgrammingError,
)
_WRITE = "crlmboard_write"


class StoreError(Exception):
    """A database problem a person can act on (message is a sentence)."""


def default_database_path() -> Path:
    """The per-user database file."""
    return Path(platformdirs.user_data_dir("crlmboard", appauthor=False)) / "crlmboard.sqlite3"


def database_url(where: str | os.PathLike[str] | None) -> str:
    """An SQLAlchemy URL for `--db`: a URL as given, a plain path as a SQLite file."""
    if where is None or str(where) == "":
        where = default_database_path()
    text = str(where)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_read_only_url(url: str) -> bool:
    """A SQLite URL that asks for read-only access (`file:...?mode=ro&uri=true`)."""
    return is_sqlite(url) and sa.make_url(url).query.get("mode") == "ro"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for memory or other back ends)."""
    if not is_sqlite(url):
        return None
    database = sa.make_url(url).database
    if database and database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return Path(database)


def read_only_medium(path: Path) -> bool:
    """The file lies on a medium mounted read-only (a CD, a write-protected stick, a
    read-only share): nothing can change it there."""
    try:
        return bool(os.statvfs(path.parent).f_flag & getattr(os, "ST_RDONLY", 1))
    except (OSError, AttributeError):
        return False


def has_wal_content(path: Path) -> bool:
    wal = Path(f"{path}-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def _read_only_uri(path: Path) -> str:
    """`file:` URI of a read-only connection.  On a read-only medium SQLite cannot create the
    -shm a WAL database needs even to read; there `immutable=1` (no locks, no -shm), which is
    safe exactly because nothing can write the file — unless a -wal holds changes (the file
    was not closed cleanly), which immutable would ignore: then plain `mode=ro`, which fails
    and the caller names the folder."""
    uri = f"file:{path}?mode=ro"
    if read_only_medium(path) and not has_wal_content(path):
        uri += "&immutable=1"
    return uri


def read_only_url(path: Path) -> str:
    return f"sqlite:///{_read_only_uri(path)}&uri=true"


def apply_pragmas(connection: sqlite3.Connection, *, wal: bool = True) -> None:
    """The connection set-up of reliability.md, for every SQLite connection the app makes
    (pool, Alembic, backup, check): `busy_timeout` first, `foreign_keys=ON` (asserted),
    WAL (when the file is writable) and `synchronous=FULL`."""
    connection.isolation_level = None
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
            raise StoreError("This SQLite library cannot enforce foreign keys.")
        if wal:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600), if there is none."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


class PassphraseNeeded(StoreError):
    """An encrypted database file whose passphrase this process does not know."""


def connect_sqlite(
    path: Path,
    *,
    read_only: bool = False,
    wal: bool = True,
    passphrase: str | None = None,
) -> sqlite3.Connection:
    """A DB-API connection with the app's pragmas (backups, checks).  `wal=False` leaves the
    file's journal mode as it is (a file that must not change, before an upgrade).

    An encrypted file (or one given a `passphrase`: a new encrypted file) is opened with
    SQLCipher, keyed with its passphrase (see `encryption`); the connection behaves as a
    sqlite3 one."""
    timeout = BUSY_TIMEOUT_MS / 1000
    if passphrase is None and encryption.is_encrypted(path):
        passphrase = encryption.known_passphrase(path)
        if passphrase is None:
            raise PassphraseNeeded(f"The database {path} is encrypted; its passphrase is needed.")
    connection: sqlite3.Connection
    if passphrase is not None:
        target = _read_only_uri(path) if read_only else str(path)
        connection = encryption.connect(target, passphrase, uri=read_only, timeout=timeout)
    elif read_only:
        connection = sqlite3.connect(
            _read_only_uri(path), uri=True, timeout=timeout, isolation_level=None
        )
    else:
        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        apply_pragmas(connection, wal=wal and not read_only)
    except BaseException:
        connection.close()
        raise
    return connection


def new_sqlite_file(path: Path, *, like: Path) -> sqlite3.Connection:
    """A connection to a new file (a backup or copy) encrypted as the database `like` is:
    with its passphrase, or plain."""
    passphrase = encryption.known_passphrase(like) if encryption.is_encrypted(like) else None
    if passphrase is None:
        return sqlite3.connect(path, isolation_level=None)
    connection: sqlite3.Connection = encryption.connect(path, passphrase)
    return connection


def create_database_engine(
    url: str, *, read_only: bool = False, password: str | None = None
) -> Engine:
    """An engine with the connection set-up of reliability.md.

    SQL parameters are left out of error messages, so a logged error never carries a name.
    A server `password` goes to the driver only, never into the URL (which may be shown).
    """
    if not is_sqlite(url):
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={} if password is None else {"password": password},
        )
    path = sqlite_path(url)
    read_only = read_only or is_read_only_url(url)
    passphrase = None
    if path is not None and encryption.is_encrypted(path):
        passphrase = encryption.known_passphrase(path)
        if passphrase is None:
            raise PassphraseNeeded(f"The database {path} is encrypted; its passphrase is needed.")
    if path is not None and read_only:
        url = read_only_url(path)
    elif path is not None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_private_file(path)
    target: str | sa.URL = url
    options: dict[str, Any] = {}
    if passphrase is not None:
        # SQLAlchemy's SQLCipher dialect keys each connection with the URL's password; the
        # URL object stays inside the engine (the Board's URL never holds it)
        made = sa.make_url(url)
        target = made.set(drivername="sqlite+pysqlcipher", password=passphrase)
        options["poolclass"] = sa.pool.QueuePool  # as for plain files (not one per thread)
        options["module"] = encryption.cipher_module()
    engine = sa.create_engine(
        target,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        hide_parameters=True,
        **options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Autocommit at the driver level, so the pragmas run outside a transaction
        # (foreign_keys is silently ignored inside one) and "begin" below owns BEGIN.
        apply_pragmas(dbapi_connection, wal=path is not None and not read_only)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(_WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
    with (
        Session(engine.execution_options(**{_WRITE: True}), expire_on_commit=False) as session,
        session.begin(),
    ):
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def sqlite_library_version() -> str:
    return sqlite3.sqlite_version


DATABASE_ID_KEY = "database_id"
_DATABASE_ID_SQL = "SELECT value FROM setting WHERE key = 'database_id'"


def database_id(source: Session | Engine | sa.Connection | sqlite3.Connection) -> str | None:
    """The id (UUID text) that names this database for good (migration 0006); None for a
    database without one (no schema yet, or older than 0006)."""
    try:
        if isinstance(source, Engine):
            with source.connect() as connection:
                return database_id(connection)
        if not isinstance(source, Session | sa.Connection):  # sqlite3, or SQLCipher's
            row = source.execute(_DATABASE_ID_SQL).fetchone()
            return None if row is None else str(row[0])
        value = source.execute(sa.text(_DATABASE_ID_SQL)).scalar()
    except _NO_SETTING_TABLE:
        return None  # no setting table: a database without a schema
    return None if value is None else str(value)
