"""The audit key of a SQLite database: 32 random bytes per database id, never in the file.

Kept in the OS keyring (service `crlmboard-audit`, user = the database id) when a real
keyring backend is available, else in a 0600 file `<user config dir>/crlmboard/audit-keys/
<database id>.key`.  Beside the key, the newest checkpoint of the database is kept the same
way (user `<database id>/checkpoint`, file `<database id>.checkpoint`): an anchor outside
the database folder.  Losing the key means old checkpoints cannot be verified; `check`
says so as a warning.  Keys never appear in logs or messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

import platformdirs

SERVICE = "crlmboard-audit"
KEY_BYTES = 32
MIN_PRIORITY = 1.0  # keyring backends below this are not secure stores (e.g. plain text)
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")

log = logging.getLogger("crlmboard.keys")


def key_folder() -> Path:
    return Path(platformdirs.user_config_dir("crlmboard", appauthor=False)) / "audit-keys"


def _check_id(database_id: str) -> str:
    if not _ID.match(database_id):
        raise ValueError("not a database id")
    return database_id


def keyring_backend() -> Any | None:
    """The OS keyring when one is usable here (None without a backend, as on CI or a
    headless server; or when only an insecure one, such as plain text, is installed)."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    priority = getattr(backend, "priority", 0)
    if not isinstance(priority, int | float) or priority < MIN_PRIORITY:
        return None
    return backend


def where() -> str:
    """Where keys are kept here, for `check` and the README ('the OS keyring (…)' or a
    folder)."""
    backend = keyring_backend()
    if backend is not None:
        return f"the OS keyring ({type(backend).__name__})"
    return str(key_folder())


# -- the two stores ------------------------------------------------------------------------


class KeyringUnavailable(Exception):
    """The OS keyring is there but could not be read (locked, or its service failed)."""


def _read_keyring(name: str) -> str | None:
    backend = keyring_backend()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, name)
    except Exception:  # a locked or broken keyring
        log.warning("the OS keyring could not be read")
        raise KeyringUnavailable from None
    return None if value is None else str(value)


def _write_keyring(name: str, value: str) -> bool:
    backend = keyring_backend()
    if backend is None:
        return False
    try:
        backend.set_password(SERVICE, name, value)
    except Exception:
        log.warning("the OS keyring could not be written; using the key folder")
        return False
    return True


def _file(name: str) -> Path:
    return key_folder() / name


def _read_file(name: str) -> str | None:
    try:
        return _file(name).read_text("ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _write_file(name: str, value: str, *, durable: bool = True) -> None:
    """Write a 0600 file in the key folder (temporary name, rename).  `durable`: fsync
    first (a key always; the newest checkpoint, rewritten at every save, is not — after a
    power cut it may be one save old, and `check` then names the rows after it)."""
    folder = key_folder()
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
    target = _file(name)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode("ascii"))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, target)


def _read(keyring_name: str, file_name: str, *, strict: bool = False) -> str | None:
    """A value from the keyring, else from the file.  `strict`: a keyring that failed is
    an error (a new key must never replace one that is only unreadable for now)."""
    try:
        found = _read_keyring(keyring_name)
    except KeyringUnavailable:
        if strict:
            raise
        found = None
    return found or _read_file(file_name)


def _write(keyring_name: str, file_name: str, value: str, *, durable: bool = True) -> None:
    if not _write_keyring(keyring_name, value):
        _write_file(file_name, value, durable=durable)


# -- keys and the newest checkpoint -------------------------------------------------------


def load_key(database_id: str, *, strict: bool = False) -> bytes | None:
    """The audit key of a database, or None when this computer does not have it."""
    _check_id(database_id)
    text = _read(database_id, f"{database_id}.key", strict=strict)
    if text is None:
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


_KEYS: dict[tuple[str, str], bytes] = {}  # (store, database id) -> key, for this process


def key_for(database_id: str) -> bytes:
    """The audit key of a database, made (and kept) on first use; remembered for the
    process, so a save does not ask the keyring each time.  Raises KeyringUnavailable when
    the keyring holds keys but cannot be read now."""
    place = (where(), database_id)
    key = _KEYS.get(place)
    if key is not None:
        return key
    key = load_key(database_id, strict=True)
    if key is None:
        key = secrets.token_bytes(KEY_BYTES)
        _write(database_id, f"{database_id}.key", key.hex())
    _KEYS[place] = key
    return key


def load_latest(database_id: str) -> str | None:
    """The newest checkpoint kept with the key (JSON text), if any."""
    _check_id(database_id)
    return _read(f"{database_id}/checkpoint", f"{database_id}.checkpoint")


def save_latest(database_id: str, text: str) -> None:
    _check_id(database_id)
    _write(f"{database_id}/checkpoint", f"{database_id}.checkpoint", text, durable=False)


def load_pending(database_id: str) -> str | None:
    """A restore's mark made before its file swap (JSON text), if the swap may not have
    happened yet."""
    _check_id(database_id)
    return _read(f"{database_id}/pending", f"{database_id}.pending")


def save_pending(database_id: str, text: str) -> None:
    _check_id(database_id)
    _write(f"{database_id}/pending", f"{database_id}.pending", text)


def clear_pending(database_id: str) -> None:
    _check_id(database_id)
    if not _write_keyring(f"{database_id}/pending", ""):
        _file(f"{database_id}.pending").unlink(missing_ok=True)


def load_unsigned(database_id: str) -> str | None:
    """The newest mark of rows found unsigned at a save (JSON text), if any."""
    _check_id(database_id)
    return _read(f"{database_id}/unsigned", f"{database_id}.unsigned")


def save_unsigned(database_id: str, text: str) -> None:
    _check_id(database_id)
    _write(f"{database_id}/unsigned", f"{database_id}.unsigned", text)
