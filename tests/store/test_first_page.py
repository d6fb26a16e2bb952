"""The case list's first page read with the standard library before the data layer loads
(store/first_page.py, performance.md B1) is the page the store's paged query gives: same
rows, same order, same next meeting, read-only and through the list's index."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from crlmboard.services import Board
from crlmboard.store.first_page import FIRST_PAGE, read_first_page
from tests.conftest import GOLDEN, TODAY, Calendar

pytestmark = [pytest.mark.db]


def test_the_first_page_is_the_stores_first_page(db_path: Path, upfront: dict) -> None:
    with Board.open(db_path, clock=Calendar()) as board:
        board.cases.import_path(GOLDEN)
        for number, (family, given) in enumerate(
            [("zeta", "A"), (None, "Nameless"), ("Ärzte", "Ü"), ("alpha", None)]
        ):
            upfront["patient"].update(mrn=f"FP-{number}", family_name=family, given_name=given)
            board.cases.import_text(json.dumps(upfront))
        later = board.meetings.create(TODAY + timedelta(days=7)).meeting_id
        sooner = board.meetings.create(TODAY + timedelta(days=3)).meeting_id
        past = board.meetings.create(TODAY - timedelta(days=3)).meeting_id
        for meeting in (later, sooner, past):
            board.meetings.add_to_agenda(meeting, "FP-0", "Resectable?")
        expected = board.cases.page("", limit=5)
        total = board.cases.count("")
    before = db_path.read_bytes()
    found = read_first_page(db_path, TODAY, 5)
    assert found is not None
    assert found.total == total
    assert found.entries == expected
    assert {e.mrn: e.next_meeting for e in found.entries}.get("FP-0", TODAY + timedelta(3)) == (
        TODAY + timedelta(days=3)
    )
    assert db_path.read_bytes() == before  # read-only: nothing written


def test_the_first_page_walks_the_list_index(db_path: Path) -> None:
    with Board.open(db_path) as board:
        board.cases.import_path(GOLDEN)
    connection = sqlite3.connect(db_path)
    plan = " ".join(
        str(row[-1])
        for row in connection.execute("EXPLAIN QUERY PLAN " + FIRST_PAGE, (TODAY.isoformat(), 5))
    )
    connection.close()
    assert "ix_patient_list_name" in plan
    assert "TEMP B-TREE" not in plan  # no sort of every patient


def test_a_database_in_a_sync_folder_is_not_read_before_the_user_is_asked(
    tmp_path: Path,
) -> None:
    """T16 before B1: the window-first start reads nothing of a database on a network share
    or in a sync folder; the normal path opens it, which asks first."""
    from crlmboard.services.first_page import first_page

    for folder in ("local", "OneDrive"):
        path = tmp_path / folder / "board.sqlite3"
        path.parent.mkdir()
        with Board.open(path, clock=Calendar()) as board:
            board.cases.import_path(GOLDEN)
    assert first_page(str(tmp_path / "local" / "board.sqlite3"), TODAY, 5) is not None
    assert first_page(str(tmp_path / "OneDrive" / "board.sqlite3"), TODAY, 5) is None


def test_the_first_page_read_in_two_steps_is_one_snapshot(db_path: Path, upfront: dict) -> None:
    """The screen's rows first, the rest of the page after the first paint (issue 21, B1):
    the same rows as one read, and a case added in between shows in neither the count nor
    the rows (one read transaction); the read ends with the page."""
    with Board.open(db_path, clock=Calendar()) as board:
        for number in range(12):
            upfront["patient"].update(mrn=f"TWO-{number:02d}", family_name=f"Synth{number:02d}")
            board.cases.import_text(json.dumps(upfront))
    whole = read_first_page(db_path, TODAY, 10)
    assert whole is not None and whole.complete and len(whole.entries) == 10
    first = read_first_page(db_path, TODAY, 10, rows=4)
    assert first is not None and not first.complete
    assert first.total == 12 and first.entries == whole.entries[:4]
    with Board.open(db_path, clock=Calendar()) as board:  # a case sorted first, meanwhile
        upfront["patient"].update(mrn="TWO-NEW", family_name="Aaa-synthetic")
        board.cases.import_text(json.dumps(upfront))
    assert first.more(3) == whole.entries[4:7]
    assert not first.complete
    assert first.more(100) == whole.entries[7:10]
    assert first.complete and first.more(5) == []
    assert first.entries == whole.entries
    again = read_first_page(db_path, TODAY, 10, rows=4)
    assert again is not None and again.total == 13 and again.entries[0].mrn == "TWO-NEW"
    again.close()
    assert again.complete and again.more(5) == []
    # the count alone first (the app's start, before its window knows its height)
    count_only = read_first_page(db_path, TODAY, 10, rows=0)
    assert count_only is not None and count_only.total == 13 and count_only.entries == []
    assert not count_only.complete and len(count_only.more(50) or []) == 10
    assert count_only.complete
    # a page that fits in the rows asked for is read whole at once
    small = read_first_page(db_path, TODAY, 200, rows=20)
    assert small is not None and small.complete and len(small.entries) == 13


def test_a_list_row_is_a_value() -> None:
    """The list's row (a plain class since issue 21, B1, no longer a frozen dataclass)
    behaves as one did: equal and hashed by its values, read-only, copied and pickled."""
    import copy
    import pickle

    from crlmboard.store.first_page import CaseListEntry

    def row(**changes: object) -> CaseListEntry:
        values: dict[str, object] = {
            "id": 7,
            "mrn": "SYN-0007",
            "family_name": "Synthetic",
            "given_name": None,
            "birth_date": TODAY - timedelta(days=20000),
            "next_meeting": None,
            "resectability": "borderline",
            "current_response": None,
            "open_warnings": 1,
            "open_criticals": 0,
            "version": 3,
        }
        values.update(changes)
        return CaseListEntry(*values.values())  # type: ignore[arg-type]

    entry = row()
    assert entry == row() and hash(entry) == hash(row()) and entry != row(version=4)
    assert entry != (7, "SYN-0007")
    assert entry.mrn == "SYN-0007" and entry.version == 3
    with pytest.raises(AttributeError):
        entry.mrn = "SYN-0008"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del entry.mrn
    assert copy.copy(entry) == entry and copy.deepcopy(entry) == entry
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert repr(entry).startswith("CaseListEntry(id=7, mrn='SYN-0007', family_name='Synthetic'")
