"""A department on one shared PostgreSQL store (issue 23): N client processes, each making
E mixed edits (saves, imports, agenda changes, sign-offs) over 50 shared cases, with
optimistic-concurrency conflicts; optionally the server restarted in the middle.

    python -m bench.department --url postgresql+psycopg://… [--clients 20] [--edits 200]
        [--restart "pg_ctl -D … -m fast -w restart"]

prints throughput, p95 latency and conflicts. `tests/reliability/test_department.py` runs
the same department (fewer edits in CI) and checks every write, never the speed.

Each client prints one JSON line per edit: what it tried, the value it wrote (unique per
client and edit), and whether the board acknowledged it ("ok"), refused it as a conflict
("conflict", with whether the message named both values), refused it for a stated reason
("refused"), or failed without an answer ("error": the server went away; the write may or
may not be stored, but never half).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tests" / "golden" / "upfront-resection.json"
TODAY = date(2026, 11, 24)
SHARED_CASES = 50


def shared_mrn(n: int) -> str:
    return f"DEPT-{n:03d}"


def case_text(mrn: str) -> str:
    data = json.loads(TEMPLATE.read_text("utf-8"))
    data["patient"]["mrn"] = mrn
    return json.dumps(data)


def weight(client: int, edit: int) -> float:
    """A weight no other edit writes (40–60 kg for up to 20 × 1,000 edits), never a whole
    number (so it reads the same in the conflict message as in the client's report)."""
    return round(40.0005 + (client * 1000 + edit) / 1000, 4)


# -- the client process ----------------------------------------------------------------


def names_both(error: Any, value: float) -> bool:
    """Whether a refused save's message names the stored weight and the refused one (as
    the case file writes them: 61 for 61.0)."""
    stored = error.theirs.patient.weight_kg
    prefix = "patient.weight_kg: theirs "
    for line in str(error).splitlines():
        if line.startswith(prefix):
            theirs, _, yours = line.removeprefix(prefix).partition(" → yours ")
            return float(theirs) == stored and float(yours) == value
    return False


def client(
    url: str, number: int, edits: int, meeting_id: int, seed: int, probe: bool = False
) -> None:
    """One coordinator's process: `edits` edits, then (with `probe`) wait for a line on
    stdin — the server has restarted — and make one more save."""
    from crlmboard.domain.validation import InvalidInput
    from crlmboard.services import Board, BoardError
    from crlmboard.services.cases import CaseConflict

    rng = random.Random(seed * 1000 + number)
    # the client's own login role when the department has them (its password comes in the
    # environment, never on the command line); re-entered to sign, as a clinician does
    password = os.environ.get("CRLMBOARD_DEPT_PASSWORD") or None
    signs = os.environ.get("CRLMBOARD_DEPT_SIGNS", "1") == "1"
    board = Board.open(url, clock=lambda: TODAY, password=password)
    opened: dict[str, tuple[Any, int]] = {}  # the cases this client has "open", maybe stale
    windows: dict[str, tuple[Any, int]] = {}  # a second window: the first version it opened
    print(json.dumps({"ready": number}), flush=True)
    for edit in range(edits):
        kind = rng.choices(["save", "import", "agenda", "sign"], weights=[6, 1, 2, 1])[0]
        mrn = shared_mrn(rng.randrange(SHARED_CASES))
        row: dict[str, Any] = {"client": number, "edit": edit, "op": kind, "mrn": mrn}
        started = time.perf_counter()
        try:
            if kind == "save":
                # each client works mostly on its own five cases, which overlap its
                # neighbours'; a case stays open in a window until the client reopens it,
                # and now and then it saves from an old second window of the case
                mrn = row["mrn"] = shared_mrn((number * 3 + rng.randrange(5)) % SHARED_CASES)
                if mrn in windows and rng.random() < 0.25:
                    case, version = windows[mrn]
                else:
                    if mrn not in opened or rng.random() < 0.5:
                        opened[mrn] = board.cases.get_with_version(mrn)
                    case, version = opened[mrn]
                    windows.setdefault(mrn, opened[mrn])
                value = weight(number, edit)
                row["value"] = value
                patient = case.patient.model_copy(update={"weight_kg": value})
                try:
                    saved = board.cases.save(case.model_copy(update={"patient": patient}), version)
                except CaseConflict as error:
                    row["status"] = "conflict"
                    row["named_both"] = names_both(error, value)
                    opened.pop(mrn, None)
                else:
                    row["status"] = "ok"
                    row["version"] = saved.version
                    opened[mrn] = (case.model_copy(update={"patient": patient}), saved.version)
            elif kind == "import":
                row["mrn"] = row["value"] = f"DEPT-C{number:02d}-{edit:04d}"
                board.cases.import_text(case_text(row["mrn"]))
                row["status"] = "ok"
            elif kind == "agenda" or not signs or not _pending(board, meeting_id):
                row["op"] = "agenda"
                row["value"] = f"Question c{number:02d} e{edit:04d}"
                board.meetings.add_to_agenda(meeting_id, mrn, row["value"])
                row["status"] = "ok"
            else:
                entry = rng.choice(_pending(board, meeting_id))
                row["mrn"] = entry.mrn
                row["value"] = f"Decision c{number:02d} e{edit:04d}"
                draft = board.reviews.start(meeting_id, entry.mrn)
                board.reviews.sign(
                    draft, recommendation=None, decision=row["value"],
                    password=password or "trust",  # (a server trusting the owner)
                )  # fmt: skip
                row["status"] = "ok"
        except InvalidInput as error:  # e.g. the case is already on this agenda
            row["status"] = "refused"
            row["reason"] = str(error)[:200]
        except BoardError as error:
            changed = "changed while" in str(error)
            row["status"] = "conflict" if changed else "error"
            row["reason"] = str(error)[:200]
        except Exception as error:  # the server went away mid-edit: report, go on
            row["status"] = "error"
            row["reason"] = type(error).__name__
        row["ms"] = round((time.perf_counter() - started) * 1000, 2)
        row["at"] = time.time()
        print(json.dumps(row), flush=True)
        if row["status"] == "error":
            time.sleep(0.2)
    if probe:  # after the server's restart: one more save, which must be answered
        sys.stdin.readline()
        mrn = shared_mrn(number * 3 % SHARED_CASES)
        row = {"client": number, "edit": edits, "op": "save", "mrn": mrn, "probe": True}
        row["value"] = value = weight(number, edits)
        started = time.perf_counter()
        try:
            case, version = board.cases.get_with_version(mrn)
            patient = case.patient.model_copy(update={"weight_kg": value})
            saved = board.cases.save(case.model_copy(update={"patient": patient}), version)
            row.update(status="ok", version=saved.version)
        except CaseConflict as error:
            row.update(status="conflict", named_both=names_both(error, value))
        except Exception as error:
            row.update(status="error", reason=f"{type(error).__name__}: {str(error)[:200]}")
        row["ms"] = round((time.perf_counter() - started) * 1000, 2)
        row["at"] = time.time()
        print(json.dumps(row), flush=True)
    board.close()
    print(json.dumps({"done": number}), flush=True)


def _pending(board: Any, meeting_id: int) -> list[Any]:
    return [e for e in board.meetings.get(meeting_id).agenda if e.status == "planned"]


# -- the department --------------------------------------------------------------------


@dataclass
class Department:
    """What the clients said, and what happened around them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # each client's stderr when it failed
    restarted_at: float | None = None
    seconds: float = 0.0
    meetings: list[int] = field(default_factory=list)

    def of(self, op: str, status: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["op"] == op and r["status"] == status]

    def figures(self) -> dict[str, Any]:
        done = [r for r in self.rows if r["status"] in ("ok", "conflict", "refused")]
        times = sorted(r["ms"] for r in done) or [0.0]
        statuses = Counter(r["status"] for r in self.rows)
        return {
            "edits": len(self.rows),
            "acknowledged": statuses["ok"],
            "conflicts": statuses["conflict"],
            "refused": statuses["refused"],
            "errors": statuses["error"],
            "seconds": round(self.seconds, 1),
            "edits_per_second": round(len(self.rows) / self.seconds, 1) if self.seconds else 0,
            "p50_ms": times[len(times) // 2],
            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
        }


@dataclass(frozen=True)
class Login:
    """A client's own PostgreSQL login role (a coordinator, or a clinician who also signs)."""

    name: str
    password: str
    printed: str
    role: str

    def url(self, url: str) -> str:
        import sqlalchemy as sa

        return sa.make_url(url).set(username=self.name).render_as_string(False)


def set_up(url: str, clients: int, logins: list[Login] | None = None) -> list[int]:
    """An empty, migrated store with 50 shared cases and one meeting per client (and each
    client's login role, added by the owner)."""
    from crlmboard.services import Board
    from crlmboard.store import migrate
    from crlmboard.store.database import create_database_engine

    engine = create_database_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    engine.dispose()
    with Board.open(url, clock=lambda: TODAY) as board:
        for n in range(SHARED_CASES):
            board.cases.import_text(case_text(shared_mrn(n)))
        for login in logins or []:
            board.users.add(login.name, login.printed, [login.role], login.password)
        return [
            board.meetings.create(TODAY - timedelta(days=1 + n)).meeting_id for n in range(clients)
        ]


def run(
    url: str,
    clients: int = 20,
    edits: int = 200,
    *,
    seed: int = 1,
    restart: Any = None,
    limit: float = 1800.0,
    logins: list[Login] | None = None,
) -> Department:
    """Run the department; `restart()` (if given) is called once half the edits are done.
    With `logins`, client n connects as `logins[n]` (only clinicians sign).  `limit` is
    only a safety net against a hung client."""
    department = Department(meetings=set_up(url, clients, logins))
    stderrs = [tempfile.TemporaryFile("w+") for _ in range(clients)]  # noqa: SIM115 (closed below)

    def command(n: int) -> list[str]:
        where = url if logins is None else logins[n].url(url)
        return [sys.executable, "-m", "bench.department", "client", where]

    def environment(n: int) -> dict[str, str]:
        if logins is None:
            return dict(os.environ)
        login = logins[n]
        signs = "1" if login.role == "clinician" else "0"
        return {
            **os.environ,
            "CRLMBOARD_DEPT_PASSWORD": login.password,
            "CRLMBOARD_DEPT_SIGNS": signs,
        }

    processes = [
        subprocess.Popen(
            [*command(n), str(n), str(edits), str(department.meetings[n]), str(seed)]
            + (["--probe"] if restart is not None else []),
            cwd=ROOT,
            env=environment(n),
            stdin=subprocess.PIPE if restart is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderrs[n],
            text=True,
        )
        for n in range(clients)
    ]
    lock = threading.Lock()
    ready = threading.Semaphore(0)

    def read(process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not line.startswith("{"):  # not one of the client's reports
                continue
            message = json.loads(line)
            if "ready" in message:
                ready.release()
            elif "client" in message:
                with lock:
                    department.rows.append(message)

    readers = [threading.Thread(target=read, args=(p,), daemon=True) for p in processes]
    for reader in readers:
        reader.start()
    for _ in processes:
        if not ready.acquire(timeout=limit):
            break
    started = time.perf_counter()
    if restart is not None:
        half = clients * edits // 2
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and len(department.rows) < half:
            with lock:
                reported = Counter(r["client"] for r in department.rows)
            if all(p.poll() is not None or reported[n] >= edits for n, p in enumerate(processes)):
                break  # nothing more is coming before the restart (a client failed)
            time.sleep(0.05)
        try:
            restart()
            department.restarted_at = time.time()
        finally:
            for process in processes:  # each client's last save comes after the restart
                assert process.stdin is not None
                with contextlib.suppress(OSError):
                    process.stdin.write("restarted\n")
                    process.stdin.close()
    for process, stderr in zip(processes, stderrs, strict=True):
        note = ""
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            note = "killed after the safety limit\n"
        stderr.seek(0)
        if process.returncode != 0:
            department.errors.append(note + stderr.read()[-3000:])
        stderr.close()
    for reader, process in zip(readers, processes, strict=True):
        reader.join(timeout=60)
        if process.stdout is not None:
            process.stdout.close()
    department.seconds = time.perf_counter() - started
    return department


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "client":
        url, number, edits, meeting_id, seed = args[1:6]
        client(url, int(number), int(edits), int(meeting_id), int(seed), "--probe" in args)
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.department")
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--restart", help="a shell command that restarts the server")
    options = parser.parse_args(args)
    command = options.restart

    def restart() -> None:
        subprocess.run(command, shell=True, check=True)

    department = run(
        options.url, options.clients, options.edits, restart=restart if command else None
    )
    print(json.dumps(department.figures(), indent=2))
    for error in department.errors:
        print(error, file=sys.stderr)
    return 1 if department.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
