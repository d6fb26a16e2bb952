"""Reliability at scale, measured (issue 23; reliability-tests.md T24, T30, T45): figures the
tests bound by counts and never time.

- T24: `crlmboard backup` of the 10,000-patient database while another process saves a
  case again and again (as the command line does, waiting up to 10 s for the writer lock);
  the backup must finish within 30 s, verify, and be one consistent state (its audit head a
  row of the source's chain, with that hash); the writer must never be refused.
- T30: the upgrade of each cohort from schema 0005 (the one it was built with), the first
  time the command line opens a copy of it (`_safety_copy`, before B11/B12): the whole
  command's time with the upgrade, the same command's time again without, and the progress
  lines it printed.
- T45: a million audit rows (`bench/audit_rows.py`, written once through the real audit
  writer and cached) verified from the first row (time, peak memory, rows held at once)
  and from the newest signed checkpoint (`check --since-checkpoint`, in process and as a
  whole command).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import cache, cohort

if TYPE_CHECKING:
    from bench.run import Result, Suite

T24_TARGET = 30.0  # s
T45_FULL_TARGET = 60.0  # s for 1,000,000 rows
T45_QUICK_TARGET = 1.0  # s
AUDIT_ROWS = 1_000_000
T30_FROM = "0005"  # the schema the generator-2 cohorts were built with

# The other process of T24: saves one case again and again through the services, waiting
# for the writer lock as the command line does, until told to stop.
WRITER = """
import sys
from crlmboard.services import Board, BoardError
path, mrn = sys.argv[1], sys.argv[2]
board = Board.open(path, exclusive=False, wait=10, create=False)
print("ready", flush=True)
i = refused = 0
import select
while not select.select([sys.stdin], [], [], 0)[0]:
    case, version = board.cases.get_with_version(mrn)
    patient = case.patient.model_copy(update={"weight_kg": 50 + (i % 500) / 10})
    try:
        board.cases.save(case.model_copy(update={"patient": patient}), version)
        print("saved", i, flush=True)
    except BoardError as error:
        refused += 1
        print("refused", type(error).__name__, flush=True)
    i += 1
board.close()
print("done", i, refused, flush=True)
"""


class PeakWatch:
    """A child process's own peak resident memory (MB), from its VmHWM, read every few
    milliseconds until it exits (a high-water mark: any read after the peak holds it).
    `ru_maxrss` from wait4 starts at the parent's size at the fork: every process the
    suite ran showed the suite's own 213 MB."""

    def __init__(self, pid: int):
        self.peak: float | None = None
        self._status = Path(f"/proc/{pid}/status")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                text = self._status.read_text("ascii")
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak = max(self.peak or 0.0, int(line.split()[1]) / 1024)
            self._stop.wait(0.005)

    def finish(self, fallback_kb: int) -> float:
        """The peak (MB); `fallback_kb` (wait4's) where /proc cannot be read."""
        self._stop.set()
        self._thread.join()
        return self.peak if self.peak is not None else fallback_kb / 1024


