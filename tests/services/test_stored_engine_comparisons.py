"""The older engines' comparison stored with the case (issue 21, B3; migration 0012).

A case whose reviews were signed with engine 1.0.0 gets a note on how today's engine reads
each of them; that comparison runs the engine once per such review.  It is stored with the
case at each write (and by an open that found none, and by the background pass) and read
back by an open only for exactly the same stored case and save, engine and profile.  Here:
the notes an open shows always equal the notes made afresh (after a save, a new signed
review, a profile change, an engine change, an erasure, a restore), and an open that finds
the comparison stored runs no engine (calls counted, never time).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import history
from crlmboard.services import Board
from crlmboard.services.maintenance import restore_database
from crlmboard.store.tables import unpack
from tests.conftest import TODAY, postgres_url

pytestmark = pytest.mark.db

FIXTURES = Path(__file__).parent / "fixtures"
CASE_FILE = FIXTURES / "signed-review-engine-1.0.0.case.json"
MRN = "SIGNED-100"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    if request.param == "sqlite":
        return tmp_path / "board.sqlite3"
    from tests.store.conftest import fresh_postgres

    fresh_postgres().dispose()
    return postgres_url()


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every run of the engine by the comparison (`history.evaluate`), counted."""
    runs: list[int] = []
    evaluate = history.evaluate

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(history, "evaluate", counted)
    return runs


@pytest.fixture
def board(where: str | Path) -> Iterator[Board]:
    with Board.open(where, clock=lambda: TODAY) as opened:
        summary = opened.cases.import_path(CASE_FILE)
        assert summary.ok, summary.refused
        yield opened


def opened_notes(board: Board, mrn: str = MRN) -> tuple[list[str], bool]:
    """What the window's door reads for an open (crlmboard/ui/ops.py `open_case`, without
    the evaluations it remembers in memory): the notes and whether none was stored."""
    case, stamp = board.cases.get_stamped(mrn)
    notes = board.cases.engine_changes(case, stamp)
    return [c.text() for c in notes.changes], notes.missing


def afresh(board: Board, mrn: str = MRN) -> list[str]:
    """The notes made now by the engine, from the case as stored."""
    return [
        c.text() for c in history.engine_changes(board.cases.get(mrn), board.evaluation.profile)
    ]


def stored_rows(board: Board) -> list[dict[str, Any]]:
    with board.database.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM engine_comparison")).mappings()
        return [dict(r) for r in rows]


def comparison_audit_values(board: Board) -> list[str]:
    """The audit rows whose values hold a comparison (its notes' own key)."""
    with board.database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT seq, before_json, after_json FROM audit_event ORDER BY seq")
        )
        values = [unpack(b or "") + unpack(a or "") for _, b, a in rows]
    return [v for v in values if "signed_engine_version" in v]


def spoil_stored(board: Board, **values: Any) -> None:
    """Change the stored row as a stale one would be (another engine, another profile),
    with notes that no comparison ever makes, so that showing it would be seen."""
    bogus = [
        {
            "review_index": 0,
            "meeting_date": "2001-01-01",
            "signed_engine_version": "0.0.1",
            "as_of": "2001-01-01",
            "rules_added": ["STALE.NOTE"],
            "rules_removed": [],
        }
    ]
    assignments = "".join(f", {k} = :{k}" for k in values)
    with board.database.engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE engine_comparison SET changes = :changes{assignments}"),
            {"changes": json.dumps(bogus), **values},
        )


def test_an_imported_case_opens_with_its_stored_comparison_and_runs_no_engine(
    board: Board, engine_runs: list[int]
) -> None:
    expected = afresh(board)
    assert len(expected) == 1 and "signed with guideline engine 1.0.0" in expected[0]
    engine_runs.clear()
    notes, missing = opened_notes(board)
    assert notes == expected and not missing
    assert engine_runs == []  # read as stored at the import's write
    [row] = stored_rows(board)
    assert row["engine_version"] == history.ENGINE_VERSION


