"""The Timeline tab driven through real widgets (issue 19, item 4): a truthful chart of the
demo patient with a hepatectomy and a recurrence (DEMO-0012), the same encoding as the PDF,
readable on a dark palette, and every point reachable and openable from the keyboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import evaluate, evaluation_to_dict
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.engine.readmodel import EvaluationView
from crlmboard.domain.timeline import INKS, build_timeline
from crlmboard.services import Board
from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.views.timeline import TimelineCanvas, TimelineView
from tests.conftest import TODAY

pytestmark = [pytest.mark.ui, pytest.mark.db]

DEMO = Path(__file__).resolve().parents[2] / "crlmboard" / "resources" / "demo"
HEPATECTOMY = date(2025, 3, 17)


def demo_data(number: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(next(DEMO.glob(f"DEMO-{number}-*.json")).read_text("utf-8"))
    return data


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(next(DEMO.glob("DEMO-0012-*.json")))
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.resize(1280, 720)
    shown.show()
    shown.select_case("DEMO-0012")
    yield shown


def timeline_tab(window: MainWindow) -> TimelineView:
    view = window.workspace.timeline
    assert isinstance(view, TimelineView)
    window.workspace.setCurrentWidget(view)
    QApplication.processEvents()
    view.canvas.repaint()
    return view


def test_a_hepatectomy_starts_a_new_episode_on_the_chart(window: MainWindow) -> None:
    """No drawn line joins a measurement before the operation to one after it (the fall
    to 0 mm was read as a response); each episode starts with its own baseline; the
    legend lists exactly what is drawn; both value axes have ticks."""
    canvas = timeline_tab(window).canvas
    assert canvas.runs["target_sum"] and canvas.runs["all_lesions"]
    for key, runs in canvas.runs.items():
        for run in runs:
            assert all(d < HEPATECTOMY for d in run) or all(d > HEPATECTOMY for d in run), key
    assert [d for run in canvas.runs["all_lesions"] for d in run[:1]] == [
        date(2024, 11, 20),
        date(2025, 6, 16),
    ]
    assert canvas.timeline is not None
    baselines = [m.date for m in canvas.timeline.imaging if m.baseline]
    assert baselines == [date(2024, 11, 20), date(2025, 6, 16)]
    assert canvas.legend_labels == [e.label for e in canvas.timeline.legend()]
    assert "Liver-clearing operation: a new episode" in canvas.legend_labels
    assert not any("mmunotherapy" in label for label in canvas.legend_labels)  # none given
    assert canvas.value_ticks["mm"] == ["0", "20", "40", "60", "80"]
    assert canvas.value_ticks["CEA ng/mL"] == ["0", "5", "10", "15", "20"]
    # the primary (2024-01-15) is on the chart, not dropped
    assert any(h.kind == "milestone" and h.when == date(2024, 1, 15) for h in canvas.hits)


def test_no_two_labels_collide(window: MainWindow) -> None:
    canvas = timeline_tab(window).canvas
    labels = canvas.labels
    assert len(labels) >= 8  # six events and the RECIST tags
    for i, a in enumerate(labels):
        for b in labels[:i]:
            assert not a.intersected(b).isValid() or a.intersected(b).isEmpty(), (a, b)


def test_every_point_is_reached_and_opened_from_the_keyboard(
    window: MainWindow, qtbot: QtBot
) -> None:
    view = timeline_tab(window)
    canvas = view.canvas
    assert canvas.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert canvas.accessibleName() == "Timeline of DUMMYFIELD, Eva (DEMO-0012)"
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    case = window.workspace.case
    assert case is not None
    records = (
        len(case.chemotherapy)
        + len(case.procedures)
        + len(case.imaging)
        + len([lab for lab in case.labs if lab.cea_ng_ml is not None])
        + 4  # primary diagnosed and resected, liver metastases diagnosed, recurrence
    )
    assert len(canvas.stops) == records
    seen = {canvas.current}
    for _ in range(records + 2):
        qtbot.keyClick(canvas, Qt.Key.Key_Right)
        seen.add(canvas.current)
    assert seen == set(range(records))
    assert canvas.current == records - 1  # stops at the last point
    assert canvas.accessibleDescription().startswith("2026-10-05: PET-CT, episode 2")
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert canvas.current == 0
    hits = {h.stop for h in canvas.hits}
    assert hits == set(range(records))  # every point drawn has its place to click

    # Enter on the recurrence scan opens that timepoint's dialog
    target = next(
        i for i, s in enumerate(canvas.stops) if s.kind == "imaging" and s.when == date(2026, 9, 21)
    )
    while canvas.current != target:
        qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert "MRI, episode 2" in canvas.accessibleDescription()
    requested: list[tuple[str, Any]] = []
    canvas.record_requested.connect(lambda kind, record: requested.append((kind, record)))
    shown: list[Any] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, look)
            return
        assert isinstance(dialog, TimepointDialog)
        shown.append(dialog.form.editors["date"].raw_value())
        dialog.reject()

    QTimer.singleShot(0, look)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert requested and requested[0][0] == "imaging"
    assert requested[0][1].date == date(2026, 9, 21)
    assert shown, "the timepoint dialog did not open"
    assert window.workspace.currentWidget() is window.workspace.imaging


def test_readable_on_a_dark_palette(qtbot: QtBot) -> None:
    case = case_from_dict(demo_data("0012"), TODAY)
    evaluation = evaluation_to_dict(evaluate(case, TODAY, Profile()))
    view = TimelineView()
    qtbot.addWidget(view)
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    palette.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e6e6e6"))
    view.setPalette(palette)
    view.resize(1000, 600)
    view.show()
    view.show_case(case, EvaluationView.parse(evaluation, case))
    canvas: TimelineCanvas = view.canvas
    image = canvas.grab().toImage()
    assert canvas.dark
    target = QColor(INKS["target_sum"].dark)
    assert target.lightness() > 128  # light ink on the dark base
    point = next(h for h in canvas.hits if h.kind == "imaging" and h.when == date(2025, 1, 20))
    centre = point.rect.center().toPoint() * canvas.devicePixelRatioF()
    assert image.pixelColor(centre).name() == target.name()
    corner = image.pixelColor(2, 2)
    assert corner.lightness() < 64  # the chart's background follows the palette


def test_the_app_and_the_pdf_draw_one_encoding(qtbot: QtBot) -> None:
    """The same legend, in the same words and the same order, and the same colours."""
    from reportlab.graphics.shapes import String

    from crlmboard.report.timeline import timeline_drawing

    case = case_from_dict(demo_data("0012"), TODAY)
    evaluation = evaluation_to_dict(evaluate(case, TODAY, Profile()))
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(1200, 640)
    view.show()
    view.show_case(case, EvaluationView.parse(evaluation, case))
    view.canvas.repaint()
    timeline = build_timeline(case, evaluation["facts"], as_of=TODAY)
    drawing = timeline_drawing(timeline, 520)
    strings = [s.text for s in drawing.contents if isinstance(s, String)]
    for label in view.canvas.legend_labels:
        assert label in strings, label
    colours = {
        s.text: s.fillColor.hexval()[2:].lower() for s in drawing.contents if isinstance(s, String)
    }
    assert colours["Episode 2"] == INKS["liver_clearing"].light.lstrip("#")
    assert view.canvas.colour(INKS["liver_clearing"]).name() == INKS["liver_clearing"].light
