"""Encryption at rest of a SQLite database with SQLCipher (the `sqlcipher3` wheels, which
bundle SQLCipher 4 on Linux, Windows and macOS).

An encrypted file is recognised by its first bytes (a plain SQLite file starts with
`SQLite format 3\\0`; an encrypted one is random).  Its passphrase is held in memory only,
by the resolved path of the file (`remember`); a file that is not named there (a backup, a
copy made by an upgrade) is tried with the passphrases this process knows.  SQLCipher
derives the key from the passphrase (PBKDF2-HMAC-SHA512, 256,000 iterations) and
authenticates every page (HMAC), so a wrong passphrase is told apart from a damaged file
at the first page.  Nothing here writes a passphrase anywhere; the OS keyring keeps one
only when the user asks (`keyring_store`).

`encrypt_copy` and `rekey_copy` write a new file next to the old one (a verified copy) for
the caller to swap in, as an upgrade does.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

HEADER = b"SQLite format 3\x00"
KEYRING_SERVICE = "crlmboard-database"

_passphrases: dict[str, str] = {}


class EncryptionError(Exception):
    """A problem with an encrypted database that a person can act on."""


class PassphraseNeeded(EncryptionError):
    """The file is encrypted and no passphrase is known for it."""


class PassphraseWrong(EncryptionError):
    """The passphrase does not open the file."""


def cipher_module() -> Any:
    """The SQLCipher DB-API module (`sqlcipher3`)."""
    try:
        import sqlcipher3
    except ImportError:  # pragma: no cover - a dependency of crlmboard
        raise EncryptionError(
            "This installation has no SQLCipher (package sqlcipher3); encrypted databases "
            "cannot be opened."
        ) from None
    return sqlcipher3


def errors() -> tuple[type[Exception], ...]:
    """The database errors of both SQLite libraries (plain and SQLCipher)."""
    try:
        import sqlcipher3
    except ImportError:  # pragma: no cover
        return (sqlite3.Error,)
    return (sqlite3.Error, sqlcipher3.Error)


def database_errors() -> tuple[type[Exception], ...]:
    """`DatabaseError` of both SQLite libraries."""
    try:
        import sqlcipher3
    except ImportError:  # pragma: no cover
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, sqlcipher3.DatabaseError)


def _key(path: Path | str) -> str:
    return str(Path(path).expanduser().resolve())


# Bytes 21-23 of every plain SQLite file (the payload fractions 64, 32, 32): a file whose
# first 16 bytes were damaged still shows them, an encrypted one shows random bytes there.
PLAIN_FRACTIONS = b"\x40\x20\x20"


def is_encrypted(path: Path) -> bool:
    """Whether a file holds an encrypted database (a non-empty file that is not plain)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(24)
    except OSError:
        return False
    if not head or head.startswith(HEADER):
        return False
    return not (len(head) == 24 and head[21:24] == PLAIN_FRACTIONS)


def remember(path: Path, passphrase: str) -> None:
    _passphrases[_key(path)] = passphrase


def forget(path: Path) -> None:
    _passphrases.pop(_key(path), None)


def known_passphrase(path: Path) -> str | None:
    """The passphrase of a file: the one remembered for it, else one that opens it among
    those this process knows (a backup or copy of an open database), else the keyring's."""
    found = _passphrases.get(_key(path))
    if found is not None or not is_encrypted(path):
        return found
    for candidate in dict.fromkeys(_passphrases.values()):
        if opens(path, candidate):
            remember(path, candidate)
            return candidate
    stored = keyring_passphrase(path)
    if stored is not None and opens(path, stored):
        remember(path, stored)
        return stored
    return None


def quote(passphrase: str) -> str:
    """A passphrase as an SQL string literal (PRAGMA key takes no parameters)."""
    return "'" + passphrase.replace("'", "''") + "'"


def key_connection(connection: Any, passphrase: str) -> None:
    """Key a fresh SQLCipher connection (the first statements it runs)."""
    connection.execute("PRAGMA cipher_log_level = NONE")  # no key errors on stderr
    connection.execute(f"PRAGMA key = {quote(passphrase)}")


def connect(path: Path | str, passphrase: str, *, uri: bool = False, timeout: float = 5.0) -> Any:
    """A SQLCipher connection keyed with `passphrase` (not yet read)."""
    module = cipher_module()
    connection = module.connect(str(path), uri=uri, timeout=timeout, isolation_level=None)
    try:
        key_connection(connection, passphrase)
    except BaseException:
        connection.close()
        raise
    return connection


def opens(path: Path, passphrase: str) -> bool:
    """Whether `passphrase` opens the encrypted file (read-only; nothing is changed)."""
    module = cipher_module()
    try:
        connection = connect(f"file:{path}?mode=ro", passphrase, uri=True)
    except module.Error:
        return False
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except module.DatabaseError:
        return False
    finally:
        connection.close()


def require(path: Path, passphrase: str | None) -> str:
    """The passphrase that opens an encrypted file, or a clear refusal."""
    if passphrase is None:
        passphrase = known_passphrase(path)
        if passphrase is None:
            raise PassphraseNeeded(f"The database {path} is encrypted; its passphrase is needed.")
    elif not opens(path, passphrase):
        raise PassphraseWrong(
            f"The passphrase does not open the database {path}; nothing was changed."
        )
    remember(path, passphrase)
    return passphrase


def export(source: Any, target: Path, passphrase: str | None) -> None:
    """Copy every table, index, trigger and the user version of the database `source` is
    connected to into the new file `target`, encrypted with `passphrase` (None: plain)."""
    key = "" if passphrase is None else passphrase
    source.execute("ATTACH DATABASE ? AS crlmboard_copy KEY ?", (str(target), key))
    try:
        source.execute("SELECT sqlcipher_export('crlmboard_copy')")
        version = source.execute("PRAGMA main.user_version").fetchone()[0]
        source.execute(f"PRAGMA crlmboard_copy.user_version = {int(version)}")
    finally:
        source.execute("DETACH DATABASE crlmboard_copy")


def open_source(path: Path, passphrase: str | None) -> Any:
    """A SQLCipher connection to a plain (passphrase None) or encrypted file."""
    if passphrase is None:
        module = cipher_module()
        return module.connect(str(path), isolation_level=None)
    return connect(path, passphrase)


# -- the OS keyring (only when the user asks) ------------------------------------------------


def keyring_module() -> Any:
    """The OS keyring when a secure backend is there (`keys.keyring_backend`: never a
    plain-text one), else None.  The same rule for passphrases, server passwords and the
    audit keys."""
    return _keyring()


def _keyring() -> Any:
    from crlmboard.store.keys import keyring_backend

    return keyring_backend()


def keyring_available() -> bool:
    return _keyring() is not None


def keyring_store(path: Path, passphrase: str) -> None:
    ring = _keyring()
    if ring is None:
        raise EncryptionError("There is no OS keyring here to keep the passphrase in.")
    ring.set_password(KEYRING_SERVICE, _key(path), passphrase)


def keyring_passphrase(path: Path) -> str | None:
    ring = _keyring()
    if ring is None:
        return None
    with contextlib.suppress(Exception):
        found = ring.get_password(KEYRING_SERVICE, _key(path))
        return None if found is None else str(found)
    return None


def keyring_forget(path: Path) -> None:
    ring = _keyring()
    if ring is not None:
        with contextlib.suppress(Exception):
            ring.delete_password(KEYRING_SERVICE, _key(path))


def private_new_file(path: Path) -> None:
    """An empty 0600 file (SQLCipher's ATTACH creates files with the umask)."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