def test_a_comparison_made_at_an_open_is_stored_once_and_not_made_again(
    board: Board, engine_runs: list[int]
) -> None:
    with board.database.engine.begin() as connection:  # as after the upgrade to 0012
        connection.execute(sa.text("DELETE FROM engine_comparison"))
    engine_runs.clear()
    notes, missing = opened_notes(board)
    assert missing and engine_runs == [1]
    assert notes == afresh(board)
    assert board.cases.keep_engine_changes(MRN) is True  # the door's background step
    assert board.cases.keep_engine_changes(MRN) is False  # stored already: nothing again
    # the open, afresh() and the first step (which, not handed what the open made,
    # compares again); the second step finds it stored
    assert engine_runs == [1, 1, 1]
    engine_runs.clear()
    for _ in range(2):  # a second and a third cold open
        again, missing = opened_notes(board)
        assert again == notes and not missing
    assert engine_runs == []


def test_a_save_stores_the_comparison_of_the_new_version(
    board: Board, engine_runs: list[int]
) -> None:
    case, version = board.cases.get_with_version(MRN)
    saved = board.cases.save(case.model_copy(update={"labs": []}), version)
    assert saved.version == version + 1
    engine_runs.clear()
    notes, missing = opened_notes(board)
    assert not missing and engine_runs == []
    assert notes == afresh(board)
    [row] = stored_rows(board)  # one row per case: the save replaced it
    assert row["case_version"] == saved.version


def test_a_new_review_signed_with_an_older_engine_is_in_the_notes(
    board: Board, engine_runs: list[int]
) -> None:
    before, _ = opened_notes(board)
    case, version = board.cases.get_with_version(MRN)
    later = case.reviews[0].model_copy(
        update={"meeting_date": case.reviews[0].meeting_date.replace(day=11)}
    )
    board.cases.save(case.model_copy(update={"reviews": [*case.reviews, later]}), version)
    engine_runs.clear()
    notes, missing = opened_notes(board)
    assert not missing and engine_runs == []
    assert notes == afresh(board) and len(notes) == 2 and notes[0] == before[0]


def test_another_profile_never_reads_the_comparison_of_the_one_before(
    board: Board, tmp_path: Path, engine_runs: list[int]
) -> None:
    spoil_stored(board)  # the row keeps today's key: it would be shown for this profile
    assert opened_notes(board)[0] != afresh(board)  # (the test can see a stored row)
    profile = tmp_path / "strict.toml"
    profile.write_text("restaging_interval_days = 42\n", "utf-8")
    board.evaluation.use_profile(profile)
    engine_runs.clear()
    notes, missing = opened_notes(board)
    assert missing and engine_runs == [1]
    assert notes == afresh(board) and "STALE.NOTE" not in " ".join(notes)
    assert board.cases.keep_engine_changes(MRN)
    assert opened_notes(board) == (notes, False)


def test_a_comparison_of_another_engine_or_save_is_never_shown(board: Board) -> None:
    expected = afresh(board)
    spoil_stored(board, engine_version="1.0.0")
    assert opened_notes(board) == (expected, True)
    board.cases.keep_engine_changes(MRN)
    spoil_stored(board, case_version=99)
    assert opened_notes(board) == (expected, True)


def test_the_background_pass_stores_what_is_missing(board: Board, engine_runs: list[int]) -> None:
    with board.database.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM engine_comparison"))
        connection.execute(sa.text("DELETE FROM setting WHERE key = 'case_list_summaries_as_of'"))
    step = board.cases.refresh_summaries(limit=50)
    assert step.next_after is None
    assert len(stored_rows(board)) == 1
    engine_runs.clear()
    assert opened_notes(board) == (afresh(board), False)
    assert engine_runs == [1]  # afresh() only: the open ran none


def test_an_erased_case_leaves_no_comparison_and_a_new_case_never_gets_its_notes(
    board: Board,
) -> None:
    assert len(stored_rows(board)) == 1
    assert comparison_audit_values(board) != []
    board.erasure.erase(
        MRN, reason="test patient entered here", confirm_mrn=MRN, including_signed=True
    )
    assert stored_rows(board) == []
    # the comparison's audit values went with the case's other audit rows (tombstones),
    # and the erasure row counts the row among the records it deleted
    assert comparison_audit_values(board) == []
    with board.database.engine.connect() as connection:
        erasure = connection.execute(
            sa.text("SELECT after_json FROM audit_event WHERE action = 'erasure'")
        ).scalar_one()
    assert json.loads(erasure)["records"]["engine_comparison"] == 1
    assert board.maintenance.check().ok
    # a new case under the same MRN (SQLite may give it the same id): no note of the old
    data = json.loads(CASE_FILE.read_text("utf-8"))
    data["reviews"] = []
    board.cases.import_text(json.dumps(data))
    assert opened_notes(board) == ([], False)


