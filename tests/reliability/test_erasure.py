"""T39 — erasure, when it is allowed: a sentinel patient erased leaves no trace in the
database, its `-wal` or the newest backup (read with `strings`, as bytes, and value by value
with compressed values expanded); older backups are listed with their expiry; the audit
trail keeps a non-identifying erasure row; `check` reports the erasure as information, the
chain and the other cases intact.  A tombstone no erasure lists is tampering."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.services import Board
from crlmboard.services.changes import CaseNotFound
from crlmboard.services.erasure import ErasureRefused
from crlmboard.store import audit
from tests.conftest import GOLDEN, TODAY, Calendar
from tests.services.test_identity_postgres import department as department

pytestmark = pytest.mark.db

NAME, GIVEN, MRN = "ZZERASE", "Ödön 王", "MRN-ERASE-4242"
NOTE = "ZZNOTE-only-in-this-case"
SENTINELS = (NAME, MRN, NOTE, GIVEN)
REASON = "test patient entered in the live database"


def sentinel_document(upfront: dict[str, Any], *, signed: bool = False) -> dict[str, Any]:
    document = json.loads(json.dumps(upfront))
    document["patient"].update(
        mrn=MRN, family_name=NAME, given_name=GIVEN, comorbidities=[f"{NOTE} comorbidity"]
    )
    review: dict[str, Any] = {"meeting_date": "2025-02-04", "question": f"{NOTE} question?"}
    if signed:
        review.update(decision="Resect.", signed_by="Dr Lind", signed_at="2025-02-04T13:00:00Z")
    document["reviews"] = [review]
    return document


def found_in_bytes(path: Path) -> set[str]:
    """Sentinels in a file's raw bytes and in what `strings -a` prints of it."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    found = {s for s in SENTINELS if s.encode("utf-8") in data}
    printed = subprocess.run(
        ["strings", "-a", "-n", "6", str(path)], capture_output=True, check=True
    ).stdout.decode("latin-1")
    return found | {s for s in SENTINELS if s in printed}


