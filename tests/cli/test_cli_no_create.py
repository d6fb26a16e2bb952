"""Issue 23 items 2 and 3: a read (or any command but `init` and `demo`) never creates a
database or a folder; a missing or 0-byte file says so and names its newest backup; `init`
creates a database only where there is none; `demo` says which `--db` to use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY, postgres_url

pytestmark = pytest.mark.db
COMMANDS = [
    ["list"],
    ["check"],
    ["backups"],
    ["backup"],
    ["meetings"],
    ["export", "EX-0001", "-o", "-"],
    ["import", str(GOLDEN)],
]


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_mistyped_path_creates_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "Boards" / "bord.sqlite3"
    assert main([*command, "--db", str(typo)]) == 2
    err = capsys.readouterr().err
    assert f"There is no database at {typo}" in err
    assert "crlmboard init" in err and "Traceback" not in err
    assert _files(tmp_path) == set()  # no file, no folder, no lock, no backups


def test_the_default_database_is_not_created_by_a_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crlmboard.services.board import default_database

    assert main(["list"]) == 2
    assert f"There is no database at {default_database()}" in capsys.readouterr().err
    assert not default_database().exists() and not default_database().parent.exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_a_database_in_memory_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--db", url]) == 2
    assert "in memory" in capsys.readouterr().err


def test_a_truncated_database_names_its_newest_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "board.sqlite3"
    assert main(["init", "--db", str(db)]) == 0
    assert main(["import", str(GOLDEN), "--db", str(db)]) == 0
    assert main(["backup", "--db", str(db)]) == 0
    capsys.readouterr()
    db.write_bytes(b"")  # truncated to 0 bytes
    for command in (["check"], ["list"], ["init"]):
        assert main([*command, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert "empty (0 bytes)" in err and "newest verified backup" in err, err
        assert "3 patients" in err and "crlmboard restore" in err
        assert db.stat().st_size == 0  # not recreated empty
    db.unlink()
    assert main(["list", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "There is no database" in err and "3 patients" in err
    assert not db.exists()


def test_init_creates_once_and_then_reads_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "new" / "board.sqlite3"
    assert main(["init", "--db", str(db)]) == 0
    assert f"Created the database {db}" in capsys.readouterr().out
    assert db.exists() and (db.parent.stat().st_mode & 0o777) == 0o700
    assert main(["list", "--db", str(db)]) == 0
    assert "0 of 0 cases" in capsys.readouterr().out
    before = db.read_bytes()
    assert main(["init", "--db", str(db)]) == 2
    assert "already holds a crlmboard database" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_a_file_of_another_program_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE note (text TEXT)")
    connection.commit()
    connection.close()
    before = other.read_bytes()
    for command in (["list"], ["import", str(GOLDEN)], ["init"]):
        assert main([*command, "--db", str(other)]) == 2
        assert "not a crlmboard database" in capsys.readouterr().err
    assert other.read_bytes() == before


def test_demo_prints_the_db_to_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crlmboard.services.demo import default_demo_database

    assert main(["demo", "--no-open"]) == 0
    out = capsys.readouterr().out
    assert f"--db {default_demo_database()}" in out
    assert main(["list"]) == 2  # the per-user database is another one…
    err = capsys.readouterr().err
    assert f"--db {default_demo_database()}" in err  # …and the message says where the demo is
    assert main(["list", "--db", str(default_demo_database())]) == 0
    assert " cases" in capsys.readouterr().out


@pytest.mark.postgres
def test_postgresql_without_a_schema_is_not_set_up_by_a_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sqlalchemy as sa

    url = postgres_url()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    try:
        assert main(["list", "--db", url]) == 2
        assert "crlmboard init" in capsys.readouterr().err
        with engine.connect() as connection:
            assert not sa.inspect(connection).get_table_names()
        assert main(["init", "--db", url]) == 0
        assert main(["list", "--db", url]) == 0
        assert main(["init", "--db", url]) == 2
    finally:
        engine.dispose()


def test_the_board_still_creates_for_the_library(tmp_path: Path) -> None:
    """Board.open(create=True) (tests, the bench, File ▸ New database) still makes one."""
    with Board.open(tmp_path / "lib.sqlite3", clock=lambda: TODAY) as board:
        assert board.cases.count() == 0
    with pytest.raises(LookupError):
        Board.open(tmp_path / "other.sqlite3", create=False)
    assert not (tmp_path / "other.sqlite3").exists()
