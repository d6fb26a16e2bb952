"""Who is acting, as the database knows it.

On PostgreSQL each person connects as their own login role: the session user is the
actor of every audit row (read once per connection; a trigger of migration 0007 refuses
any other name), their printed name and roles come from `board_user` and role membership,
a signature's name and time come from the server (`crlmboard_signature()`), and users are
managed through the SECURITY DEFINER functions of migration 0007.  Passwords go to the
server only as SCRAM verifiers made here with libpq, so no clear-text password reaches a
statement, a server log or `pg_stat_activity`.

On SQLite the OS account is the user (see `audit.os_login`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

ROLES = ("viewer", "coordinator", "clinician", "admin")
_SESSION_USER = "crlmboard_session_user"

# What each role may do (the database enforces it; the app uses this to grey out actions).
CAN_EDIT = frozenset({"coordinator", "clinician"})
CAN_SIGN = frozenset({"clinician"})
CAN_ADMINISTER = frozenset({"admin"})

BOARD_USER = sa.table(
    "board_user",
    sa.column("login", sa.Text()),
    sa.column("display_name", sa.Text()),
    sa.column("roles", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("created_by", sa.Text()),
    sa.column("disabled_at", sa.DateTime(timezone=True)),
    sa.column("disabled_by", sa.Text()),
)


class IdentityError(Exception):
    """The server refused a user-management or signing step (message is a sentence)."""


@dataclass(frozen=True)
class Identity:
    """Who is connected: login, printed name and crlmboard roles (the owner has all)."""

    login: str
    name: str
    roles: frozenset[str]
    owner: bool = False
    local: bool = False  # a SQLite file: the OS account, who may do everything

    def can(self, allowed: frozenset[str]) -> bool:
        return self.owner or bool(self.roles & allowed)

    @property
    def can_edit(self) -> bool:
        return self.can(CAN_EDIT)

    @property
    def can_sign(self) -> bool:
        return self.can(CAN_SIGN)

    @property
    def can_administer(self) -> bool:
        return self.can(CAN_ADMINISTER)

    def refusal(self, needed: str) -> str:
        """Why an action is not offered: `needed` is who may do it ("a clinician")."""
        return f"Only {needed} can do this; {self.name} is {self.role_text}."

    @property
    def role_text(self) -> str:
        if self.local:
            return "this computer's account"
        if self.owner:
            return "schema owner"
        # clinicians are coordinators are viewers: name the highest, and admin beside it
        work = next((r for r in reversed(ROLES[:3]) if r in self.roles), None)
        shown = [r for r in (work, "admin" if "admin" in self.roles else None) if r]
        return " and ".join(shown) or "no crlmboard role"


@dataclass(frozen=True)
class BoardUser:
    """One row of `board_user` with whether the login may connect."""

    login: str
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    can_login: bool


def is_postgresql(bind: Engine | Connection | Session) -> bool:
    return (
        bind.get_bind().dialect.name == "postgresql"
        if isinstance(bind, Session)
        else (bind.dialect.name == "postgresql")
    )


def session_user(connection: Connection | Session) -> str:
    """The database session user (PostgreSQL), read once per connection."""
    bound = connection.connection() if isinstance(connection, Session) else connection
    name = bound.info.get(_SESSION_USER)
    if name is None:
        name = str(bound.exec_driver_sql("SELECT session_user").scalar())
        bound.info[_SESSION_USER] = name
    return str(name)


def has_users_table(connection: Connection | Session) -> bool:
    return bool(
        connection.execute(sa.text("SELECT to_regclass('board_user') IS NOT NULL")).scalar()
    )


def identity(connection: Connection | Session) -> Identity:
    """The connected person on PostgreSQL."""
    login = session_user(connection)
    if not has_users_table(connection):  # a schema from before revision 0007
        return Identity(login, login, frozenset(ROLES), owner=True)
    owner = bool(connection.execute(sa.text("SELECT crlmboard_is_owner()")).scalar())
    roles = frozenset(
        role
        for role in ROLES
        if connection.execute(
            sa.text("SELECT pg_has_role(session_user, :group, 'USAGE')"),
            {"group": f"crlmboard_{role}"},
        ).scalar()
    )
    name = connection.execute(sa.text("SELECT crlmboard_printed_name()")).scalar()
    return Identity(login, str(name or login), roles, owner)


def server_signature(session: Session) -> tuple[str, datetime]:
    """The printed name and server time of a signature made in this transaction
    (refused unless the session user is a clinician)."""
    try:
        with session.begin_nested():
            row = session.execute(
                sa.text("SELECT signer, signed_at FROM crlmboard_signature()")
            ).one()
    except sa.exc.DBAPIError as error:
        raise IdentityError(server_message(error)) from None
    return str(row.signer), row.signed_at


def server_message(error: sa.exc.DBAPIError) -> str:
    """The first line of a server error, as a sentence."""
    original = error.orig
    diag = getattr(original, "diag", None)
    text = getattr(diag, "message_primary", None) or str(original).splitlines()[0]
    text = str(text).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def scram_verifier(connection: Connection, login: str, password: str) -> str:
    """A SCRAM-SHA-256 verifier of a password, made by libpq on this side."""
    raw: Any = connection.connection.dbapi_connection
    pgconn = raw.pgconn
    verifier = pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    return bytes(verifier).decode("ascii")


def _call(connection: Connection, statement: str, values: dict[str, Any]) -> None:
    try:
        with connection.begin_nested():
            connection.execute(sa.text(statement), values)
    except sa.exc.DBAPIError as error:
        raise IdentityError(server_message(error)) from None


def add_user(
    connection: Connection,
    login: str,
    name: str,
    roles: list[str],
    password: str | None,
) -> None:
    """A new login role in the given crlmboard groups (password None: the server
    authenticates it another way, e.g. Kerberos)."""
    verifier = None if password is None else scram_verifier(connection, login, password)
    _call(
        connection,
        "SELECT crlmboard_add_user(:login, :name, CAST(:roles AS text[]), :verifier)",
        {"login": login, "name": name, "roles": roles, "verifier": verifier},
    )


def disable_user(connection: Connection, login: str) -> None:
    _call(connection, "SELECT crlmboard_disable_user(:login)", {"login": login})


def enable_user(connection: Connection, login: str) -> None:
    _call(connection, "SELECT crlmboard_enable_user(:login)", {"login": login})


def list_users(connection: Connection | Session) -> list[BoardUser]:
    rows = connection.execute(
        sa.text(
            "SELECT u.login, u.display_name, u.roles, u.created_at, u.created_by, "
            "u.disabled_at, coalesce(r.rolcanlogin, false) AS can_login "
            "FROM board_user u LEFT JOIN pg_roles r ON r.rolname = u.login ORDER BY u.login"
        )
    ).all()
    return [
        BoardUser(
            row.login,
            row.display_name,
            tuple(r for r in str(row.roles).split(",") if r),
            row.created_at,
            row.created_by,
            row.disabled_at,
            bool(row.can_login),
        )
        for row in rows
    ]


def verify_password(url: str, login: str, password: str) -> bool:
    """Whether `password` opens a fresh connection to the server as `login` (a signature's
    re-authentication, 21 CFR 11.200)."""
    made = sa.make_url(url).set(username=login, password=None)
    engine = sa.create_engine(made, poolclass=sa.pool.NullPool, connect_args={"password": password})
    try:
        with engine.connect() as connection:
            return session_user(connection) == login
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
