"""The parts of B3's cold open, one at a time, for instruction counts (issue 21, B3).

    python -m bench.b3_parts MODE N SIZE

opens the cached SIZE-patient cohort, opens each of the five heavy cases B3 opens once
(warm-up), then runs MODE N times over them: `raw` (the baseline's `sqlite3` read), `read`
(`get_with_version`), `evaluated` (the evaluation and its read model), `notes` (the older
engines' comparison: since branch perf-b3cmp read as stored with the case when it is, and
stored as the window's door stores it when the warm-up open found none) or `fresh` (all
three, as a case's first open at a version).  With
CRLMBOARD_CALLGRIND_CTL naming a shared library with `cg_start` / `cg_stop` (callgrind's
CALLGRIND_ZERO_STATS + START_INSTRUMENTATION, STOP_INSTRUMENTATION + DUMP_STATS), only the N
runs are counted:

    valgrind --tool=callgrind --instr-atstart=no python -m bench.b3_parts fresh 25 10000

and the dump's total / N is one part's instructions.  Without it, the CPU time per run is
printed."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Any


def main(argv: list[str]) -> int:
    mode, count, size = argv[0], int(argv[1]), int(argv[2])
    from bench import cache, cohort, probe
    from crlmboard.services import Board
    from crlmboard.ui import ops

    db = cache.cohort_db(size, 1)[0]
    board = Board.open(db, clock=lambda: cohort.TODAY, exclusive=False, defer_checks=True)
    heavy = cohort.heavy_indexes(size)
    mrns = [cohort.mrn_of(i) for i in heavy[:: max(1, len(heavy) // 5)][:5]]
    cases = {mrn: board.cases.get_with_version(mrn)[0] for mrn in mrns}

    stamps = {mrn: probe.stamp_of(board, mrn) for mrn in mrns}

    def fresh(mrn: str) -> None:
        case, stamp = probe.read_for_open(board, mrn)
        ops._evaluated(board, case), probe.engine_notes(board, case, stamp)

    parts: dict[str, Any] = {
        "raw": lambda mrn: probe.raw_load(str(db), mrn),
        "read": board.cases.get_with_version,
        "evaluated": lambda mrn: ops._evaluated(board, cases[mrn]),
        "notes": lambda mrn: probe.engine_notes(board, cases[mrn], stamps[mrn]),
        "fresh": fresh,
    }
    part = parts[mode]
    for mrn in mrns:  # warm-up
        part(mrn)
    control = os.environ.get("CRLMBOARD_CALLGRIND_CTL")
    ctl = ctypes.CDLL(control) if control else None
    if ctl is not None:
        ctl.cg_start()
    started = time.process_time()
    for k in range(count):
        part(mrns[k % len(mrns)])
    spent = time.process_time() - started
    if ctl is not None:
        ctl.cg_stop()
    else:
        print(f"{mode} {size}: {spent / count * 1000:.3f} ms of CPU per run")
    board.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
