"""Opening a case fills only the tab in view; every other tab is filled when it is shown
(issue 21, B3) — and a tab filled for one patient is never shown for another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QAbstractItemModel
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.workspace import CaseWorkspace
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]

ADA, BRUNO, CLARA = "EX-0001", "EX-0002", "EX-0003"


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    yield shown


def resets(model: QAbstractItemModel) -> list[int]:
    """How often a table's model is filled from now on (each fill resets it)."""
    count = [0]
    model.modelReset.connect(lambda: count.__setitem__(0, count[0] + 1))
    return count


def given_name(workspace: CaseWorkspace) -> str:
    return workspace.staging.forms["patient"].editors["given_name"].line.text()  # type: ignore[union-attr]


def test_opening_a_case_fills_only_the_tab_in_view(window: MainWindow) -> None:
    workspace = window.workspace
    tables = {
        "chemotherapy": workspace.chemotherapy.model,
        "procedures": workspace.procedures.model,
        "outcomes": workspace.outcomes.model,
        "labs": workspace.labs.model,
        "extrahepatic": workspace.extrahepatic.model,
        "reviews": workspace.reviews.model,
        "imaging": workspace.imaging.timepoints.model,
    }
    counts = {name: resets(model) for name, model in tables.items()}
    workspace.setCurrentWidget(workspace.overview)
    window.open_case(CLARA)
    assert workspace.case is not None and workspace.case.mrn == CLARA
    assert "Clara" in workspace.overview.identity.text()  # the tab in view shows the case
    assert {name: c[0] for name, c in counts.items()} == dict.fromkeys(tables, 0)
    assert given_name(workspace) == ""  # the staging tab was not filled either
    assert workspace.staging.case is None

    workspace.setCurrentWidget(workspace.labs)  # shown: filled, once, with its table below
    assert counts["labs"][0] == counts["extrahepatic"][0] == 1
    assert workspace.labs.model.records == sorted(workspace.case.labs, key=lambda x: x.date)
    assert counts["chemotherapy"][0] == counts["reviews"][0] == 0
    workspace.setCurrentWidget(workspace.overview)
    workspace.setCurrentWidget(workspace.labs)  # shown again, the same case: not refilled
    assert counts["labs"][0] == 1


def test_a_tab_filled_for_one_patient_shows_the_next_one(window: MainWindow) -> None:
    """Open A, show the labs; open B, show the chemotherapy and then the labs: B's values,
    never A's, on every tab, in the banner and in the title."""
    workspace = window.workspace
    window.open_case(CLARA)
    workspace.setCurrentWidget(workspace.labs)
    workspace.setCurrentWidget(workspace.staging)
    assert len(workspace.labs.model.records) == 3
    assert given_name(workspace) == "Clara"

    window.open_case(BRUNO)  # opened with the staging tab in view
    bruno = workspace.case
    assert bruno is not None and bruno.mrn == BRUNO
    assert given_name(workspace) == "Bruno"
    assert "Bruno" in workspace.banner.text() and "Bruno" in window.windowTitle()
    workspace.setCurrentWidget(workspace.chemotherapy)
    assert workspace.chemotherapy.model.records == sorted(bruno.chemotherapy, key=lambda c: c.date)
    workspace.setCurrentWidget(workspace.labs)
    assert workspace.labs.model.records == sorted(bruno.labs, key=lambda x: x.date)
    assert [lab.date.isoformat() for lab in workspace.labs.model.records] == ["2025-02-06"]
    workspace.setCurrentWidget(workspace.overview)
    assert "Bruno" in workspace.overview.identity.text() and BRUNO in (
        workspace.overview.identity.text()
    )
    assert "Bruno" in workspace.banner.text() and "Bruno" in window.windowTitle()


def test_every_tab_filled_on_demand_shows_the_open_case(window: MainWindow) -> None:
    """`ensure_filled()` (what a caller that reads the tabs without showing them uses)
    fills each tab not showing the open case, once."""
    workspace = window.workspace
    window.open_case(CLARA)
    window.open_case(ADA)
    before = workspace.fills
    workspace.ensure_filled()
    filled = workspace.fills - before
    assert filled == workspace.count() - 1  # every tab but the one in view
    workspace.ensure_filled()
    assert workspace.fills - before == filled  # nothing is filled twice
    assert given_name(workspace) == "Ada"
    assert workspace.labs.model.records == sorted(workspace.case.labs, key=lambda x: x.date)  # type: ignore[union-attr]
    assert workspace.reviews.model.records == list(workspace.case.reviews)  # type: ignore[union-attr]


def test_the_lesion_grid_read_after_another_open_is_the_open_case_s(
    window: MainWindow, board: Board
) -> None:
    """The lesions' courses are computed when the Imaging tab first reads the evaluation
    (not at the open): Clara's grid read, then Bruno opened with the overview in view and
    the Imaging tab shown — every cell is Bruno's, as an evaluation of his case made afresh
    gives it; Clara opened again shows hers."""
    from crlmboard.domain.engine.readmodel import EvaluationView

    workspace = window.workspace
    for mrn in (CLARA, BRUNO, CLARA):
        workspace.setCurrentWidget(workspace.overview)
        window.open_case(mrn)
        case = workspace.case
        assert case is not None and case.mrn == mrn
        workspace.setCurrentWidget(workspace.imaging)
        matrix = workspace.imaging.matrix
        assert matrix.evaluation is not None and matrix.evaluation.mrn == mrn
        fresh = EvaluationView.parse(board.evaluation.document(case), case)
        cells = [
            matrix._cell(row, column)
            for row in range(len(matrix.lesions))
            for column in range(len(matrix.timepoints))
        ]
        expected = [
            fresh.lesion(lesion_id, timepoint.date)
            for lesion_id in matrix.lesions
            for timepoint in matrix.timepoints
        ]
        assert any(cells) and cells == expected
        recorded = {(le.id, tp.date) for tp in case.imaging for le in tp.lesions}
        assert {(c.lesion_id, c.date) for c in cells if c is not None} <= recorded
