"""Who is who on a department's PostgreSQL store (issue 20), on a real server with real
login roles that authenticate with SCRAM passwords: the database, not the client, decides
what each role may do, who signs and when, and who the audit trail names."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from crlmboard.domain.validation import InvalidInput
from crlmboard.services import Board, BoardError
from crlmboard.services.maintenance import LoginFailed, LoginRequired
from crlmboard.services.users import NotAllowed
from crlmboard.store.database import create_database_engine
from tests.conftest import GOLDEN, TODAY, postgres_url

pytestmark = pytest.mark.postgres

ALL_TABLES = (
    "patient",
    "primary_tumour",
    "molecular_profile",
    "surgical_plan",
    "extrahepatic_disease",
    "lab_result",
    "chemotherapy_cycle",
    "immunotherapy_dose",
    "procedure",
    "imaging_timepoint",
    "lesion_measurement",
    "surgery_outcome",
    "review",
    "meeting",
    "meeting_attendee",
    "agenda_item",
    "review_follow_up",
    "audit_event",
    "setting",
    "board_user",
    "alembic_version",
    "engine_comparison",
)
PEOPLE = [{"name": "Dr Synthetic Surgeon", "role": "hepatobiliary_surgeon"}]


@dataclass(frozen=True)
class Login:
    name: str
    password: str
    printed: str

    def url(self) -> str:
        return sa.make_url(postgres_url()).set(username=self.name).render_as_string(False)

    def open(self, **options: object) -> Board:
        return Board.open(self.url(), clock=lambda: TODAY, password=self.password, **options)  # type: ignore[arg-type]

    def engine(self) -> sa.Engine:
        return create_database_engine(self.url(), password=self.password)


@dataclass(frozen=True)
class Department:
    admin: Login
    viewer: Login
    coordinator: Login
    clinician: Login
    meeting: int


@pytest.fixture
def department() -> Iterator[Department]:
    """A fresh database with the golden cases, a meeting with them on its agenda, and one
    user of each role (roles belong to the server: their names are new for each test)."""
    from tests.store.conftest import fresh_postgres

    fresh_postgres().dispose()
    tag = secrets.token_hex(3)
    logins = {
        role: Login(f"t{tag}_{role}", secrets.token_urlsafe(16), f"Test {role.title()} {tag}")
        for role in ("admin", "viewer", "coordinator", "clinician")
    }
    with Board.open(postgres_url(), clock=lambda: TODAY) as owner:
        assert owner.cases.import_path(GOLDEN).ok
        meeting = owner.meetings.create("2026-11-24", "16:00", "Room 3", PEOPLE).meeting_id
        for mrn in ("EX-0001", "EX-0002", "EX-0003"):
            owner.meetings.add_to_agenda(meeting, mrn, "Resect now?")
        admin = logins["admin"]
        owner.users.add(admin.name, admin.printed, ["admin"], admin.password)
    with admin.open() as board:  # the first admin adds the others
        for role in ("viewer", "coordinator", "clinician"):
            login = logins[role]
            board.users.add(login.name, login.printed, [role], login.password)
    yield Department(**logins, meeting=meeting)


def _refused(engine: sa.Engine, statement: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        connection.exec_driver_sql(statement)
    return str(caught.value.orig)


def test_a_viewer_cannot_change_any_table_even_with_raw_sql(department: Department) -> None:
    engine = department.viewer.engine()
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM patient").scalar() == 3
        for table in ALL_TABLES:
            for statement in (
                f"INSERT INTO {table} DEFAULT VALUES",
                f"UPDATE {table} SET {_a_column(table)} = {_a_column(table)}",
                f"DELETE FROM {table}",
                f"TRUNCATE {table} CASCADE",
            ):
                assert "permission denied" in _refused(engine, statement), statement
    finally:
        engine.dispose()
    with department.viewer.open() as board:
        assert board.identity.roles == {"viewer"}
        with pytest.raises(BoardError):
            board.meetings.create("2026-12-15")
        assert board.cases.count() == 3


def _a_column(table: str) -> str:
    return {
        "alembic_version": "version_num",
        "setting": "value",
        "board_user": "display_name",
        "audit_event": "seq",
        "review_follow_up": "review_id",
        "lesion_measurement": "row_id",
        "engine_comparison": "case_id",
    }.get(table, "id")


def test_a_coordinator_edits_cases_but_cannot_sign_even_through_the_server(
    department: Department,
) -> None:
    with department.coordinator.open() as board:
        board.meetings.create("2026-12-08")  # a coordinator's work
        draft = board.reviews.start(department.meeting, "EX-0001")
        with pytest.raises(NotAllowed, match="Only a clinician"):
            board.reviews.sign(
                draft,
                recommendation=None,
                decision="Resect.",
                password=department.coordinator.password,
            )
    engine = department.coordinator.engine()
    try:
        assert "only a clinician" in _refused(engine, "SELECT * FROM crlmboard_signature()")
        # a signed review written directly, with the coordinator's own name and the time
        case_id = _case_id(engine, "EX-0001")
        message = _refused(
            engine,
            "INSERT INTO review (case_id, position, meeting_date, question, decision, "
            "signed_by, signed_at) VALUES "
            f"({case_id}, 9, '2026-12-01', 'Q?', 'Resect.', "
            f"'{department.coordinator.printed}', date_trunc('second', now()))",
        )
        assert "only a clinician" in message
        # nor can a coordinator manage users
        assert "administrator" in _refused(
            engine, f"SELECT crlmboard_disable_user('{department.clinician.name}')"
        )
    finally:
        engine.dispose()


def _case_id(engine: sa.Engine, mrn: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT id FROM patient WHERE mrn = :m"), {"m": mrn}
            ).scalar()
        )


def test_a_clinicians_signature_carries_their_own_name_and_the_servers_time(
    department: Department,
) -> None:
    clinician = department.clinician
    engine = create_database_engine(postgres_url())
    with engine.connect() as connection:
        before = connection.exec_driver_sql("SELECT date_trunc('second', now())").scalar()
    with clinician.open(now=lambda: datetime(2001, 1, 1, tzinfo=UTC)) as board:
        assert board.identity.name == clinician.printed and board.identity.role_text == "clinician"
        draft = board.reviews.start(department.meeting, "EX-0001")
        with pytest.raises(InvalidInput, match="re-enter your password") as left_out:
            board.reviews.sign(draft, recommendation=None, decision="Resect.")
        with pytest.raises(InvalidInput, match="not right") as wrong:
            board.reviews.sign(draft, recommendation=None, decision="Resect.", password="wrong")
        # the server login's password, named so (a form shows it as "Password: …")
        assert [p.path for p in left_out.value.problems + wrong.value.problems] == [
            "password",
            "password",
        ]
        index = board.reviews.sign(
            draft, recommendation=None, decision="Resect.", password=clinician.password
        ).index
        review = board.cases.get("EX-0001").reviews[index]
        history = board.maintenance.case_history("EX-0001")
        report = board.maintenance.check()
        # an amendment is signed the same way
        amended = board.reviews.amend(
            "EX-0001",
            index,
            department.meeting,
            recommendation=None,
            decision="Resect segment 6 only.",
            password=clinician.password,
        ).index
        amendment = board.cases.get("EX-0001").reviews[amended]
    with engine.connect() as connection:
        after = connection.exec_driver_sql("SELECT now()").scalar()
    engine.dispose()
    assert review.signed_by == clinician.printed
    assert review.signed_at is not None and before <= review.signed_at <= after  # not 2001
    assert review.meaning == "approved as the board's decision"
    assert amendment.signed_by == clinician.printed and amendment.amends == index
    assert "amendment of review" in amendment.meaning
    assert history[-1].app_user == clinician.name  # the audit actor is the session user
    assert report.ok, report.problems

    raw = clinician.engine()
    try:
        case_id = _case_id(raw, "EX-0002")
        insert = (
            "INSERT INTO review (case_id, position, meeting_date, question, decision, "
            "signed_by, signed_at) VALUES ({case}, 9, '2026-12-01', 'Q?', 'Resect.', {who}, {at})"
        )
        # someone else's name, or a backdated time: refused by the server
        assert "made by the server" in _refused(
            raw,
            insert.format(
                case=case_id,
                who=f"'{department.coordinator.printed}'",
                at="date_trunc('second', now())",
            ),
        )
        assert "made by the server" in _refused(
            raw,
            insert.format(case=case_id, who=f"'{clinician.printed}'", at="'2026-01-01T09:00:00Z'"),
        )
        # an audit row naming someone else: refused
        assert "session user" in _refused(
            raw,
            "INSERT INTO audit_event (seq, at, app_user, os_login, host, app_version, action, "
            "table_name, fields, prev_hash, row_hash) VALUES (100000, 'x', 'someone.else', 'x', "
            "'x', 'x', 'x', 'x', '[]', 'x', 'x')",
        )
    finally:
        raw.dispose()


def test_a_disabled_user_cannot_connect_and_an_enabled_one_can(department: Department) -> None:
    with department.admin.open() as admin:
        admin.users.disable(department.coordinator.name)
        listed = {u.login: u for u in admin.users.list()}
        assert not listed[department.coordinator.name].can_login
        assert listed[department.clinician.name].can_login
        history_actions = [u for u in admin.users.list() if u.disabled_at is not None]
        assert [u.login for u in history_actions] == [department.coordinator.name]
    with pytest.raises(LoginFailed, match="refused the login"):
        department.coordinator.open()
    with pytest.raises(LoginFailed):
        Board.open(department.clinician.url(), password="not the password")
    with pytest.raises(LoginRequired):
        Board.open(department.clinician.url())
    with department.admin.open() as admin:
        admin.users.enable(department.coordinator.name)
    with department.coordinator.open() as board:
        assert board.identity.login == department.coordinator.name
    # only an admin manages users
    with department.clinician.open() as board, pytest.raises(NotAllowed):
        board.users.disable(department.coordinator.name)


def test_the_users_command_keeps_passwords_out_of_argv_logs_settings_and_server_log(
    department: Department, tmp_path: Path
) -> None:
    """`crlmboard users add` with the admin's password from PGPASSWORD and the new user's
    on standard input: neither is in the command line, the app's log and settings, or the
    server's statement log (the server gets a SCRAM verifier)."""
    owner = create_database_engine(postgres_url())
    with owner.begin() as connection:
        connection.exec_driver_sql(f"ALTER ROLE {department.admin.name} SET log_statement = 'all'")
        data = Path(str(connection.exec_driver_sql("SHOW data_directory").scalar()))
    owner.dispose()
    new_password = "Synthetic-" + secrets.token_urlsafe(12)
    login = department.admin.name.replace("admin", "nurse")
    env = {**os.environ, "PGPASSWORD": department.admin.password}
    command = [
        sys.executable,
        "-m",
        "crlmboard",
        "users",
        "add",
        login,
        "--role",
        "coordinator",
        "--name",
        "Synthetic Nurse",
        "--password-stdin",
        "--db",
        department.admin.url(),
    ]
    child = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes().decode(errors="replace")
    out, err = child.communicate(new_password + "\n", timeout=120)
    assert child.returncode == 0, err
    assert f"added {login}" in out
    for secret in (new_password, department.admin.password):
        assert secret not in cmdline
        assert secret not in " ".join(command)
    home = Path(os.environ["CRLMBOARD_LOG_DIR"]).parent
    for file in home.rglob("*"):
        if file.is_file():
            text = file.read_bytes()
            assert (
                new_password.encode() not in text and department.admin.password.encode() not in text
            ), file
    server_log = (data.parent / "log").read_text(errors="replace")
    assert "crlmboard_add_user" in server_log  # the statement was logged ...
    assert new_password not in server_log  # ... without the password
    # the new login works with the password given on standard input
    with Login(login, new_password, "Synthetic Nurse").open() as board:
        assert board.identity.name == "Synthetic Nurse"
        assert board.identity.roles == {"viewer", "coordinator"}


