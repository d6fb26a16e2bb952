"""Many rows into one table with one `executemany` on the DB-API cursor (issue 21, B5).

SQLAlchemy's Core `executemany` builds a parameter dictionary per row (`construct_params`)
and runs every column's bind processor on it: a third of a folder import's write.  Here
the statement is compiled once per table, dialect and column set by SQLAlchemy itself (the
same SQL, the same casts and paramstyle), the columns' own bind processors are fetched
once, and the rows go to `Connection.exec_driver_sql` as plain tuples (or dictionaries for
a named paramstyle): the values stored are the ones Core stores, the engine's events fire
(`before_cursor_execute`) and a refused row raises SQLAlchemy's translated error.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class _Statement:
    sql: str
    keys: tuple[str, ...]  # the column key of each parameter, in the statement's order
    names: tuple[str, ...] | None  # bind names for a named paramstyle; None: positional
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: Mapping[str, Any]  # scalar Python defaults of the columns the rows leave out


_STATEMENTS: weakref.WeakKeyDictionary[
    sa.Dialect, dict[tuple[sa.Table, tuple[str, ...]], _Statement]
] = weakref.WeakKeyDictionary()


def _statement(dialect: sa.Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Statement:
    made = _STATEMENTS.setdefault(dialect, {})
    found = made.get((table, keys))
    if found is not None:
        return found
    compiled: Any = sa.insert(table).compile(dialect=dialect, column_keys=list(keys))
    key_of = {name: bind.key for bind, name in compiled.bind_names.items()}
    order = compiled.positiontup if compiled.positional else list(key_of)
    defaults: dict[str, Any] = {}
    for column in compiled.insert_prefetch:  # a Python-side default of a left-out column
        default = column.default
        if default is None or not default.is_scalar:
            raise NotImplementedError(f"{table.name}.{column.key}: a default that is not a value")
        defaults[column.key] = default.arg
    if compiled.postfetch or compiled.returning:
        raise NotImplementedError(f"{table.name}: values made by the database to read back")
    columns = [table.c[key_of[name]] for name in order]
    statement = _Statement(
        sql=compiled.string,
        keys=tuple(column.key for column in columns),
        names=None if compiled.positional else tuple(order),
        processors=tuple(column.type._cached_bind_processor(dialect) for column in columns),
        defaults=defaults,
    )
    made[(table, keys)] = statement
    return statement


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str] | None = None,
) -> None:
    """Insert rows with one `executemany`: values by column key, or by the names `names`
    maps to column keys (a table model's attribute names).  Every row has the keys of the
    first, as Core's `executemany` requires; a column none of them names gets its scalar
    default, or is left to the database."""
    if not rows:
        return
    given = tuple(rows[0])
    statement = _statement(
        connection.dialect, table, given if names is None else tuple(names[k] for k in given)
    )
    row_key = (
        dict(zip(statement.keys, statement.keys, strict=True))
        if names is None
        else {column: name for name, column in names.items()}
    )
    defaults = statement.defaults
    columns = []  # column by column: each processor mapped over its values
    for key, process in zip(statement.keys, statement.processors, strict=True):
        if key in defaults:  # left out by the rows: the value Core would send
            values = [defaults[key]] * len(rows)
        else:
            name = row_key[key]
            values = [row[name] for row in rows]
        columns.append(values if process is None else list(map(process, values)))
    params: list[Any] = list(zip(*columns, strict=True))
    if statement.names is not None:
        params = [dict(zip(statement.names, values, strict=True)) for values in params]
    connection.exec_driver_sql(statement.sql, params)