def run_logged(command: list[str], home: Path) -> dict[str, Any]:
    """A whole process: wall seconds, peak resident memory (MB), exit status and the lines
    it wrote to stderr."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cache.ROOT.parent,
        env=cache.isolated_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watch = PeakWatch(process.pid)
    assert process.stderr is not None
    err = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(watch.finish(usage.ru_maxrss), 1),
        "exit": os.waitstatus_to_exitcode(status),
        "stderr": err.splitlines(),
    }


def schema_of(path: Path) -> str | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def upgrade_copy(source: Path, target: Path, home: Path) -> dict[str, Any]:
    """Copy a cohort and open the copy with the command line, which upgrades it; then the
    same command again (nothing to upgrade).  T30's figures.  A cohort already at the head
    schema (the cache's database opened by a newer app) is first taken back to
    `T30_FROM`, the schema the generator-2 cohorts were built with (not timed)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    from crlmboard.store import migrate
    from crlmboard.store.database import create_database_engine

    if schema_of(target) == migrate.head_revision():
        engine = create_database_engine(f"sqlite:///{target}")
        try:
            migrate.downgrade(engine, T30_FROM)
        finally:
            engine.dispose()
    schema = schema_of(target)
    command = [sys.executable, "-m", "crlmboard", "list", "--db", str(target), "x"]
    first = run_logged(command, home)
    again = run_logged(command, home)
    progress = [line for line in first["stderr"] if line.startswith("upgrade: ")]
    return {
        "from_schema": schema,
        "to_schema": schema_of(target),
        "seconds": first["seconds"],
        "seconds_without_upgrade": again["seconds"],
        "upgrade_seconds": round(first["seconds"] - again["seconds"], 3),
        "peak_rss_mb": first["peak_rss_mb"],
        "exit": first["exit"],
        "progress_lines": len(progress),
        "migrations": [line for line in progress if line.startswith("upgrade: migration ")],
        "bytes": target.stat().st_size,
    }


def t30(suite: Suite) -> Result:
    from bench.run import Result

    result = Result(
        "T30",
        "upgrade of the cohort from its built schema on the first open (CLI, on a copy)",
        unit="s",
        target="reported (a stated bound; progress shown)",
    )
    growth = {}
    for size in suite.config.growth_sizes:
        if size not in suite.upgrades:
            suite._safety_copy(size)
        growth[size] = suite.upgrades[size]
    top = growth[max(growth)]
    result.figure = top["upgrade_seconds"]
    result.baseline = top["seconds_without_upgrade"]
    result.details = {"growth": {k: dict(v, seconds=v["seconds"]) for k, v in growth.items()}}
    upgraded = all(v["from_schema"] != v["to_schema"] for v in growth.values())
    result.passed = all(v["exit"] == 0 and v["progress_lines"] > 0 for v in growth.values())
    if not upgraded:
        result.details["note"] = "a cohort was built at the head schema: nothing to upgrade"
    return result


def t24(suite: Suite) -> Result:
    """The backup of the 10,000-patient database while another process saves."""
    from bench.run import Result
    from crlmboard.store import backup

    size = min(10_000, max(suite.config.growth_sizes))
    result = Result(
        "T24",
        f"crlmboard backup while another process saves, {size:,} patients",
        unit="s",
        target=f"≤ {T24_TARGET:.0f} s; verifies; one consistent state; writer never refused",
    )
    db = suite._safety_copy(size)
    home = db.parent / "home"
    out = db.parent / "during-writes.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), cohort.mrn_of(1)],
        cwd=cache.ROOT.parent,
        env=cache.isolated_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    lines: list[tuple[float, str]] = []
    ready = threading.Event()
    started_saving = threading.Event()

    def read() -> None:
        assert writer.stdout is not None
        for line in writer.stdout:
            lines.append((time.perf_counter(), line.strip()))
            if line.startswith("ready"):
                ready.set()
            if sum(1 for _, text in lines if text.startswith("saved")) >= 5:
                started_saving.set()
        ready.set()
        started_saving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        started_saving.wait(600)
        begun = time.perf_counter()
        made = run_logged(
            [sys.executable, "-m", "crlmboard", "backup", "--db", str(db), "-o", str(out)], home
        )
        ended = time.perf_counter()
        time.sleep(2)  # the writer goes on after the backup (its waiting saves complete)
    finally:
        writer.stdin.write("stop\n")
        writer.stdin.flush()
        writer.wait(600)
        reader.join(60)
    saves = [t for t, text in lines if text.startswith("saved")]
    refused = [text for _, text in lines if text.startswith("refused")]
    info = backup.verify_backup(out, deep=True) if out.exists() else None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as source:
        chain = dict(source.execute("SELECT seq, row_hash FROM audit_event"))
    head = None if info is None else info.audit_head
    consistent = head is not None and chain.get(head.seq) == head.hash
    result.figure = made["seconds"]
    result.details = {
        "exit": made["exit"],
        "verified": bool(info and info.verified),
        "problem": None if info is None else info.problem,
        "consistent": consistent,
        "copy_head": None if head is None else head.seq,
        "source_head": max(chain) if chain else None,
        "saves_before": sum(1 for t in saves if t < begun),
        "saves_during": sum(1 for t in saves if begun <= t <= ended),
        "saves_after": sum(1 for t in saves if t > ended),
        "refused": len(refused),
        "refusals": refused[:3],
        "bytes": db.stat().st_size,
    }
    result.passed = (
        made["exit"] == 0
        and made["seconds"] <= T24_TARGET
        and bool(info and info.verified)
        and consistent
        and not refused
    )
    out.unlink(missing_ok=True)
    return result


def t45(suite: Suite) -> Result:
    """A million audit rows: the full walk and the quick check from the newest checkpoint."""
    from bench.run import Result

    rows, patients = (
        (2_000, min(suite.config.growth_sizes))
        if suite.config.smoke
        else (
            AUDIT_ROWS,
            1_000,
        )
    )
    result = Result(
        "T45",
        f"audit chain of {rows:,} rows: full verification; from the newest checkpoint",
        unit="s",
        target=f"full ≤ {T45_FULL_TARGET:.0f} s (1M rows); from the checkpoint ≤ "
        f"{T45_QUICK_TARGET:.0f} s",
    )
    db, home, record = cache.audit_db(rows, suite.config.seed, patients=patients, log=suite.log)
    done = subprocess.run(
        [sys.executable, "-m", "bench.audit_rows", "--verify", "--db", str(db)],
        cwd=cache.ROOT.parent,
        env=cache.isolated_env(home),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"T45 verification failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    quick = run_logged(
        [sys.executable, "-m", "crlmboard", "check", "-q", "--since-checkpoint", "--db", str(db)],
        home,
    )
    result.figure = figures["full_seconds"]
    result.details = {
        **figures,
        "cli_quick_check_seconds": quick["seconds"],
        "cli_quick_check_exit": quick["exit"],
        "build": record,
    }
    result.passed = (
        figures["chain_ok"]
        and figures["incremental_ok"]
        and quick["exit"] == 0
        and figures["full_seconds"] <= T45_FULL_TARGET * figures["rows"] / AUDIT_ROWS
        and figures["incremental_seconds"] <= T45_QUICK_TARGET
    )
    return result
