"""Every write through the services says what it changed: a `ChangeSet`, or a result that
carries one in `changes` (services/changes.py).  The test lists every public method of every
service part as a read or a write, so a new method must be classed here; each write is then
called on a real SQLite database and must return a non-empty change set naming at least what
it is known to change."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crlmboard.services import Board, ChangeSet
from crlmboard.services.changes import changes_of
from tests.conftest import GOLDEN, TODAY, turn_to

pytestmark = pytest.mark.db

PEOPLE = [
    {"name": "Dr Synthetic A", "role": "hepatobiliary_surgeon"},
    {"name": "Dr Synthetic B", "role": "medical_oncologist"},
]
REFERRALS = (
    "mrn,family_name,given_name,birth_date,sex,referring_clinician,referral_date,"
    "primary_site,diagnosis_date,liver_metastases_diagnosis_date,question,meeting_date\n"
    "REF-CS-1,Testperson,Anna,1961-04-02,female,Dr Sample,2026-10-01,sigmoid,"
    "2026-09-01,2026-09-15,,\n"
)


@dataclass
class Scene:
    """A board with the golden cases, two meetings, three cases on the first agenda and a
    signed review of EX-0001 at it."""

    board: Board
    folder: Path
    first: int
    second: int
    items: dict[str, int]

    def case_text(self, mrn: str) -> str:
        document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
        document["patient"]["mrn"] = mrn
        return json.dumps(document)

    def file(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, "utf-8")
        return path


@pytest.fixture
def scene(board: Board, tmp_path: Path) -> Scene:
    board.cases.import_path(GOLDEN)
    first = board.meetings.create("2026-12-01", "16:00", "Room 3", PEOPLE).meeting_id
    second = board.meetings.create("2026-12-08").meeting_id
    items = {
        mrn: board.meetings.add_to_agenda(first, mrn, "Resect?").item_id
        for mrn in ("EX-0001", "EX-0002", "EX-0003")
    }
    turn_to(board, "2026-12-01")  # the meeting's day: its reviews can be signed
    board.reviews.sign(
        board.reviews.start(first, "EX-0001"),
        recommendation="upfront_resection",
        decision="Resect.",
    )
    return Scene(board, tmp_path, first, second, items)


def _save(s: Scene) -> Any:
    case, version = s.board.cases.get_with_version("EX-0002")
    patient = case.patient.model_copy(update={"given_name": "Edited"})
    return s.board.cases.save(case.model_copy(update={"patient": patient}), version)


def _create(s: Scene) -> Any:
    from crlmboard.domain.caseformat import loads_case

    return s.board.cases.create(loads_case(s.case_text("NEW-CS-1"), TODAY))


def _refresh_summaries(s: Scene) -> Any:
    """A summary gone stale in the database (as after a day passed), then refreshed."""
    from crlmboard.store.repositories import CaseRepository, CaseSummary

    with s.board.database.write() as session:
        CaseRepository(session).set_summary("EX-0001", CaseSummary(open_warnings=99))
    return s.board.cases.refresh_summaries()


# (part, method) -> (the call, what it is known to change at least)
WRITES: dict[tuple[str, str], tuple[Callable[[Scene], Any], Callable[[Scene], ChangeSet]]] = {
    ("cases", "create"): (_create, lambda s: ChangeSet.of_cases("NEW-CS-1")),
    ("cases", "save"): (_save, lambda s: ChangeSet.of_cases("EX-0002")),
    ("cases", "import_text"): (
        lambda s: s.board.cases.import_text(s.case_text("NEW-CS-2")),
        lambda s: ChangeSet.of_cases("NEW-CS-2"),
    ),
    ("cases", "import_document"): (
        lambda s: s.board.cases.import_document(json.loads(s.case_text("NEW-CS-3"))),
        lambda s: ChangeSet.of_cases("NEW-CS-3"),
    ),
    ("cases", "import_many"): (
        lambda s: s.board.cases.import_many([s.case_text("NEW-CS-4"), s.case_text("NEW-CS-5")]),
        lambda s: ChangeSet.of_cases("NEW-CS-4", "NEW-CS-5"),
    ),
    ("cases", "refresh_summaries"): (_refresh_summaries, lambda s: ChangeSet.of_cases("EX-0001")),
    ("cases", "import_path"): (
        lambda s: s.board.cases.import_path(s.file("one.json", s.case_text("NEW-CS-6"))),
        lambda s: ChangeSet.of_cases("NEW-CS-6"),
    ),
    ("meetings", "create"): (
        lambda s: s.board.meetings.create("2026-12-15"),
        lambda s: ChangeSet(),
    ),
    ("meetings", "update"): (
        lambda s: s.board.meetings.update(s.first, "2026-12-02", "16:00", "Room 4", PEOPLE),
        lambda s: ChangeSet(
            meetings=frozenset({s.first}), cases=frozenset({"EX-0001", "EX-0002", "EX-0003"})
        ),
    ),
    ("meetings", "delete"): (
        lambda s: s.board.meetings.delete(s.second),
        lambda s: ChangeSet(meetings=frozenset({s.second})),
    ),
    ("meetings", "add_to_agenda"): (
        lambda s: s.board.meetings.add_to_agenda(s.second, "EX-0001", "Follow-up?"),
        lambda s: ChangeSet(meetings=frozenset({s.second}), cases=frozenset({"EX-0001"})),
    ),
    ("meetings", "edit_question"): (
        lambda s: s.board.meetings.edit_question(s.items["EX-0002"], "Which regimen?"),
        lambda s: ChangeSet(meetings=frozenset({s.first})),
    ),
    ("meetings", "reorder"): (
        lambda s: s.board.meetings.reorder(s.first, list(reversed(s.items.values()))),
        lambda s: ChangeSet(meetings=frozenset({s.first})),
    ),
    ("meetings", "remove_from_agenda"): (
        lambda s: s.board.meetings.remove_from_agenda(s.items["EX-0003"]),
        lambda s: ChangeSet(meetings=frozenset({s.first}), cases=frozenset({"EX-0003"})),
    ),
    ("meetings", "hold_back"): (
        lambda s: s.board.meetings.hold_back(s.items["EX-0002"], "awaiting MRI"),
        lambda s: ChangeSet(meetings=frozenset({s.first, s.second}), cases=frozenset({"EX-0002"})),
    ),
    ("meetings", "close"): (
        lambda s: s.board.meetings.close(s.first),
        lambda s: ChangeSet(
            meetings=frozenset({s.first, s.second}), cases=frozenset({"EX-0002", "EX-0003"})
        ),
    ),
    ("reviews", "sign"): (
        lambda s: s.board.reviews.sign(
            s.board.reviews.start(s.first, "EX-0002"),
            recommendation=None,
            decision="Conversion chemotherapy.",
        ),
        lambda s: ChangeSet(meetings=frozenset({s.first}), cases=frozenset({"EX-0002"})),
    ),
    ("reviews", "amend"): (
        lambda s: s.board.reviews.amend(
            "EX-0001", 0, s.first, recommendation=None, decision="Wait."
        ),
        lambda s: ChangeSet(meetings=frozenset({s.first}), cases=frozenset({"EX-0001"})),
    ),
    ("reviews", "save_draft"): (
        lambda s: s.board.reviews.save_draft(s.first, "EX-0002", {"decision": "Typed."}),
        lambda s: ChangeSet(drafts=frozenset({s.items["EX-0002"]})),
    ),
    ("reviews", "discard_draft"): (
        lambda s: (
            s.board.reviews.save_draft(s.first, "EX-0002", {"decision": "Typed."}),
            s.board.reviews.discard_draft(s.first, "EX-0002"),
        )[1],
        lambda s: ChangeSet(drafts=frozenset({s.items["EX-0002"]})),
    ),
    ("reviews", "set_follow_up"): (
        lambda s: s.board.reviews.set_follow_up("EX-0001", 0, "done"),
        lambda s: ChangeSet(cases=frozenset({"EX-0001"})),
    ),
    ("maintenance", "restore"): (
        lambda s: s.board.maintenance.restore(s.board.maintenance.backup().path),
        lambda s: ChangeSet.all(),
    ),
    ("maintenance", "resume_rotation"): (
        lambda s: s.board.maintenance.resume_rotation(),
        lambda s: ChangeSet(settings=frozenset({"backup_rotation"})),
    ),
    ("interop", "import_bundle"): (
        lambda s: s.board.interop.import_bundle(
            s.board.interop.export_fhir("EX-0003"), replace=True
        ),
        lambda s: ChangeSet.of_cases("EX-0003"),
    ),
    ("interop", "import_file"): (
        lambda s: s.board.interop.import_file(s.file("two.json", s.case_text("NEW-CS-7"))),
        lambda s: ChangeSet.of_cases("NEW-CS-7"),
    ),
    ("interop", "import_referrals"): (
        lambda s: s.board.interop.import_referrals(s.file("referrals.csv", REFERRALS)),
        lambda s: ChangeSet.of_cases("REF-CS-1"),
    ),
    ("interop", "set_mrn_system"): (
        lambda s: s.board.interop.set_mrn_system("urn:oid:1.2.3.4.5"),
        lambda s: ChangeSet(settings=frozenset({"mrn_system"})),
    ),
    ("evaluation", "use_profile"): (
        lambda s: s.board.evaluation.use_profile(None),
        lambda s: ChangeSet(settings=frozenset({"profile"})),
    ),
}

# Public methods that change nothing in the database: reads, checks, and files written
# elsewhere (exports, PDFs, backups).
READS: dict[str, set[str]] = {
    # `keep_engine_changes` writes derived data only (the older engines' comparison an
    # open showed, stored for the next open: migration 0012), which changes no view
    "cases": {
        "count", "list_count", "count_until", "page", "position", "get", "get_with_version",
        "get_stamped", "validate", "export_text", "export", "engine_changes",
        "keep_engine_changes",
    },
    "meetings": {
        "get", "list", "listing", "on_date", "quorum", "prepare", "figures",
        "figures_csv", "worklist", "meeting_pack",
    },
    "reviews": {"now", "start", "draft", "audit_head_at_signing", "check_signer"},
    "reports": {
        "current_evaluation", "review", "review_evaluation", "case_summary", "letter",
        "write_case_summary", "write_letter",
    },
    "maintenance": {
        "case_history", "audit_head", "list_backups", "backup", "backup_before",
        "rotation_paused", "check", "database_id", "checkpoint", "printed_checkpoint",
        "checkpoint_authentic", "checkpoints_found",
    },
    "interop": {
        "export_fhir", "fhir_text", "write_fhir", "bundle_case", "preview_referrals",
        "mrn_system", "preview_bundle",
    },
    # `remembered` / `forget`: the evaluations of opened cases kept in memory;
    # `keep_comparison` / `store_comparison`: inside another part's write, in its session
    "evaluation": {
        "evaluate", "document", "catalogue", "summary", "engine_changes", "remembered",
        "forget", "comparison", "keep_comparison", "store_comparison",
    },
}  # fmt: skip
PARTS = tuple(READS)
# The Board's own methods: assembling and running the parts, not use cases (a read-only
# board's look at the app holding the writer lock returns its news, with `changes`).
BOARD_FRAME = {"open", "close", "follow_writer"}


def public_methods(target: object) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(type(target))
        if not name.startswith("_") and (inspect.isfunction(member) or inspect.ismethod(member))
    }


def test_every_public_service_method_is_classed_as_a_read_or_a_write(board: Board) -> None:
    for part in PARTS:
        writes = {method for owner, method in WRITES if owner == part}
        assert public_methods(getattr(board, part)) == READS[part] | writes, part
    writes = {method for owner, method in WRITES if owner == "board"}
    assert public_methods(board) == BOARD_FRAME | writes


@pytest.mark.parametrize("part, method", list(WRITES), ids=[f"{p}.{m}" for p, m in WRITES])
def test_every_write_returns_what_it_changed(scene: Scene, part: str, method: str) -> None:
    call, expected = WRITES[part, method]
    before = scene.board.maintenance.audit_head()
    result = call(scene)
    changes = changes_of(result)
    assert isinstance(changes, ChangeSet)
    assert not changes.empty
    want = expected(scene)
    for name in ("cases", "meetings", "reviews", "follow_ups", "settings", "drafts"):
        assert getattr(want, name) <= getattr(changes, name), name
    assert changes.everything == want.everything
    if method in ("sign", "amend"):
        assert changes.reviews == {result.review_id}
    if method == "set_follow_up":
        assert len(changes.follow_ups) == 1
    derived = method == "refresh_summaries"  # the list's summary columns: not a record
    if (changes.cases or changes.meetings or changes.drafts or changes.everything) and not derived:
        # it did write: the audit trail grew
        assert scene.board.maintenance.audit_head() != before
