"""Where the database is, how connections are set up, and how a transaction starts.

SQLite connections get `busy_timeout` first, then `foreign_keys=ON` (asserted), WAL and
`synchronous=FULL`; writes start with `BEGIN IMMEDIATE` so two writers never deadlock
half-way.  Any SQLAlchemy URL works, PostgreSQL included; a plain path means a SQLite file.
The services write through `audited_write` and `SharedTransaction`, which flush the audit
rows and turn the driver's errors into `WriteFailed`, so no layer above this one needs
SQLAlchemy; `Engine` and `Session` are named here for their type hints.
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
from sqlalchemy.engine import Engine as Engine
from sqlalchemy.orm import Session as Session

from crlmboard.store import audit, encryption

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


class WriteFailed(StoreError):
    """A write the database did not complete.  `kind` says why: `busy` (another writer held
    it too long), `full` (the disk), `read_only`, `refused` (a constraint) or `other`;
    `reason` is the driver's own words."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _kind(text: str) -> str:
    low = text.lower()
    if "full" in low:
        return "full"
    if "readonly" in low.replace(" ", "") or "read-only" in low:
        return "read_only"
    if "locked" in low or "busy" in low:
        return "busy"
    return "other"


@contextmanager
def translated_errors() -> Iterator[None]:
    """The driver's write errors as `WriteFailed`."""
    try:
        yield
    except sa.exc.IntegrityError as error:
        raise WriteFailed("refused", str(error.orig)) from error
    except sa.exc.OperationalError as error:
        raise WriteFailed(_kind(str(error)), str(error.orig)) from error
    except sa.exc.ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) == "42501":  # insufficient_privilege
            raise WriteFailed("denied", first_line(error)) from error
        raise


def first_line(error: Exception) -> str:
    """The server's own one-line message for a driver error."""
    original = getattr(error, "orig", None) or error
    diag = getattr(original, "diag", None)
    text = str(getattr(diag, "message_primary", None) or original).splitlines()[0].strip()
    return text + ("" if text.endswith(".") else ".")


class LoginRequired(StoreError):
    """The server wants a password (none was given, or PGPASSWORD/.pgpass had none)."""


class LoginFailed(StoreError):
    """The server refused the user name or password (or the login is disabled)."""


class SchemaNotOwned(StoreError):
    """The schema needs an upgrade this login may not make."""


def server_engine(url: str, password: str | None) -> Engine:
    """An engine for a PostgreSQL server that has let the person log in (else a clear
    LoginRequired or LoginFailed)."""
    engine = create_database_engine(url, password=password)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        text = str(error.orig)
        where = describe_url(url)
        if "no password supplied" in text:
            raise LoginRequired(f"The server {where} asks for a password.") from None
        if "authentication failed" in text or "not permitted to log in" in text:
            raise LoginFailed(
                f"The server {where} refused the login: wrong user name or password, "
                "or the user is disabled."
            ) from None
        raise
    return engine


def is_permission_error(error: BaseException) -> bool:
    """A server refusal for lack of privilege (or of ownership)."""
    text = str(getattr(error, "orig", error))
    return isinstance(error, sa.exc.DBAPIError) and (
        "permission denied" in text or "must be owner" in text
    )


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


WAL_SIZE_LIMIT = 1024 * 1024  # bytes; checkpoints happen at 1,000 pages (4 MB) as SQLite sets


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
        # once a checkpoint can restart the -wal (no reader holds it any more), cut it back
        # to this size: a long reader must not leave it large all day (T11)
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
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
def audited_write(engine: Engine, actor: audit.Actor, clock: Any) -> Iterator[Session]:
    """One write transaction by `actor` (its audit rows flushed before the commit); the
    driver's errors come out as `WriteFailed`."""
    with translated_errors(), write_session(engine) as session:
        session.info["actor"] = actor
        session.info["clock"] = clock
        yield session
        audit.flush_session(session)


