"""Logging in: the user name in a server URL, and the OS keyring for a password or a
passphrase the user asked to have remembered.  Nothing here writes a secret to a file, the
settings or the log."""

from __future__ import annotations

import contextlib
from typing import Any

from crlmboard.store import encryption
from crlmboard.store.database import is_sqlite, url_account, url_login, url_with_login

LOGIN_SERVICE = "crlmboard-login"


def is_server(url: str) -> bool:
    return "://" in url and not is_sqlite(url)


def login_of(url: str) -> str | None:
    """The user name a server URL names (None when it names none)."""
    return url_login(url) if is_server(url) else None


def with_login(url: str, user: str) -> str:
    """The URL with this user name and without any password in it."""
    return url_with_login(url, user)


def _account(url: str) -> str:
    return url_account(url)


def _ring() -> Any:
    return encryption.keyring_module()


def keyring_available() -> bool:
    return _ring() is not None


def remembered_password(url: str) -> str | None:
    ring = _ring()
    if ring is None or not login_of(url):
        return None
    with contextlib.suppress(Exception):
        found = ring.get_password(LOGIN_SERVICE, _account(url))
        return None if found is None else str(found)
    return None


def remember_password(url: str, password: str) -> None:
    """Keep a server password in the OS keyring (the user ticked "remember")."""
    ring = _ring()
    if ring is not None:
        ring.set_password(LOGIN_SERVICE, _account(url), password)


def forget_password(url: str) -> None:
    ring = _ring()
    if ring is not None:
        with contextlib.suppress(Exception):
            ring.delete_password(LOGIN_SERVICE, _account(url))
