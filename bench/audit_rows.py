"""A database with a million audit rows (T45), written through the real audit writer.

    python -m bench.audit_rows --rows 1000000 --db PATH [--source COHORT.sqlite3]
    python -m bench.audit_rows --verify --db PATH     # the figures, as JSON (a fresh process)

Starts from a copy of the 1,000-patient cohort (opened once by the app, so upgraded and
signed as a user's database is), then saves lab values: each transaction changes one lab
result's CEA in each of `--per-save` cases (the row updated and its `update` audit row
written by `AuditLog`, chained and hashed as every save's are), and the head is signed after
each transaction as the app signs after every save (the checkpoint file at every 100th, as
at a close).  The clinical rows stay equal to their trail, so a full `crlmboard check`
passes on the result.  Kept in the bench cache (`bench/cache.py`), never in git.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1


def build(db: Path, rows: int, source: Path, *, per_save: int = 1000) -> dict[str, Any]:
    import sqlalchemy as sa

    from crlmboard.services import Board
    from crlmboard.store import audit, signing
    from crlmboard.store.audit import Actor, AuditLog
    from crlmboard.store.database import audited_write, create_database_engine

    started = time.perf_counter()
    db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    Board.open(db, create=False).close()  # upgraded (and signed) as any user's database
    engine = create_database_engine(f"sqlite:///{db}")
    actor = Actor.current()
    try:
        with engine.connect() as connection:
            labs = [
                (int(r[0]), int(r[1]), float(r[2]))
                for r in connection.exec_driver_sql(
                    "SELECT min(id), case_id, cea_ng_ml FROM lab_result "
                    "WHERE cea_ng_ml IS NOT NULL GROUP BY case_id ORDER BY case_id"
                )
            ]
            head = audit.read_head(connection)
        written = 0 if head is None else head.seq
        values = {lab_id: value for lab_id, _case, value in labs}
        update = sa.text("UPDATE lab_result SET cea_ng_ml = :value WHERE id = :id")
        saves = 0
        while written < rows:
            chosen = labs[: min(per_save, len(labs), rows - written)]
            with audited_write(engine, actor, audit.utc_now) as session:
                log = AuditLog.of(session)
                changed = []
                for lab_id, case_id, _value in chosen:
                    old = values[lab_id]
                    new = round(old + 0.1, 1) if old < 900 else round(old - 800, 1)
                    values[lab_id] = new
                    log.record(
                        "update",
                        "lab_result",
                        lab_id,
                        case_id=case_id,
                        before={"cea_ng_ml": old},
                        after={"cea_ng_ml": new},
                        fields=["cea_ng_ml"],
                    )
                    changed.append({"value": new, "id": lab_id})
                session.execute(update, changed)
            saves += 1
            signing.sign_head(engine, db, audit.utc_now(), after=written, to_file=saves % 100 == 0)
            written += len(chosen)
            labs = labs[len(chosen) :] + chosen  # the next save changes other cases first
            if saves % 100 == 0:
                print(f"  {written:,} audit rows", file=sys.stderr, flush=True)
        signing.sign_head(engine, db, audit.utc_now(), to_file=True)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return {
        "rows": written,
        "saves": saves,
        "generator": GENERATOR_VERSION,
        "bytes": db.stat().st_size,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def verify(db: Path) -> dict[str, Any]:
    """T45's figures in this process: the full chain walk (time, peak memory above the
    process before it, rows held at once) and the quick check from the newest checkpoint."""
    from crlmboard.services import Board
    from crlmboard.store import audit

    with Board.open(db, create=False, defer_checks=True) as board:
        with board.database.read() as session:  # warm: the file in the page cache
            audit.read_head(session)
        before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu = time.perf_counter(), time.process_time()
        with board.database.read() as session:
            chain = audit.verify_chain(session)
        full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu = time.perf_counter(), time.process_time()
        quick = board.maintenance.check(since_checkpoint=True)
        incremental = time.perf_counter() - started
        incremental_cpu = time.process_time() - cpu
    return {
        "rows": chain.rows,
        "chain_ok": chain.ok,
        "full_seconds": round(full, 3),
        "full_cpu_seconds": round(full_cpu, 3),  # steadier than wall time on a busy machine
        "rows_per_second": round(chain.rows / full) if full else None,
        "most_rows_held": chain.most_rows_held,
        "batches": chain.batches,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "growth_during_walk_mb": round((peak_kb - before_kb) / 1024, 1),
        "incremental_seconds": round(incremental, 3),
        "incremental_cpu_seconds": round(incremental_cpu, 3),
        "incremental_rows": quick.audit_rows,
        "incremental_since": None if quick.since is None else quick.since.seq,
        "incremental_ok": quick.ok,
        "incremental_problems": quick.problems[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_rows", description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, help="the database to start from")
    parser.add_argument("--per-save", type=int, default=1000)
    parser.add_argument("--verify", action="store_true", help="measure instead of build")
    args = parser.parse_args(argv)
    if args.verify:
        print(json.dumps(verify(args.db)))
        return 0
    if args.source is None:
        parser.error("--source is needed to build")
    print(json.dumps(build(args.db, args.rows, args.source, per_save=args.per_save)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
