"""`board.users`: who is acting, and the users of a department's PostgreSQL store.

On PostgreSQL the server knows who is connected (the session user) and what their groups
allow; an administrator adds, disables and enables users here (the server functions of
migration 0007 do it; each change is also an audit row).  On SQLite the OS account is the
only user and may do everything with its own file.
"""

from __future__ import annotations

import builtins
import logging

from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.changes import BoardError, ChangeSet, NotAllowed
from crlmboard.services.database import Database
from crlmboard.store import audit, identity
from crlmboard.store.identity import ROLES, BoardUser, Identity, IdentityError

__all__ = ["ROLES", "BoardUser", "Identity", "NotAllowed", "UserService", "current_identity"]

log = logging.getLogger("crlmboard.users")

MIN_PASSWORD = 12


def current_identity(database: Database) -> Identity:
    if not database.is_server:
        login = audit.os_login()
        return Identity(login, login, frozenset(ROLES), owner=True, local=True)
    with database.read() as session:
        return identity.identity(session)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput([Problem("password", f"use at least {MIN_PASSWORD} characters")])


class UserService:
    """Users and roles (PostgreSQL)."""

    def __init__(self, database: Database):
        self.database = database

    def _need_server(self) -> None:
        if not self.database.is_server:
            raise BoardError(
                "Users are managed on a department's PostgreSQL store; on a SQLite file "
                "the computer's own account is the user."
            )

    def list(self) -> list[BoardUser]:
        self._need_server()
        with self.database.read() as session:
            return identity.list_users(session)

    def _change(self, action: str, login: str, after: dict[str, object], call: object) -> None:
        """Run a server user function and its audit row in one transaction."""
        self._need_server()
        self.database.check_writable()
        try:
            with self.database.write() as session:
                connection = session.connection()
                assert callable(call)
                call(connection)
                audit.AuditLog.of(session).record(
                    action, "board_user", login, case_id=None, after=after
                )
        except IdentityError as error:
            if "administrator" in str(error):
                raise NotAllowed(str(error)) from None
            raise BoardError(str(error)) from None
        except NotAllowed:
            raise NotAllowed("Only a crlmboard administrator can manage users.") from None
        log.info("user management: %s", action)

    def add(
        self, login: str, name: str, roles: builtins.list[str], password: str | None
    ) -> ChangeSet:
        """A new login with a password (None: the server authenticates it another way)."""
        login = login.strip()
        if password is not None:
            _check_password(password)
        self._change(
            "user_add",
            login,
            {"login": login, "name": name.strip() or login, "roles": sorted(roles)},
            lambda c: identity.add_user(c, login, name, sorted(roles), password),
        )
        return ChangeSet(settings=frozenset({"users"}))

    def disable(self, login: str) -> ChangeSet:
        """The login can no longer connect (its history and signatures stay)."""
        self._change(
            "user_disable", login, {"login": login}, lambda c: identity.disable_user(c, login)
        )
        return ChangeSet(settings=frozenset({"users"}))

    def enable(self, login: str) -> ChangeSet:
        self._change(
            "user_enable", login, {"login": login}, lambda c: identity.enable_user(c, login)
        )
        return ChangeSet(settings=frozenset({"users"}))
