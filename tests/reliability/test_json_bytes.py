"""A folder import stores the same bytes, and the trail the same hashes, whether its JSON is
made by orjson or by the standard library's encoder as before (issue 21, B5), on SQLite
and PostgreSQL; a store written by either is verified by `check`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench import cohort
from crlmboard.store import audit, repositories
from tests.conftest import golden_cases
from tests.reliability.conftest import own_postgres_database
from tests.reliability.test_batched_import import NOW, SIGNED, assert_checked, open_board, raw_rows

pytestmark = pytest.mark.db

COHORT = [*range(8), *cohort.heavy_indexes(200)[:3]]  # light and heavy generated cases


def folder_of_files(folder: Path) -> list[Path]:
    """The golden cases, a signed review's case and generated ones (heavy: every table, a
    frozen evaluation per signed review, non-ASCII names), one file each."""
    folder.mkdir()
    for source in [*golden_cases(), SIGNED]:
        (folder / source.name).write_bytes(source.read_bytes())
    for index in COHORT:
        (folder / f"cohort-{index:04d}.json").write_text(cohort.case_text(index, 5), "utf-8")
    return sorted(folder.iterdir())


@contextlib.contextmanager
def database(backend: str, path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(path.with_suffix(".sqlite3"))
        return
    with own_postgres_database() as url:
        yield url


def stored(where: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the import writes, as the driver gives it (on SQLite with
    each value's storage class; compressed values as their bytes)."""
    tables = audit.t.metadata.tables
    with open_board(where) as board, board.database.engine.connect() as connection:
        return {
            name: raw_rows(
                connection, tables[name], [c.name for c in tables[name].primary_key.columns]
            )
            for name in (*audit.AUDITED_TABLES, "audit_event")
        }


def refused(*_args: Any, **_kwargs: Any) -> bytes:
    raise TypeError("orjson is not asked: the standard library's encoder, as before")


def unpacked(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows with each compressed value as its text (what the hashes are over)."""
    return {
        name: [tuple(audit.t.unpack(value) for value in row) for row in table]
        for name, table in rows.items()
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_an_import_stores_the_bytes_and_hashes_the_standard_librarys_json_stores(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two folders imported one after the other (each in batches), three times: by the
    standard library's encoder alone, by orjson, and the first as before this change (the
    standard library's encoder, zlib level 6) and the second by this code: the same bytes
    stored and the same hashes chained, the compressed ones the same text."""
    files = folder_of_files(tmp_path / "files")
    halves = [tmp_path / "first", tmp_path / "second"]
    for half, paths in zip(halves, (files[::2], files[1::2]), strict=True):
        half.mkdir()
        for path in paths:
            (half / path.name).symlink_to(path)
    monkeypatch.setattr(repositories, "_now", lambda: NOW)
    rows = {}
    for name, writers in {
        "standard": ("standard", "standard"),
        "orjson": ("now", "now"),
        "both": ("before", "now"),
    }.items():
        with database(backend, tmp_path / name) as where:
            for half, writer in zip(halves, writers, strict=True):
                with monkeypatch.context() as patched:
                    if writer != "now":  # every JSON text by the standard library's encoder
                        patched.setattr(orjson, "dumps", refused)
                    if writer == "before":
                        patched.setattr(audit.t, "PACK_LEVEL", 6)
                    with open_board(where) as board:
                        assert board.cases.import_path(half).ok
            with open_board(where) as board:  # verified by this code
                assert_checked(board)
            rows[name] = stored(where)
    assert len(rows["standard"]["patient"]) == len(files)
    assert sum(len(r) for r in rows["standard"].values()) > 500
    assert any(isinstance(v, bytes) for row in rows["standard"]["audit_event"] for v in row) == (
        backend == "sqlite"  # the compressed trail compared as stored
    )
    assert rows["orjson"] == rows["standard"]
    assert unpacked(rows["both"]) == unpacked(rows["standard"])
    if backend == "sqlite":  # the first folder's compressed values as zlib level 6 made them
        assert rows["both"] != rows["standard"]
