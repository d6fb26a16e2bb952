"""The lost update of issue 18: a folder import runs (its writes share a batch) and an edit
is saved meanwhile.  The edit must land durably in a transaction of its own — never join the
import's batch and vanish when the import fails after `save()` reported the new version — and
it must survive the import's success as well.  The import and the save are interleaved
deterministically: the save runs from the import's progress callback (the same thread), or
from a second thread while the import waits in its callback."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.services import Board, BoardError, importing
from crlmboard.services.cases import SavedCase
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

FILES = 5  # cases in the folder
EDIT_AT = 2  # the edit is saved when this many files are done
FAIL_AT = 4  # the import then fails here (an error that escapes, e.g. the program stops)
WAIT = 60.0  # a safety limit on thread hand-overs, never reached when the code is right


class Interrupted(Exception):
    """The import stops with an error that escapes (its batch is rolled back)."""


def folder(tmp_path: Path) -> Path:
    source = tmp_path / "import"
    source.mkdir()
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    for n in range(FILES):
        document["patient"]["mrn"] = f"IMP-{n}"
        (source / f"case-{n}.json").write_text(json.dumps(document), "utf-8")
    return source


def edit(board: Board) -> SavedCase:
    """The coordinator corrects a name in EX-0001 and saves."""
    case, version = board.cases.get_with_version("EX-0001")
    patient = case.patient.model_copy(update={"given_name": "Corrected"})
    return board.cases.save(case.model_copy(update={"patient": patient}), version)


def stored(db_path: Path) -> tuple[str | None, int, list[str]]:
    """What the file holds, read by a fresh Board: EX-0001's given name and version, and
    the imported MRNs."""
    with Board.open(db_path, clock=lambda: TODAY) as fresh:
        case, version = fresh.cases.get_with_version("EX-0001")
        mrns = [e.mrn for e in fresh.cases.page(sort="mrn") if e.mrn.startswith("IMP-")]
        return case.patient.given_name, version, mrns


@pytest.fixture
def opened(db_path: Path) -> Any:
    board = Board.open(db_path, clock=lambda: TODAY)
    board.cases.import_path(GOLDEN)
    yield board
    board.close()


def test_an_edit_saved_during_an_import_survives_the_import_failing(
    opened: Board, db_path: Path, tmp_path: Path
) -> None:
    saved: list[SavedCase] = []

    def progress(done: int, total: int) -> bool:
        if done == EDIT_AT:
            saved.append(edit(opened))
        if done == FAIL_AT:
            raise Interrupted
        return True

    with pytest.raises(Interrupted):
        opened.cases.import_path(folder(tmp_path), progress=progress)
    assert saved[0].version == 2
    opened.close()
    name, version, _mrns = stored(db_path)
    assert (name, version) == ("Corrected", 2)  # what save() reported is what is stored


def test_an_edit_saved_during_an_import_survives_the_import_succeeding(
    opened: Board, db_path: Path, tmp_path: Path
) -> None:
    saved: list[SavedCase] = []

    def progress(done: int, total: int) -> bool:
        if done == EDIT_AT:
            saved.append(edit(opened))
        return True

    summary = opened.cases.import_path(folder(tmp_path), progress=progress)
    assert summary.ok and len(summary.imported) == FILES
    opened.close()
    name, version, mrns = stored(db_path)
    assert (name, version) == ("Corrected", saved[0].version)
    assert mrns == [f"IMP-{n}" for n in range(FILES)]  # every file reported is stored


@pytest.mark.parametrize("per_write", [1, importing.FILES_PER_WRITE])
def test_an_edit_from_another_thread_during_an_import_lands_on_its_own(
    opened: Board, db_path: Path, tmp_path: Path, per_write: int, monkeypatch: Any
) -> None:
    """The import runs on a worker thread; the edit is saved on this one while the import
    waits in its progress callback, then the import fails.  With one file per write, the
    files before the edit are written (not yet committed) when it comes; with the usual
    batch they are only read then, and written with the batch — which the failure stops."""
    monkeypatch.setattr(importing, "FILES_PER_WRITE", per_write)
    waiting, go_on = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def progress(done: int, total: int) -> bool:
        if done == EDIT_AT:
            waiting.set()
            assert go_on.wait(WAIT)
        if done == FAIL_AT:
            raise Interrupted
        return True

    def run_import() -> None:
        try:
            opened.cases.import_path(folder(tmp_path), progress=progress)
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=run_import)
    worker.start()
    try:
        assert waiting.wait(WAIT)
        saved = edit(opened)
    finally:
        go_on.set()
        worker.join(WAIT)
    assert not worker.is_alive()
    assert len(failure) == 1 and isinstance(failure[0], Interrupted)
    opened.close()
    name, version, mrns = stored(db_path)
    assert (name, version) == ("Corrected", saved.version)
    # the files written before the edit were committed with it; none after it
    assert mrns == [f"IMP-{n}" for n in range(EDIT_AT if per_write == 1 else 0)]


def test_two_imports_at_once_are_refused_plainly(opened: Board, tmp_path: Path) -> None:
    """One folder import at a time: a second one started meanwhile is refused with a
    sentence, and the first goes on."""
    refused: list[str] = []

    def progress(done: int, total: int) -> bool:
        if done == EDIT_AT and not refused:
            with pytest.raises(BoardError) as second:
                opened.cases.import_path(tmp_path / "import")
            refused.append(str(second.value))
        return True

    summary = opened.cases.import_path(folder(tmp_path), progress=progress)
    assert summary.ok and len(summary.imported) == FILES
    assert "import is still running" in refused[0]


def test_an_import_whose_work_could_not_be_committed_is_not_reported_done(
    opened: Board, db_path: Path
) -> None:
    """The edit commits the import's batch first; when that commit fails (here a deferred
    foreign key: SQLite checks it at COMMIT), the edit still lands and the import stops with
    a sentence at its next write instead of reporting work that was rolled back."""
    database = opened.database
    saved: list[SavedCase] = []
    with (
        pytest.raises(BoardError, match="could not be saved"),
        database.batched() as batch,
    ):
        with database.write(batch) as session:
            session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
            session.execute(
                sa.text(
                    "INSERT INTO agenda_item (meeting_id, case_id, position, question) "
                    "VALUES (999, 999, 0, 'no such meeting')"
                )
            )
        saved.append(edit(opened))  # the batch's commit fails; the edit goes on
        with database.write(batch):  # the import's next write
            pytest.fail("the import went on after its work was lost")
    opened.close()
    name, version, _mrns = stored(db_path)
    assert (name, version) == ("Corrected", saved[0].version)
