"""The case workspace driven like a coordinator would: forms, cycles, timepoints, undo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from crlmboard.services import Board
from crlmboard.ui.dialogs.record_dialog import RecordDialog
from crlmboard.ui.dialogs.timepoint_dialog import TimepointDialog
from crlmboard.ui.main_window import MainWindow
from crlmboard.ui.views.record_tabs import LesionMatrixModel, chemotherapy_lines
from tests.conftest import GOLDEN

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(qtbot: QtBot, board: Board) -> Iterator[MainWindow]:
    board.cases.import_path(GOLDEN)
    shown = MainWindow(board)
    qtbot.addWidget(shown)
    shown.show()
    yield shown


def when_dialog(action: Any) -> None:
    """Run `action(dialog)` on the next modal dialog that opens."""

    def act() -> None:
        from PySide6.QtWidgets import QProgressDialog

        dialog = QApplication.activeModalWidget()
        if dialog is None or isinstance(dialog, QProgressDialog):
            QTimer.singleShot(20, act)
            return
        action(dialog)

    QTimer.singleShot(0, act)


def findings(window: MainWindow) -> set[str]:
    evaluation = window.workspace.evaluation
    return set(evaluation.rules()) if evaluation is not None else set()


def test_create_a_case_through_the_ui_and_find_it(window: MainWindow, qtbot: QtBot) -> None:
    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        qtbot.keyClicks(editors["mrn"].line, "NEW-0001")
        qtbot.keyClicks(editors["family_name"].line, "Newcase")
        qtbot.keyClicks(editors["given_name"].line, "Nora")
        qtbot.keyClicks(editors["birth_date"].line, "1970-02-03")
        dialog.accept()

    when_dialog(fill)
    window.new_case()
    assert window.workspace.case is not None
    assert window.workspace.case.mrn == "NEW-0001"
    qtbot.keyClicks(window.filter_edit, "nora")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.data(window.model.index(0, 0)) == "NEW-0001"
    assert window.model.data(window.model.index(0, 1)) == "NEWCASE, Nora"


def test_invalid_value_shows_its_reason_and_is_not_saved(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")
    staging = window.workspace.staging
    ecog = staging.forms["patient"].editors["ecog"]
    ecog.combo or ecog.line.clear()  # type: ignore[union-attr]
    qtbot.keyClicks(ecog.line, "7")
    assert ecog.reason.text() == "must be ≤ 4"
    assert not ecog.reason.isHidden()
    staging.save()
    assert "Correct the fields" in staging.status.text()
    assert window.door.board.cases.get("EX-0001").patient.ecog == 0
    ecog.line.clear()  # type: ignore[union-attr]
    qtbot.keyClicks(ecog.line, "1")
    assert ecog.reason.text() == ""
    staging.save()
    assert window.door.board.cases.get("EX-0001").patient.ecog == 1


def test_add_a_cycle_changes_the_findings_and_undo_redo(window: MainWindow, qtbot: QtBot) -> None:
    window.select_case("EX-0001")
    assert "PATHWAY.UPFRONT_RESECTION" in findings(window)

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, RecordDialog)
        editors = dialog.form.editors
        editors["date"].line.setText("2025-02-05")  # type: ignore[union-attr]
        editors["regimen"].combo.setCurrentIndex(  # type: ignore[union-attr]
            editors["regimen"].combo.findData("folfox")
        )  # type: ignore[union-attr]
        editors["setting"].combo.setCurrentIndex(  # type: ignore[union-attr]
            editors["setting"].combo.findData("neoadjuvant")
        )  # type: ignore[union-attr]
        dialog.accept()

    when_dialog(fill)
    window.workspace.add_cycle()
    assert len(window.door.board.cases.get("EX-0001").chemotherapy) == 1
    # systemic therapy in the episode: the upfront-resection advice no longer applies
    assert "PATHWAY.UPFRONT_RESECTION" not in findings(window)
    assert window.undo_stack.canUndo()
    window.undo_stack.undo()
    assert window.door.board.cases.get("EX-0001").chemotherapy == []
    assert "PATHWAY.UPFRONT_RESECTION" in findings(window)
    window.undo_stack.redo()
    assert len(window.door.board.cases.get("EX-0001").chemotherapy) == 1


def test_add_cycle_copies_the_previous_one_a_cycle_length_later(window: MainWindow) -> None:
    window.select_case("EX-0003")
    last = max(window.workspace.case.chemotherapy, key=lambda c: c.date)  # type: ignore[union-attr]
    proposal = window.workspace.next_cycle()
    assert proposal.date == last.date + dt.timedelta(days=last.effective_cycle_length_days)
    assert (proposal.regimen, proposal.biologic, proposal.cycle) == (
        last.regimen,
        last.biologic,
        last.cycle + 1,
    )


def test_add_timepoint_copies_lesions_and_shows_the_matrix(window: MainWindow) -> None:
    window.select_case("EX-0001")

    def accept(dialog: QDialog) -> None:
        assert isinstance(dialog, TimepointDialog)
        assert dialog.table.rowCount() == 1
        dialog.table.item(0, 2).setText("25")
        dialog.form.editors["date"].line.setText("2025-02-07")  # type: ignore[union-attr]
        dialog.confirm_row(0)  # the copied depth and status, as Ctrl+Enter does
        modality = dialog.form.editors["modality"].combo
        assert modality is not None
        modality.setCurrentIndex(modality.findData("ct"))
        dialog.accept()
        if dialog.isVisible():  # refused: close it so the test fails instead of waiting
            dialog.reject()

    when_dialog(accept)
    window.workspace.add_timepoint()
    case = window.door.board.cases.get("EX-0001")
    assert [lesion.longest_diameter_mm for lesion in case.imaging[-1].lesions] == [25]
    matrix = window.workspace.imaging.matrix
    assert matrix.rowCount() == 2  # L1 + the RECIST row
    assert matrix.columnCount() == 3
    assert "↓22%" in matrix.data(matrix.index(0, 2))


def test_conflicting_save_is_refused_with_both_values(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.select_case("EX-0001")
    other, version = window.door.board.cases.get_with_version("EX-0001")
    theirs = other.model_copy(deep=True)
    theirs.patient.given_name = "Theirs"
    window.door.board.cases.save(theirs, version)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    staging = window.workspace.staging
    name = staging.forms["patient"].editors["given_name"]
    name.line.setText("Mine")  # type: ignore[union-attr]
    staging.save()
    assert "changed by someone else" in shown[0]
    assert "patient.given_name: theirs Theirs → yours Mine" in shown[0]
    assert window.door.board.cases.get("EX-0001").patient.given_name == "Theirs"
    # what was typed stays in the field (to save again or revert), not silently replaced
    assert name.line.text() == "Mine"  # type: ignore[union-attr]
    assert window.isWindowModified()
    staging.revert()
    assert name.line.text() == "Theirs"  # type: ignore[union-attr]


def test_item_models_pass_the_model_tester(window: MainWindow, qtmodeltester: Any) -> None:
    window.select_case("EX-0003")
    qtmodeltester.check(window.workspace.imaging.matrix)
    qtmodeltester.check(window.workspace.chemotherapy.model)
    qtmodeltester.check(window.workspace.imaging.timepoints.model)
    qtmodeltester.check(LesionMatrixModel())


def test_chemotherapy_lines() -> None:
    from crlmboard.domain.models import ChemotherapyCycle

    def c(day: int, regimen: str, number: int) -> ChemotherapyCycle:
        return ChemotherapyCycle(
            date=dt.date(2025, 1, day),
            regimen=regimen,  # type: ignore[arg-type]
            cycle=number,
            setting="palliative",
        )  # type: ignore[arg-type]

    cycles = [c(1, "folfox", 1), c(2, "folfox", 2), c(3, "folfiri", 3), c(4, "folfiri", 1)]
    assert chemotherapy_lines(cycles) == [1, 1, 2, 3]


def test_rule_catalogue_opens_on_a_finding(window: MainWindow) -> None:
    window.select_case("EX-0002")
    seen: list[str] = []

    def look(dialog: QDialog) -> None:
        seen.append(dialog.detail.toPlainText())  # type: ignore[attr-defined]
        dialog.reject()

    when_dialog(look)
    window.show_rule_catalogue("REGIMEN.ANTI_EGFR_RAS_MUTANT")
    assert "REGIMEN.ANTI_EGFR_RAS_MUTANT" in seen[0]
    assert "Sources" in seen[0]
    assert Qt  # keep the import used for readers of the test


def test_export_pdf_from_the_menu(
    window: MainWindow, qtbot: QtBot, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "summary.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "PDF (*.pdf)")
    )
    window.select_case("EX-0003")
    when_dialog(lambda box: box.reject())  # "written", with Open and Show in folder
    window.export_pdf()
    qtbot.waitUntil(target.exists, timeout=20000)
    from pypdf import PdfReader

    text = PdfReader(str(target)).pages[0].extract_text()
    assert "EX-0003" in text


def test_timeline_tab_draws_the_case(window: MainWindow) -> None:
    from crlmboard.ui.views.timeline import TimelineView

    window.select_case("EX-0003")
    view = window.workspace.timeline
    assert isinstance(view, TimelineView)
    window.workspace.setCurrentWidget(view)
    view.canvas.resize(1000, 600)
    view.canvas.grab()  # paints
    kinds = {hit.kind for hit in view.canvas.hits}
    assert {"chemotherapy", "imaging", "cea", "milestone"} <= kinds
    imaging = next(h for h in view.canvas.hits if h.kind == "imaging")
    view.canvas.record_clicked.emit(imaging.kind, imaging.when)
    assert window.workspace.currentWidget() is window.workspace.imaging


def test_referral_import_with_preview_and_fhir_export(
    window: MainWindow, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from PySide6.QtWidgets import QFileDialog

    from crlmboard.interop.referrals import COLUMNS as TEMPLATE_COLUMNS

    csv = tmp_path / "referrals.csv"
    row = {
        "mrn": "REF-0001",
        "family_name": "Referralton",
        "given_name": "Rita",
        "birth_date": "1960-01-02",
        "sex": "female",
    }
    csv.write_text(
        ",".join(TEMPLATE_COLUMNS)
        + "\n"
        + ",".join(row.get(c, "") for c in TEMPLATE_COLUMNS)
        + "\n",
        "utf-8",
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(csv), ""))
    asked: list[str] = []

    def answer(_parent: Any, _title: str, text: str) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.import_referrals()
    assert "1 new case(s)" in asked[0] and "REF-0001: create" in asked[0]
    assert window.door.board.cases.get("REF-0001").patient.family_name == "Referralton"

    target = tmp_path / "bundle.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    window.select_case("REF-0001")
    window.export_fhir()
    assert json.loads(target.read_text("utf-8"))["resourceType"] == "Bundle"


def test_a_bundle_is_previewed_before_it_is_imported(
    window: MainWindow, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from PySide6.QtWidgets import QFileDialog

    bundle = window.door.board.interop.export_fhir("EX-0001")
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["identifier"][0]["value"] = "EX-BUNDLE"
    patient["telecom"] = [{"system": "phone", "value": "+1 555 0100"}]
    bundle["id"] = "from-another-system"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(bundle), "utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *_a, **_k: ([str(path)], ""))
    asked: list[str] = []

    def answer(_parent: Any, _title: str, text: str) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.import_files()
    assert "other.json: the case EX-BUNDLE" in asked[0]
    assert "telecom not mapped" in asked[0]
    assert "not imported: crlmboard derives the response from the imaging" in asked[0]
    assert window.door.board.cases.count("EX-BUNDLE") == 0  # the user said no: nothing written


def test_history_check_backup_and_restore(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crlmboard.ui.dialogs.safety import CheckReportDialog, HistoryDialog, RestoreDialog

    window.select_case("EX-0001")
    seen: dict[str, Any] = {}

    def look(dialog: QDialog) -> None:
        seen[type(dialog).__name__] = dialog
        dialog.reject()

    when_dialog(look)
    window.show_history()
    history = seen["HistoryDialog"]
    assert isinstance(history, HistoryDialog) and history.model.rowCount() > 0
    # in words, with the fields named as the forms name them (not "insert", "case id: 1",
    # "birth date" or "cea ng ml", seen in the screenshots)
    assert history.model.data(history.model.index(0, 2)) == "added"
    after = history.model.data(history.model.index(0, 5))
    assert "Birth date" in after and "case id" not in after

    when_dialog(look)
    window.check_database()
    qtbot.waitUntil(lambda: "CheckReportDialog" in seen, timeout=30000)
    assert isinstance(seen["CheckReportDialog"], CheckReportDialog)

    window.backup_now()
    qtbot.waitUntil(lambda: len(window.door.board.maintenance.list_backups()) > 0, timeout=30000)
    staging = window.workspace.staging
    staging.forms["patient"].editors["given_name"].line.setText("After backup")  # type: ignore[union-attr]
    staging.save()
    assert window.door.board.cases.get("EX-0001").patient.given_name == "After backup"

    def restore(dialog: QDialog) -> None:
        assert isinstance(dialog, RestoreDialog)
        dialog.view.selectRow(0)
        dialog.accept()
        QTimer.singleShot(
            50,
            lambda: QApplication.activeModalWidget() and QApplication.activeModalWidget().accept(),
        )  # type: ignore[union-attr]

    monkeypatch.setattr(QMessageBox, "information", lambda *_a, **_k: None)
    when_dialog(restore)
    window.restore_backup()
    assert window.door.board.cases.get("EX-0001").patient.given_name == "Ada"


def test_the_lesion_matrix_shows_the_engines_reading_of_each_lesion(window: MainWindow) -> None:
    """Status, change and targets in the matrix are the evaluation's (its read model):
    0 mm without a status reads as disappeared, as the engine reads it."""
    window.select_case("EX-0001")
    case = window.workspace.case
    assert case is not None
    first = case.imaging[0]
    later = first.model_copy(
        update={
            "date": first.date + dt.timedelta(days=60),
            "lesions": [
                x.model_copy(update={"longest_diameter_mm": 0, "status": None})
                for x in first.lesions
            ],
        }
    )
    window.workspace.apply(case.model_copy(update={"imaging": [first, later]}), "Add imaging")
    matrix = window.workspace.imaging.matrix
    evaluation = window.workspace.evaluation
    assert evaluation is not None
    cell = evaluation.lesion(first.lesions[0].id, later.date)
    assert cell is not None and cell.status == "disappeared" and cell.change_percent == -100
    text = matrix.data(matrix.index(0, 1))
    assert "(disappeared)" in text and "↓100%" in text
    targets = evaluation.facts.recist_baseline.target_lesions  # type: ignore[union-attr]
    assert text.endswith("↓100%") and ((" T" in text) == (first.lesions[0].id in targets))
    response = evaluation.response_at(later.date)
    assert response is not None and matrix.data(matrix.index(1, 1)).startswith(response.response)


def test_signed_review_engine_version_and_todays_reading_on_the_case(
    window: MainWindow, qtbot: QtBot
) -> None:
    fixtures = GOLDEN.parent / "services" / "fixtures"
    window.door.board.cases.import_path(fixtures / "signed-review-engine-1.0.0.case.json")
    window.select_case("SIGNED-100")
    note = window.workspace.overview.engine_changes
    assert note.isVisibleTo(window)
    assert "Review 1 (meeting 2025-03-04) was signed with guideline engine 1.0.0" in note.text()
    assert "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY" in note.text()
    model = window.workspace.reviews.model
    headers = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        for c in range(model.columnCount())
    ]
    column = headers.index("Engine")
    assert model.data(model.index(0, column)) == "1.0.0"
    # a case without such a review shows no note
    window.select_case("EX-0001")
    assert not note.isVisibleTo(window)


def test_nn_is_shown_in_the_lesion_matrix_and_overview(window: MainWindow) -> None:
    from crlmboard.services.demo import demo_case_files

    demo = next(p for p in demo_case_files() if p.name.startswith("DEMO-0022"))
    window.door.board.cases.import_path(demo)
    window.select_case("DEMO-0022")
    matrix = window.workspace.imaging.matrix
    row = matrix.rowCount() - 1
    last = matrix.columnCount() - 1
    assert matrix.data(matrix.index(row, last)) == "NN"
    tooltip = matrix.data(matrix.index(row, last), Qt.ItemDataRole.ToolTipRole)
    assert "non-CR/non-PD" in tooltip
    response = window.workspace.overview.values["response"].text()
    assert response.startswith("NN — non-CR/non-PD")


def test_the_overview_names_score_criteria_and_missing_inputs_in_words(
    window: MainWindow,
) -> None:
    """Seen driving the app: "node positive 1, disease free interval under 12 months 1" and
    "missing: kras, cea latest" were the engine's names for them."""
    from crlmboard.services.demo import demo_case_files

    for demo in demo_case_files():
        if demo.name.startswith(("DEMO-0007", "DEMO-0014")):
            window.door.board.cases.import_path(demo)
    window.select_case("DEMO-0007")
    fong = window.workspace.overview.values["fong"].text()
    assert "node-positive primary: 1" in fong and "_" not in fong
    window.select_case("DEMO-0014")
    game = window.workspace.overview.values["game"].text()
    assert "missing: " in game and "latest CEA" in game and "cea latest" not in game