@pytest.mark.parametrize("role", ["viewer", "coordinator", "clinician", "admin"])
def test_every_role_can_check_the_database(department: Department, role: str) -> None:
    with department.clinician.open() as clinician:
        clinician.reviews.start(department.meeting, "EX-0003")  # a draft exists
    with getattr(department, role).open() as board:
        report = board.maintenance.check()
    assert report.ok, report.problems


def test_a_table_a_login_may_not_read_is_not_called_damage(department: Department) -> None:
    owner = create_database_engine(postgres_url())
    try:
        with owner.begin() as connection:
            connection.exec_driver_sql("REVOKE SELECT ON review_draft FROM crlmboard_viewer")
        with department.viewer.open() as board:
            report = board.maintenance.check()
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql("GRANT SELECT ON review_draft TO crlmboard_viewer")
        owner.dispose()
    assert not report.ok
    (problem,) = report.problems
    assert "may not read" in problem and "damaged" not in problem


def test_a_coordinator_stores_the_older_engines_comparison_a_viewer_only_reads_it(
    department: Department,
) -> None:
    """Migration 0012's grants: the comparison an open made is stored by a login that may
    edit cases, with its audit row, and read (never written) by a viewer."""
    signed = Path(__file__).parent / "fixtures" / "signed-review-engine-1.0.0.case.json"
    with Board.open(postgres_url(), clock=lambda: TODAY) as owner:
        assert owner.cases.import_path(signed).ok  # signed elsewhere: the owner stores it
        with owner.database.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM engine_comparison")
    with department.coordinator.open() as board:
        case, stamp = board.cases.get_stamped("SIGNED-100")
        made = board.cases.engine_changes(case, stamp)
        assert made.missing and len(made.changes) == 1
        assert board.cases.keep_engine_changes("SIGNED-100", (stamp, made)) is True
        # audited (migration 0013) with the coordinator as its actor, named by the server
        stored = [
            e
            for e in board.maintenance.case_history("SIGNED-100")
            if e.table == "engine_comparison"
        ]
        assert stored[-1].action == "insert" and stored[-1].app_user == department.coordinator.name
    with Board.open(postgres_url(), clock=lambda: TODAY) as owner:
        assert owner.maintenance.check().ok  # the trail describes the stored row
    with department.viewer.open() as board:
        assert not board.identity.can_edit
        case, stamp = board.cases.get_stamped("SIGNED-100")
        read = board.cases.engine_changes(case, stamp)
        assert not read.missing and read.changes == made.changes