def found_in_values(path: Path) -> set[str]:
    """Sentinels in any stored value of any table, compressed values expanded (a name inside
    a zlib-packed audit value is not visible to `strings`)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found: set[str] = set()
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            value = zlib.decompress(value).decode("utf-8")
                        except (zlib.error, UnicodeDecodeError):
                            value = value.decode("latin-1")
                    if isinstance(value, str):
                        found |= {s for s in SENTINELS if s in value}
    finally:
        connection.close()
    return found


def traces(path: Path) -> set[str]:
    return found_in_bytes(path) | found_in_values(path)


def newest_backup(db: Path) -> Path:
    return max((db.parent / "backups").glob(f"{db.name}-*.sqlite3"), key=lambda p: p.name)


@pytest.fixture
def populated(tmp_path: Path, upfront: dict[str, Any]) -> Path:
    """The golden cases and the sentinel case (edited twice, on a meeting's agenda with a
    review draft), and a backup that holds it."""
    db = tmp_path / "board.sqlite3"
    source = tmp_path / "sentinel.json"
    source.write_text(json.dumps(sentinel_document(upfront), ensure_ascii=False), "utf-8")
    assert main(["init", "--db", str(db)]) == 0
    with Board.open(db, clock=Calendar()) as board:
        assert board.cases.import_path(GOLDEN).ok
        board.cases.import_path(source)
        for weight in (70.5, 71.5):  # update rows: the before values hold the old ones
            case, version = board.cases.get_with_version(MRN)
            patient = case.patient.model_copy(update={"weight_kg": weight})
            board.cases.save(case.model_copy(update={"patient": patient}), version)
        meeting = board.meetings.create(TODAY).meeting_id
        board.meetings.add_to_agenda(meeting, MRN, f"{NOTE} agenda question?")
        board.meetings.add_to_agenda(meeting, "EX-0001", "Resect now?")
        board.maintenance.backup()
    return db


def test_erasure_leaves_no_trace_in_the_database_its_wal_or_the_newest_backup(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = populated
    older = newest_backup(db)
    assert traces(older) >= {NAME, MRN, NOTE}  # the test can see the sentinel where it is
    with Board.open(db, clock=Calendar()) as board:
        others = {e.mrn: board.cases.get(e.mrn) for e in board.cases.page("") if e.mrn != MRN}
    capsys.readouterr()

    code = main(["erase", MRN, "--reason", REASON, "--confirm", MRN, "--db", str(db)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Erased one case" in out.out
    assert "Older backups that still hold this patient:" in out.out
    assert older.name in out.out and "expires " in out.out
    for sentinel in SENTINELS:
        assert sentinel not in out.out + out.err

    newest = newest_backup(db)
    assert newest != older
    wal = Path(f"{db}-wal")
    for path in (db, wal, newest):
        assert traces(path) == set(), path
    # the database as it stands while open (the app or a command holding it) too
    with Board.open(db, clock=Calendar()) as board:
        assert board.erasure  # nothing written: the file and its -wal as the erase left them
        for path in (db, wal):
            assert found_in_bytes(path) == set(), path
        assert {e.mrn for e in board.cases.page("")} == set(others)
        for mrn, case in others.items():
            assert board.cases.get(mrn) == case
        with pytest.raises(CaseNotFound):
            board.cases.get(MRN)
        meeting = board.meetings.list()[0]
        assert [e.mrn for e in board.meetings.get(meeting.id).agenda] == ["EX-0001"]
        report = board.maintenance.check()
        assert report.ok, report.problems
        [erasure_line] = [i for i in report.information if "erasure" in i]
        assert REASON in erasure_line and "audit row(s) of one case were erased" in erasure_line
        assert not any("erasure" in p for p in report.problems + report.warnings)
        with board.database.read() as session:
            [row] = [r for r in audit.entries(session) if r.action == audit.ERASURE]
            recorded = json.loads(row.after_json)
            assert row.case_id is None and row.app_user == board.actor.app_user
            assert recorded["reason"] == REASON and recorded["erased"]
            assert recorded["records"]["patient"] == 1 and recorded["records"]["agenda_item"] == 1
            chain = audit.verify_chain(session)
            assert chain.ok and chain.erasures[0].rows == len(recorded["erased"])
    assert main(["check", "-q", "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert "info: erasure" in printed and "No problems found." in printed


def test_a_forged_tombstone_is_tampering(populated: Path) -> None:
    """A row whose values were wiped to look erased, without an erasure that lists it —
    even beside a real erasure — is reported as changed after it was written."""
    db = populated
    with Board.open(db, clock=Calendar()) as board:
        board.erasure.erase(MRN, reason=REASON, confirm_mrn=MRN)
        with board.database.read() as session:
            erasure_id = next(
                json.loads(r.after_json)["erasure"]
                for r in audit.entries(session)
                if r.action == audit.ERASURE
            )
            victim = next(
                r.seq for r in audit.entries(session) if r.case_id == 1 and r.before_json is None
            )
    connection = sqlite3.connect(db)
    (trigger,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'audit_event_no_update'"
    ).fetchone()
    connection.execute("DROP TRIGGER audit_event_no_update")
    connection.execute(
        "UPDATE audit_event SET before_json = NULL, after_json = ? WHERE seq = ?",
        (audit.tombstone_text(erasure_id), victim),
    )
    connection.execute(trigger)
    connection.commit()
    connection.close()
    with Board.open(db, clock=Calendar()) as board:
        report = board.maintenance.check()
    assert not report.ok
    assert any(
        f"audit row {victim} was changed after it was written" in p for p in report.problems
    ), report.problems


def test_a_forged_erasure_row_is_not_signed(populated: Path) -> None:
    """Someone with the file but not the audit key wipes a case's rows and appends a
    well-hashed erasure row listing them: the chain verifies, but the checkpoint signed
    with the key does not cover the new row, and `check` says so."""
    db = populated
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT seq, row_hash FROM audit_event WHERE case_id = 2 ORDER BY seq"
    ).fetchall()
    (trigger,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'audit_event_no_update'"
    ).fetchone()
    connection.execute("DROP TRIGGER audit_event_no_update")
    connection.execute(
        "UPDATE audit_event SET before_json = NULL, after_json = ? WHERE case_id = 2",
        (audit.tombstone_text("E-forged"),),
    )
    connection.execute(trigger)
    seq, previous = connection.execute(
        "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    row: dict[str, Any] = {
        "seq": seq + 1,
        "at": audit.format_time(audit.utc_now()),
        "app_user": "someone",
        "os_login": "someone",
        "host": "elsewhere",
        "app_version": "0",
        "action": audit.ERASURE,
        "table_name": "patient",
        "record_id": "E-forged",
        "case_id": None,
        "fields": audit.canonical(["erased"]),
        "before_json": None,
        "after_json": audit.canonical(
            {"erasure": "E-forged", "reason": "hide it", "erased": [list(r) for r in rows]}
        ),
        "prev_hash": previous,
    }
    row["row_hash"] = audit.row_hash(previous, row)
    connection.execute(
        f"INSERT INTO audit_event ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    connection.commit()
    connection.close()
    with Board.open(db, clock=Calendar()) as board:
        report = board.maintenance.check()
    assert not report.ok
    assert any("not signed" in p for p in report.problems), report.problems


def _case_count_and_head(db: Path) -> tuple[int, Any]:
    connection = sqlite3.connect(db)
    try:
        count = connection.execute("SELECT count(*) FROM patient").fetchone()[0]
        head = connection.execute(
            "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return count, head
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--confirm", MRN], "reason"),
        (["--reason", "short", "--confirm", MRN], "reason"),
        (["--reason", f"asked by {NAME.lower()} himself", "--confirm", MRN], "must not name"),
        (["--reason", f"duplicate of {MRN}", "--confirm", MRN], "must not name"),
        (["--reason", REASON, "--confirm", "MRN-OTHER"], "does not match"),
        (["--reason", REASON], "--confirm"),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_changes_nothing(
    populated: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    before = _case_count_and_head(populated)
    capsys.readouterr()
    assert main(["erase", MRN, *arguments, "--db", str(populated)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert _case_count_and_head(populated) == before


def test_an_unknown_mrn_is_refused_with_exit_2(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _case_count_and_head(populated)
    code = main(
        ["erase", "NO-SUCH", "--reason", REASON, "--confirm", "NO-SUCH", "--db", str(populated)]
    )
    assert code == 2 and "no case with MRN" in capsys.readouterr().err
    assert _case_count_and_head(populated) == before


def test_a_case_with_signed_reviews_is_refused_unless_forced(
    tmp_path: Path, upfront: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "board.sqlite3"
    source = tmp_path / "signed.json"
    source.write_text(json.dumps(sentinel_document(upfront, signed=True)), "utf-8")
    assert main(["init", "--db", str(db)]) == 0
    assert main(["import", str(source), "--db", str(db)]) == 0
    before = _case_count_and_head(db)
    capsys.readouterr()
    assert main(["erase", MRN, "--reason", REASON, "--confirm", MRN, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "signed review" in err and "--including-signed-reviews" in err
    assert _case_count_and_head(db) == before
    with Board.open(db, clock=Calendar()) as board:
        with pytest.raises(ErasureRefused):
            board.erasure.erase(MRN, reason=REASON, confirm_mrn=MRN)
        result = board.erasure.erase(MRN, reason=REASON, confirm_mrn=MRN, including_signed=True)
        assert result.signed_reviews == 1 and result.records["review"] == 1
        report = board.maintenance.check()
        assert report.ok, report.problems
        assert "audit_event_no_update" not in " ".join(report.problems)
    for path in (db, Path(f"{db}-wal"), newest_backup(db)):
        assert traces(path) == set(), path


def test_a_tampered_audit_row_of_the_case_stops_the_erasure(populated: Path) -> None:
    """Erasing over a changed audit row would erase the evidence: refused, nothing changed."""
    connection = sqlite3.connect(populated)
    case_id = connection.execute("SELECT id FROM patient WHERE mrn = ?", (MRN,)).fetchone()[0]
    (trigger,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'audit_event_no_update'"
    ).fetchone()
    connection.execute("DROP TRIGGER audit_event_no_update")
    connection.execute(
        "UPDATE audit_event SET host = 'elsewhere' WHERE seq = "
        "(SELECT min(seq) FROM audit_event WHERE case_id = ?)",
        (case_id,),
    )
    connection.execute(trigger)
    connection.commit()
    connection.close()
    before = _case_count_and_head(populated)
    with (
        Board.open(populated, clock=Calendar()) as board,
        pytest.raises(ErasureRefused, match="no longer matches its hash"),
    ):
        board.erasure.erase(MRN, reason=REASON, confirm_mrn=MRN)
    assert _case_count_and_head(populated) == before


def test_an_id_given_again_after_an_erasure_can_be_erased_again(
    tmp_path: Path, upfront: dict[str, Any]
) -> None:
    """SQLite gives the erased case's id to the next case: its audit rows share the case id
    with the tombstones, which stay as they are; erasing the new case works and checks."""
    with Board.open(tmp_path / "board.sqlite3", clock=Calendar()) as board:
        for turn in range(2):
            document = sentinel_document(upfront)
            board.cases.import_text(json.dumps(document))
            board.erasure.erase(MRN, reason=f"{REASON} ({turn})", confirm_mrn=MRN)
        report = board.maintenance.check()
        assert report.ok, report.problems
        assert len([i for i in report.information if "erasure" in i]) == 2


def test_erasure_in_an_open_app_clears_the_wal_it_holds(populated: Path) -> None:
    """The app holds the database open and has just written the patient (the -wal holds
    pages with the name): after the erasure, while still open, neither the file nor its
    -wal holds a trace, nor does the newest backup."""
    db = populated
    with Board.open(db, clock=Calendar()) as board:
        case, version = board.cases.get_with_version(MRN)
        patient = case.patient.model_copy(update={"weight_kg": 72.5})
        board.cases.save(case.model_copy(update={"patient": patient}), version)
        wal = Path(f"{db}-wal")
        assert found_in_bytes(wal) & {NAME, MRN}  # the test sees the name where it is
        result = board.erasure.erase(MRN, reason=REASON, confirm_mrn=MRN)
        assert result.new_backup is not None and result.new_backup.verified
        assert result.older_backups  # the fixture's backup
        for path in (db, wal, result.new_backup.path):
            assert traces(path) == set(), path
        report = board.maintenance.check()
        assert report.ok, report.problems


@pytest.mark.postgres
def test_erasure_on_postgresql_by_the_schema_owner_only(department: Any) -> None:
    """On a department's store the logins of every crlmboard role (admin included) are
    refused and nothing changes; the schema owner erases: the rows are gone, no audit value
    names the patient, the chain and `check` hold and report the erasure."""
    import sqlalchemy as sa

    from crlmboard.services.changes import NotAllowed
    from tests.conftest import postgres_url

    mrn = "EX-0001"
    engine = sa.create_engine(postgres_url(), poolclass=sa.NullPool)

    def audit_text() -> str:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT coalesce(before_json, '') || coalesce(after_json, '') FROM audit_event"
            ).all()
        return "\n".join(r[0] for r in rows)

    def state() -> tuple[int, Any]:
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM patient").scalar()
            head = connection.exec_driver_sql(
                "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1"
            ).one()
        return int(count or 0), tuple(head)

    with engine.connect() as connection:
        given = connection.exec_driver_sql(  # the golden cases share a family name
            "SELECT given_name FROM patient WHERE mrn = %(m)s", {"m": mrn}
        ).scalar()
    assert given and mrn in audit_text() and f'"{given}"' in audit_text()
    before = state()
    for login in (department.admin, department.coordinator, department.clinician):
        with login.open() as board, pytest.raises(NotAllowed, match="schema"):
            board.erasure.erase(mrn, reason=REASON, confirm_mrn=mrn)
    assert state() == before
    with Board.open(postgres_url(), clock=Calendar()) as owner:
        result = owner.erasure.erase(mrn, reason=REASON, confirm_mrn=mrn)
        assert result.new_backup is None and result.older_backups == ()
        assert any("write-ahead log" in note for note in result.notes)
        assert result.records["patient"] == 1 and result.records["agenda_item"] == 1
        with pytest.raises(CaseNotFound):
            owner.cases.get(mrn)
        assert {e.mrn for e in owner.cases.page("")} == {"EX-0002", "EX-0003"}
        report = owner.maintenance.check()
        assert report.ok, report.problems
        assert any("erasure" in line and REASON in line for line in report.information)
    text = audit_text()
    assert mrn not in text
    assert f'"{given}"' not in text
    with engine.connect() as connection:  # the append-only trigger is back
        assert (
            connection.exec_driver_sql(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_event_append_only'"
            ).scalar()
            == "O"
        )
    engine.dispose()


@pytest.mark.postgres
def test_a_signed_case_on_postgresql_is_refused_unless_forced(department: Any) -> None:
    """A review signed by a clinician on the server: the owner's erasure is refused with
    nothing changed, then forced — the server's signed-review trigger lifted for that
    transaction only, enabled again afterwards — and `check` holds."""
    import sqlalchemy as sa

    from tests.conftest import postgres_url

    clinician = department.clinician
    with clinician.open() as board:
        draft = board.reviews.start(department.meeting, "EX-0001")
        board.reviews.sign(
            draft, recommendation=None, decision="Resect.", password=clinician.password
        )
    with Board.open(postgres_url(), clock=Calendar()) as owner:
        with pytest.raises(ErasureRefused, match="signed review"):
            owner.erasure.erase("EX-0001", reason=REASON, confirm_mrn="EX-0001")
        assert owner.cases.get("EX-0001").reviews[0].signed
        result = owner.erasure.erase(
            "EX-0001", reason=REASON, confirm_mrn="EX-0001", including_signed=True
        )
        assert result.signed_reviews == 1 and result.records["review"] == 1
        report = owner.maintenance.check()
        assert report.ok, report.problems
    engine = sa.create_engine(postgres_url(), poolclass=sa.NullPool)
    with engine.connect() as connection:
        enabled = dict(
            connection.exec_driver_sql(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname IN "
                "('review_signed_immutable', 'audit_event_append_only')"
            ).all()
        )
    engine.dispose()
    assert enabled == {"review_signed_immutable": "O", "audit_event_append_only": "O"}