def test_the_overview_never_cuts_its_lines_on_a_short_window(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Seen under Xvfb on a 1280×720 screen (window 1264×656): the summary's lines were
    squeezed until their text was cut; the findings list gives way instead."""
    window.select_case("EX-0001")
    window.workspace.setCurrentWidget(window.workspace.overview)
    window.resize(780, 560)
    qtbot.wait(50)
    overview = window.workspace.overview
    for label in overview.values.values():
        assert label.height() >= label.fontMetrics().lineSpacing(), label.text()


def test_an_empty_list_says_none_recorded(window: MainWindow, qtbot: QtBot) -> None:
    """Seen in the screenshots: an empty Surgery outcomes or Reviews list was a bare grid
    that could as well be a list still loading."""
    from PySide6.QtGui import QImage

    window.select_case("EX-0001")
    tab = window.workspace.outcomes
    window.workspace.setCurrentWidget(window.workspace.procedures)
    qtbot.waitUntil(lambda: tab.view.isVisible())
    assert tab.model.rowCount() == 0

    def ink(view: Any) -> int:
        image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        return len({image.pixel(x, y) for y in range(0, 40) for x in range(image.width())})

    assert ink(tab.view) > 3  # the text is drawn; an empty grid is one or two colours
    assert tab.view.placeholder == "None recorded."