def test_a_restored_database_shows_the_notes_of_its_own_cases(
    tmp_path: Path, engine_runs: list[int]
) -> None:
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_path(CASE_FILE)
        backup = board.maintenance.backup(tmp_path / "before.sqlite3")
        case, version = board.cases.get_with_version(MRN)
        later = case.reviews[0].model_copy(
            update={"meeting_date": case.reviews[0].meeting_date.replace(day=11)}
        )
        board.cases.save(case.model_copy(update={"reviews": [*case.reviews, later]}), version)
        assert len(opened_notes(board)[0]) == 2
    restore_database(path, backup.path)
    with Board.open(path, clock=lambda: TODAY) as board:
        engine_runs.clear()
        notes, missing = opened_notes(board)
        assert not missing and engine_runs == []
        assert notes == afresh(board) and len(notes) == 1


def test_a_read_only_database_computes_and_writes_nothing(
    tmp_path: Path, engine_runs: list[int]
) -> None:
    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        board.cases.import_path(CASE_FILE)
        with board.database.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM engine_comparison"))
    before = path.read_bytes()
    with Board.open(f"sqlite:///file:{path}?mode=ro&uri=true", clock=lambda: TODAY) as board:
        assert board.read_only
        notes, missing = opened_notes(board)
        assert missing and notes == afresh(board)
        assert board.cases.keep_engine_changes(MRN) is False
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM engine_comparison").fetchone() == (0,)
    assert path.read_bytes() == before


def test_the_stored_comparison_round_trips(board: Board) -> None:
    case = loads_case(CASE_FILE.read_text("utf-8"), TODAY)
    changes = history.engine_changes(case, board.evaluation.profile)
    assert [history.EngineChange.from_json(c.to_json()) for c in changes] == changes


def test_what_an_open_made_is_not_stored_for_a_save_made_since(board: Board) -> None:
    with board.database.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM engine_comparison"))
    case, stamp = board.cases.get_stamped(MRN)
    made = board.cases.engine_changes(case, stamp)
    assert made.missing
    board.cases.save(case.model_copy(update={"labs": []}), stamp.version)  # stores its own
    with board.database.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM engine_comparison"))
    assert board.cases.keep_engine_changes(MRN, (stamp, made)) is False
    assert stored_rows(board) == []
    assert board.cases.keep_engine_changes(MRN) is True  # read and compared now
    assert opened_notes(board) == (afresh(board), False)


def test_each_write_of_the_comparison_is_in_the_case_history(board: Board, tmp_path: Path) -> None:
    """The import's row, a save's new key and a background step's row after a profile
    change are each in the audit trail with their values, by the actor of the write;
    `check` finds the stored row equal to its trail after each."""

    def comparison_entries() -> list[Any]:
        return [e for e in board.maintenance.case_history(MRN) if e.table == "engine_comparison"]

    [inserted] = comparison_entries()
    [row] = stored_rows(board)
    assert inserted.action == "insert" and inserted.after is not None
    stored_changes = (
        row["changes"] if isinstance(row["changes"], list) else json.loads(row["changes"])
    )
    assert inserted.after["changes"] == stored_changes
    assert inserted.after["engine_version"] == history.ENGINE_VERSION
    assert board.maintenance.check().ok
    case, version = board.cases.get_with_version(MRN)
    saved = board.cases.save(case.model_copy(update={"labs": []}), version)
    updated = comparison_entries()[-1]
    assert updated.action == "update" and updated.after is not None and updated.before
    assert updated.after["case_version"] == saved.version
    assert board.maintenance.check().ok
    profile = tmp_path / "strict.toml"
    profile.write_text("restaging_interval_days = 42\n", "utf-8")
    board.evaluation.use_profile(profile)
    assert board.cases.keep_engine_changes(MRN) is True
    keyed = comparison_entries()[-1]
    assert keyed.after == {"profile_key": board.evaluation.profile_key}
    assert keyed.app_user == inserted.app_user
    assert board.maintenance.check().ok


