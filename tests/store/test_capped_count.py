"""The case list's count of a broad filter stops at a cap (issue 21, B2): "more than 1,000"
is known after about 1,000 matches, not after visiting every one; below the cap the count
is exact, whichever path the filter takes (trigram index, search-text index, both), on
both back ends; the exact count can be stopped when a newer filter wants the worker.
Real databases of 1,500 generated cases; the work is bounded by count (SQLite's virtual
machine steps through a progress handler), never by the clock."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.services import Board
from crlmboard.store import repositories
from crlmboard.store.database import read_session
from crlmboard.store.repositories import CaseRepository
from tests.conftest import postgres_url
from tests.store.conftest import fresh_postgres

pytestmark = pytest.mark.db

TODAY = date(2026, 11, 24)
CASES = 1500
CAP = 1000
FAMILIES = ["Müller", "Tanaka", "Иванов", "Okafor", "Dubois"]


def texts() -> list[str]:
    """1,500 synthetic cases: every MRN holds "wide" (a filter matching all of them), one
    in five is a Müller (300: below the cap), the numbers make rarer words."""
    return [
        json.dumps(
            {
                "format": "crlmboard.case/1",
                "patient": {
                    "mrn": f"WIDE-{i:05d}",
                    "family_name": FAMILIES[i % len(FAMILIES)],
                    "given_name": "Synthetic",
                },
            }
        )
        for i in range(CASES)
    ]


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wide") / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_many(texts())
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def board(request: pytest.FixtureRequest, sqlite_file: Path, tmp_path: Path) -> Iterator[Board]:
    if request.param == "sqlite":
        copy = tmp_path / "board.sqlite3"
        shutil.copyfile(sqlite_file, copy)
        with Board.open(copy, clock=lambda: TODAY) as opened:
            yield opened
        return
    fresh_postgres().dispose()
    with Board.open(postgres_url(), clock=lambda: TODAY) as opened:
        opened.cases.import_many(texts())
        yield opened


# query -> exact number of matches
QUERIES = {
    "wide": CASES,  # trigram index, every case
    "w": CASES,  # one letter: the search-text index
    "wi": CASES,
    "wide synthetic": CASES,
    "wide s": CASES,  # an indexed word and a short one
    "muller": CASES // 5,  # below the cap: exact (and accent-insensitive)
    "MÜLLER": CASES // 5,
    "mü wide": CASES // 5,
    "иванов": CASES // 5,
    "wide-0100": 10,
    "wide-01000": 1,
    "zq": 0,
    "wide zq": 0,
}


def test_a_broad_filter_is_counted_up_to_the_cap_and_a_narrow_one_exactly(board: Board) -> None:
    for query, matches in QUERIES.items():
        assert board.cases.count(query) == matches, query
        capped = board.cases.count(query, cap=CAP)
        assert capped == (CAP + 1 if matches > CAP else matches), query
    # the list without a filter is always counted exactly (one small index)
    assert board.cases.count("", cap=CAP) == CASES
    assert board.cases.count("   ", cap=CAP) == CASES


def test_a_count_of_exactly_the_cap_is_exact(board: Board) -> None:
    assert board.cases.count("wide", cap=CASES) == CASES
    assert board.cases.count("wide", cap=CASES - 1) == CASES  # "more than 1,499"
    assert board.cases.count("muller", cap=CASES // 5) == CASES // 5


def steps(board: Board, query: str, cap: int | None) -> int:
    """SQLite virtual-machine steps the count takes (counted by a progress handler)."""
    taken = [0]

    def step() -> int:
        taken[0] += 1
        return 0

    with read_session(board.database.engine) as session:
        raw = session.connection().connection.driver_connection
        raw.set_progress_handler(step, 10)
        try:
            CaseRepository(session).count(query, cap=cap)
        finally:
            raw.set_progress_handler(None, 10)
    return taken[0]


@pytest.mark.parametrize("query", ["w", "wi", "wide", "wide s", "wide synthetic"])
def test_the_capped_count_visits_about_cap_matches_not_all(
    sqlite_file: Path, tmp_path: Path, query: str
) -> None:
    """1,500 matches, counted to 1,001: the work is about two thirds of the full count's
    or less, on every path (by the steps SQLite's virtual machine takes; SQLite only)."""
    copy = tmp_path / "board.sqlite3"
    shutil.copyfile(sqlite_file, copy)
    with Board.open(copy, clock=lambda: TODAY) as board:
        full, capped = steps(board, query, None), steps(board, query, CAP)
    assert capped <= 0.75 * full, (query, capped, full)


def test_the_exact_count_stops_when_asked(board: Board, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repositories, "STOP_CHECK", 100)  # many looks in 1,500 rows
    looks = [0]

    def never() -> bool:
        looks[0] += 1
        return False

    def after(n: int) -> object:
        def stop() -> bool:
            looks[0] += 1
            return looks[0] > n

        return stop

    assert board.cases.count_until("w", lambda: True) is None  # stale before it began
    assert board.cases.count_until("w", never) == CASES
    whole = looks[0]  # looks at `stop` during a whole count
    looks[0] = 0
    if board.database.engine.dialect.name == "sqlite":  # interrupted while it runs
        assert whole > 10
        assert board.cases.count_until("w", after(2)) is None  # type: ignore[arg-type]
        assert looks[0] <= 4 < whole
    else:  # PostgreSQL looks before and after: the statement runs, its answer is dropped
        assert whole == 2
        assert board.cases.count_until("w", after(1)) is None  # type: ignore[arg-type]
    assert board.cases.count("w") == CASES  # the connection works on afterwards
    with board.database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