class SharedTransaction:
    """One write transaction that several writes share, each in a savepoint of its own (all
    or nothing, its audit rows with it), committed or rolled back as a whole."""

    def __init__(self, engine: Engine, actor: audit.Actor, clock: Any):
        self._context = write_session(engine)
        with translated_errors():
            self.session = self._context.__enter__()
        self.session.info["actor"] = actor
        self.session.info["clock"] = clock

    @contextmanager
    def savepoint(self) -> Iterator[Session]:
        session = self.session
        try:
            with translated_errors(), session.begin_nested():
                yield session
                audit.flush_session(session)
        except BaseException:
            audit.forget(session)  # its audit rows were rolled back with it
            raise

    def commit(self) -> None:
        with translated_errors():
            self._context.__exit__(None, None, None)

    def rollback(self, error: BaseException | None = None) -> None:
        with suppress(Exception):
            if error is None:
                error = RuntimeError("rolled back")
            self._context.__exit__(type(error), error, error.__traceback__)


class DataVersion:
    """Whether another connection committed since the last look: SQLite's `PRAGMA
    data_version`, read on one connection kept open for it (the number is that
    connection's own; it changes when any other connection, in any process, commits).  A
    read-only app follows the app that holds the writer lock with it, for the price of
    one pragma per look."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Any = None
        self._seen: int | None = None

    def _read(self) -> int:
        if self._connection is None:
            self._connection = self.engine.raw_connection()
        cursor = self._connection.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def changed(self) -> bool:
        """True when another connection committed since the last call (the first call
        only takes the starting point)."""
        now = self._read()
        seen, self._seen = self._seen, now
        return seen is not None and now != seen

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):
                connection.close()


def checkpoint(engine: Engine) -> None:
    """Fold a SQLite file's write-ahead log back into it (nothing on other back ends)."""
    if engine.dialect.name != "sqlite":
        return
    with suppress(Exception), engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def checkpoint_file(path: Path) -> None:
    """`checkpoint` for a SQLite file no engine has open."""
    connection = connect_sqlite(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def describe_url(url: str) -> str:
    """A database as a person would name it: the file's path, or the URL without password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return sa.make_url(url).render_as_string(hide_password=True)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Any]:
    """A read-only unit of work on a SQLite pool connection's own DBAPI connection: BEGIN
    … COMMIT around the caller's statements (one snapshot), with no SQLAlchemy session or
    connection around them (an open's read: issue 21, B3).  The connection goes back to
    the pool with no transaction open."""
    assert engine.dialect.name == "sqlite"
    pooled = engine.raw_connection()
    try:
        raw: Any = pooled.driver_connection
        raw.execute("BEGIN")
        try:
            yield raw
        except BaseException:
            with suppress(Exception):  # (the connection may be what failed)
                raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    finally:
        pooled.close()


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


def valid_url(where: str | os.PathLike[str] | None) -> str:
    """The URL of a database location; ValueError naming why when it is none."""
    try:
        url = database_url(where)
        sa.make_url(url).get_dialect()
    except (RuntimeError, ValueError, ImportError, sa.exc.ArgumentError) as error:
        raise ValueError(str(error)) from None
    return url


def table_count(path: Path) -> int:
    """How many tables a SQLite file holds (0: a blank database)."""
    connection = connect_sqlite(path, read_only=True)
    try:
        return int(
            connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        )
    finally:
        connection.close()


def patients_and_setting(
    path: Path, key: str
) -> tuple[list[tuple[str, str | None, str | None, str | None]], str | None]:
    """Of a SQLite file read-only: every patient's (MRN, family name, given name, birth date)
    and the value of one setting.  StoreError when it cannot be read or is not a crlmboard
    database."""
    try:
        connection = connect_sqlite(path, read_only=True)
    except sqlite3.Error as error:
        raise StoreError(f"it cannot be read ({error})") from None
    try:
        rows = connection.execute(
            "SELECT mrn, family_name, given_name, birth_date FROM patient"
        ).fetchall()
        value = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        raise StoreError("it is not a crlmboard database") from None
    finally:
        connection.close()
    return [tuple(r) for r in rows], None if value is None else str(value[0])


def url_login(url: str) -> str | None:
    """The user name a database URL names."""
    return sa.make_url(url).username


def url_with_login(url: str, user: str) -> str:
    """The URL with this user name and without any password in it."""
    made = sa.make_url(url).set(username=user, password=None)
    return made.render_as_string(hide_password=False)


def url_account(url: str) -> str:
    """user@host:port/database, the key a remembered password is kept under."""
    made = sa.make_url(url)
    return f"{made.username}@{made.host}:{made.port or 5432}/{made.database}"