def test_a_comparison_that_cannot_be_stored_never_costs_the_save(tmp_path: Path) -> None:
    """The database refuses the derived row (a trigger stands in for a full table or a
    missing grant): the save is stored with its audit rows all the same, and the next open
    makes the notes afresh."""
    with Board.open(tmp_path / "board.sqlite3", clock=lambda: TODAY) as board:
        with board.database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TRIGGER refuse_comparison BEFORE INSERT ON engine_comparison "
                    "BEGIN SELECT RAISE(ABORT, 'refused here'); END"
                )
            )
        assert board.cases.import_path(CASE_FILE).ok
        case, version = board.cases.get_with_version(MRN)
        saved = board.cases.save(case.model_copy(update={"labs": []}), version)
        stored, stored_version = board.cases.get_with_version(MRN)
        assert stored_version == saved.version == version + 1 and stored.labs == []
        assert stored_rows(board) == []
        assert opened_notes(board) == (afresh(board), True)
        assert board.maintenance.check().ok  # no audit row of a row that was never stored


def test_what_an_open_made_with_another_profile_is_not_stored_for_this_one(
    board: Board, tmp_path: Path
) -> None:
    """The profile changed between an open and the door's background step: what the open
    made is not stored under the new profile's key."""
    with board.database.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM engine_comparison"))
    case, stamp = board.cases.get_stamped(MRN)
    made = board.cases.engine_changes(case, stamp)
    profile = tmp_path / "strict.toml"
    profile.write_text("restaging_interval_days = 42\n", "utf-8")
    board.evaluation.use_profile(profile)
    assert board.cases.keep_engine_changes(MRN, (stamp, made)) is False
    assert stored_rows(board) == []


# -- the stored comparison against its audit trail ------------------------------------------

HIDDEN = [  # what a tamperer would leave: the note that today's engine reads it otherwise gone
    {
        "review_index": 0,
        "meeting_date": "2026-01-01",
        "signed_engine_version": "1.0.0",
        "as_of": "2026-01-01",
        "rules_added": [],
        "rules_removed": ["TAMPERED.NOTE"],
    }
]


