"""Shared fixtures: a fixed clock, case documents, real database files."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crlmboard.services import Board

TODAY = date(2026, 11, 24)
GOLDEN = Path(__file__).parent / "golden"


def golden_cases() -> list[Path]:
    """The golden case files (not their expected evaluations)."""
    return sorted(p for p in GOLDEN.glob("*.json") if not p.name.endswith(".expected.json"))


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real per-user folders or database."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("CRLMBOARD_LOG_DIR", str(home / "log"))
    monkeypatch.delenv("CRLMBOARD_DB", raising=False)
    # Qt reads XDG_CONFIG_HOME once per process: without this, the window state one test
    # leaves (the case list's sort column, geometry, the last database) reached the next
    from PySide6.QtCore import QSettings

    for form in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(form, QSettings.Scope.UserScope, str(home / "config"))


@pytest.fixture
def upfront() -> dict[str, Any]:
    """A complete valid case document (the upfront-resection golden example)."""
    data: dict[str, Any] = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    return copy.deepcopy(data)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "board.sqlite3"


class Calendar:
    """A test board's clock: TODAY unless a test turns it (`turn_to`), e.g. to a meeting's
    day, since a review is signed on or after its meeting's date."""

    def __init__(self, day: date = TODAY) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def turn_to(board: Board, day: date | str) -> None:
    """Set the test board's today (its clock must be a `Calendar`)."""
    calendar = board.today
    assert isinstance(calendar, Calendar)
    calendar.day = day if isinstance(day, date) else date.fromisoformat(day)


@pytest.fixture
def board(db_path: Path) -> Iterator[Board]:
    with Board.open(db_path, clock=Calendar()) as opened:
        yield opened


def _worker_postgres_server() -> None:
    """In a parallel run (pytest-xdist), worker gw<i> takes test server i
    (`start_postgres N` in scripts/postgres.sh exports CRLMBOARD_TEST_PG_URL_<i>): roles are
    per server and some tests restart theirs, so two workers never share one.  Set in the
    environment, so the child processes a test starts reach the same server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or "CRLMBOARD_TEST_PG_URL_0" not in os.environ:
        return  # one process: the server CRLMBOARD_TEST_PG_URL names
    index = worker.removeprefix("gw")
    for name in ("CRLMBOARD_TEST_PG_URL", "CRLMBOARD_TEST_PG_RESTART"):
        own = os.environ.get(f"{name}_{index}")
        if own is None:
            os.environ.pop(name, None)  # postgres_url() says why
        else:
            os.environ[name] = own


_worker_postgres_server()


def postgres_url() -> str:
    url = os.environ.get("CRLMBOARD_TEST_PG_URL")
    if not url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker and "CRLMBOARD_TEST_PG_URL_0" in os.environ:
            pytest.fail(
                f"no PostgreSQL server of its own for pytest worker {worker}: start as many "
                "servers as workers (`start_postgres N`; scripts/test.sh does)"
            )
        pytest.fail(
            "CRLMBOARD_TEST_PG_URL is not set: run the suite with `bash .ci/run`, "
            "which starts a PostgreSQL server"
        )
    return url


@pytest.fixture(scope="session")
def fhir_validator() -> Any:
    """The validator loaded with the pinned published packages (mCODE 4.0.0, the core
    extensions and the R4 definitions), fetched into the cache on first use."""
    from tests.fhirconformance.packages import fetch_all
    from tests.fhirconformance.validator import Definitions, Validator

    folders = fetch_all()
    return Validator(Definitions(folders.values()))
