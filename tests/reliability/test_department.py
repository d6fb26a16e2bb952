"""A department on one shared PostgreSQL store (issue 23): 20 client processes making mixed
edits (saves, imports, agenda changes, sign-offs) over 50 shared cases, with conflicts;
then the same with the server restarted in the middle.  Correctness only: the figures
(throughput, p95 latency, conflicts) are bench/department.py's, in bench/README.md.

CI runs 20 clients × `CRLMBOARD_DEPARTMENT_EDITS` (default 8) edits each; the full
department is `CRLMBOARD_DEPARTMENT_EDITS=200`."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bench import department as dept
from crlmboard.services import Board
from tests.conftest import TODAY, postgres_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = int(os.environ.get("CRLMBOARD_DEPARTMENT_CLIENTS", 20))
EDITS = int(os.environ.get("CRLMBOARD_DEPARTMENT_EDITS", 8))


def restart_server() -> None:
    command = os.environ.get("CRLMBOARD_TEST_PG_RESTART")
    if not command:
        pytest.fail(
            "CRLMBOARD_TEST_PG_RESTART is not set: start the server with scripts/postgres.sh"
        )
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)


def verify(url: str, run: dept.Department, *, restarted: bool) -> None:
    """Every acknowledged write stored once with its audit row, every refused one absent,
    every unanswered one stored whole or not at all; the audit chain valid."""
    assert not run.errors, run.errors[0]
    # every client reported every edit (and, after a restart, its one more save)
    assert len(run.rows) == CLIENTS * EDITS + (CLIENTS if restarted else 0)
    statuses = Counter(r["status"] for r in run.rows)
    if not restarted:
        assert statuses["error"] == 0, [
            (r["op"], r.get("reason")) for r in run.rows if r["status"] == "error"
        ][:3]
    assert run.of("save", "ok") and run.of("save", "conflict")  # the department had conflicts
    assert all(r["named_both"] for r in run.of("save", "conflict"))

    def values(op: str, status: str) -> set[Any]:
        return {
            r["value"] for r in run.of(op, status) if "value" in r
        }  # errors may come before a write

    with Board.open(url, clock=lambda: TODAY) as board:
        report = board.maintenance.check()
        assert report.ok, report
        # saves: the audit's weight updates are the acknowledged ones, each once, plus any
        # unanswered ones that reached the store; no refused value was stored.
        stored: Counter[float] = Counter()
        for n in range(dept.SHARED_CASES):
            mrn = dept.shared_mrn(n)
            history = board.maintenance.case_history(mrn)
            weights = [
                round(e.after["weight_kg"], 4)
                for e in history
                if e.action == "update" and e.after and "weight_kg" in e.after
            ]
            stored.update(weights)
            case = board.cases.get(mrn)
            if weights:
                assert round(case.patient.weight_kg or 0, 4) == weights[-1]
            versions = [r["version"] for r in run.of("save", "ok") if r["mrn"] == mrn]
            assert len(versions) == len(set(versions)), (
                f"two saves acknowledged as one {mrn} version"
            )
        assert max(stored.values(), default=1) == 1, "a save stored twice"
        assert values("save", "ok") <= set(stored)
        assert not values("save", "conflict") & set(stored)
        assert set(stored) <= values("save", "ok") | values("save", "error")
        # imports: each acknowledged case stored with its 'create' audit row
        for mrn in values("import", "ok"):
            history = board.maintenance.case_history(mrn)
            assert any(e.action == "insert" and e.table == "patient" for e in history), mrn
        imported = {e.mrn for e in board.cases.page("DEPT-C", limit=100_000)}
        assert values("import", "ok") <= imported
        assert imported <= values("import", "ok") | values("import", "error")
        # agenda changes and sign-offs: each acknowledged one stored exactly once
        questions: Counter[str] = Counter()
        for meeting_id in run.meetings:
            questions.update(e.question for e in board.meetings.get(meeting_id).agenda)
        assert max(questions.values(), default=1) == 1
        assert values("agenda", "ok") <= set(questions)
        assert set(questions) <= values("agenda", "ok") | values("agenda", "error")
        decisions: Counter[str] = Counter()
        for n in range(dept.SHARED_CASES):
            decisions.update(
                r.decision
                for r in board.cases.get(dept.shared_mrn(n)).reviews
                if r.decision.startswith("Decision c")
            )
        assert max(decisions.values(), default=1) == 1
        assert values("sign", "ok") <= set(decisions)
        assert set(decisions) <= values("sign", "ok") | values("sign", "error")
        assert not (values("sign", "conflict") | values("sign", "refused")) & set(decisions)
    if restarted:  # every client reconnected: its save after the restart was answered
        assert run.restarted_at is not None
        probes = [r for r in run.rows if r.get("probe")]
        assert len(probes) == CLIENTS
        assert all(r["at"] > run.restarted_at for r in probes)
        assert all(r["status"] in ("ok", "conflict") for r in probes), [
            r.get("reason") for r in probes if r["status"] not in ("ok", "conflict")
        ]


@pytest.fixture
def logins(own_postgres: str) -> Iterator[list[dept.Login]]:
    """Each client its own login role with a SCRAM password: odd ones clinicians (they
    sign), even ones coordinators. Roles belong to the server: new names for each test,
    dropped afterwards."""
    tag = secrets.token_hex(3)
    made = [
        dept.Login(
            f"t{tag}_client{n:02d}",
            secrets.token_urlsafe(16),
            f"Test Client {n:02d} {tag}",
            "clinician" if n % 2 else "coordinator",
        )
        for n in range(CLIENTS)
    ]
    yield made
    # the database first (its grants name the roles), then the roles themselves
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    database = sa.make_url(own_postgres).database
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for login in made:
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{login.name}"')
    admin.dispose()


def verify_actors(url: str, run: dept.Department, logins: list[dept.Login]) -> None:
    """Who did what: every acknowledged save's audit row names the client's own login, and
    every signed decision its clinician's printed name; coordinators signed nothing."""
    by_value = {r["value"]: logins[r["client"]] for r in run.of("save", "ok") if "value" in r}
    signers = {r["value"]: logins[r["client"]].printed for r in run.of("sign", "ok")}
    assert not [r for r in run.of("sign", "ok") if logins[r["client"]].role != "clinician"]
    with Board.open(url, clock=lambda: TODAY) as board:
        for n in range(dept.SHARED_CASES):
            mrn = dept.shared_mrn(n)
            for entry in board.maintenance.case_history(mrn):
                if entry.action == "update" and entry.after and "weight_kg" in entry.after:
                    value = round(entry.after["weight_kg"], 4)
                    if value in by_value:
                        assert entry.app_user == by_value[value].name, (mrn, value)
            for review in board.cases.get(mrn).reviews:
                if review.decision in signers:
                    assert review.signed_by == signers[review.decision], review.decision


def test_a_department_edits_the_shared_store_together(
    own_postgres: str, logins: list[dept.Login]
) -> None:
    run = dept.run(own_postgres, CLIENTS, EDITS, logins=logins)
    print("department:", run.figures())
    verify(own_postgres, run, restarted=False)
    verify_actors(own_postgres, run, logins)


def test_a_department_survives_a_server_restart(
    own_postgres: str, logins: list[dept.Login]
) -> None:
    run = dept.run(own_postgres, CLIENTS, EDITS, restart=restart_server, logins=logins)
    print("department, server restarted:", run.figures())
    verify(own_postgres, run, restarted=True)
    verify_actors(own_postgres, run, logins)