def test_a_comparison_changed_in_the_sqlite_file_is_found_by_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone who can write the database file changes the text a surgeon sees at an open
    (the sqlite3 shell, in effect): `crlmboard check` names the row and field."""
    from crlmboard.cli import main

    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(CASE_FILE).ok
    assert main(["check", "-q", "--db", str(path)]) == 0
    capsys.readouterr()
    with sqlite3.connect(path) as connection:
        assert (
            connection.execute(
                "UPDATE engine_comparison SET changes = ?", [json.dumps(HIDDEN)]
            ).rowcount
            == 1
        )
    connection.close()
    with Board.open(path, clock=lambda: TODAY) as board:
        notes, missing = opened_notes(board)  # the open shows what the file says ...
        assert not missing and "TAMPERED.NOTE" in notes[0]
    assert main(["check", "-q", "--db", str(path)]) == 1  # ... and check sees it
    out = capsys.readouterr().out
    [case_id] = [line for line in out.splitlines() if "engine_comparison row" in line]
    assert "field changes" in case_id and "changed outside crlmboard" in case_id


def test_a_comparison_changed_in_the_database_is_found_by_check(where: str | Path) -> None:
    """The same on either back end, through the services: the stored key (engine, save)
    is compared with the trail as well as the text."""
    with Board.open(where, clock=lambda: TODAY) as board:
        assert board.cases.import_path(CASE_FILE).ok
        assert board.maintenance.check().ok
        spoil_stored(board)
        problems = board.maintenance.check().problems
        assert any("engine_comparison row" in p and "field changes" in p for p in problems)
        with board.database.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE engine_comparison SET changes = :c, case_version = 7"),
                {"c": json.dumps(stored_rows(board)[0]["changes"])},
            )
        problems = board.maintenance.check().problems
        assert any("engine_comparison row" in p and "field case_version" in p for p in problems)


def test_comparisons_stored_before_they_were_audited_are_never_trusted(tmp_path: Path) -> None:
    """A database of migration 0012 holds a comparison written without audit rows (here,
    one changed in the file as well): the upgrade to 0013 discards it, the open makes the
    notes afresh, `check` finds nothing, and the next background pass stores an audited
    comparison again."""
    from crlmboard.store import migrate
    from crlmboard.store.database import create_database_engine

    path = tmp_path / "board.sqlite3"
    with Board.open(path, clock=lambda: TODAY) as board:
        with board.database.engine.begin() as connection:  # the case without a comparison
            connection.execute(
                sa.text(
                    "CREATE TRIGGER refuse_comparison BEFORE INSERT ON engine_comparison "
                    "BEGIN SELECT RAISE(ABORT, 'refused here'); END"
                )
            )
        assert board.cases.import_path(CASE_FILE).ok
        assert board.cases.refresh_summaries(limit=50).next_after is None  # today's pass done
        profile_key = board.evaluation.profile_key
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        migrate.downgrade(engine, "0012")
    finally:
        engine.dispose()
    with sqlite3.connect(path) as connection:  # as the app of 0012 wrote it, then changed
        connection.execute("DROP TRIGGER refuse_comparison")
        connection.execute(
            "INSERT INTO engine_comparison SELECT id, created_at, version, updated_at, ?, ?, ? "
            "FROM patient WHERE mrn = ?",
            [history.ENGINE_VERSION, profile_key, json.dumps(HIDDEN), MRN],
        )
    connection.close()
    with Board.open(path, clock=lambda: TODAY) as board:
        assert stored_rows(board) == []
        assert opened_notes(board) == (afresh(board), True)
        assert board.maintenance.check().ok
        assert board.cases.refresh_summaries(limit=50).next_after is None
        assert len(stored_rows(board)) == 1
        assert opened_notes(board) == (afresh(board), False)
        assert board.maintenance.check().ok


def test_a_folder_of_cases_with_older_reviews_gets_each_comparison_in_its_cases_one_row(
    where: str | Path, tmp_path: Path, engine_runs: list[int]
) -> None:
    """A folder import writes its files in batches (`create_many`): each new case's inserts
    are made as one `changes` row, and its stored comparison joins that row, not a nested
    one; `check` finds every stored row equal to the trail."""
    folder = tmp_path / "folder"
    folder.mkdir()
    data = json.loads(CASE_FILE.read_text("utf-8"))
    for n in range(3):
        data["patient"]["mrn"] = f"SIGNED-{200 + n}"
        (folder / f"case-{n}.json").write_text(json.dumps(data), "utf-8")
    with Board.open(where, clock=lambda: TODAY) as board:
        summary = board.cases.import_path(folder)
        assert summary.ok and len(summary.imported) == 3, summary.refused
        for n in range(3):
            mrn = f"SIGNED-{200 + n}"
            entries = board.maintenance.case_history(mrn)
            assert len({entry.seq for entry in entries}) == 1  # the case's one audit row
            assert {entry.action for entry in entries} == {"insert"}
            tables = {entry.table for entry in entries}
            assert {"engine_comparison", "patient"} <= tables
            engine_runs.clear()
            assert opened_notes(board, mrn) == (afresh(board, mrn), False)
        assert board.maintenance.check().ok, board.maintenance.check().problems


def test_the_history_names_the_comparison_as_made_by_crlmboard(board: Board, qtbot: Any) -> None:
    """A stored comparison is audited, but no one typed it: the case's history says so
    rather than listing it as a record of the case ("engine comparison 1")."""
    from crlmboard.ui.dialogs.safety import HistoryDialog

    entries = board.maintenance.case_history(MRN)
    dialog = HistoryDialog(MRN, entries)
    qtbot.addWidget(dialog)
    records = [
        dialog.model.data(dialog.model.index(row, 3)) for row in range(dialog.model.rowCount())
    ]
    assert "older engines' comparison (made by crlmboard)" in records
    assert not any(r.startswith("engine comparison") for r in records)
    assert any(r.startswith("patient") for r in records)
