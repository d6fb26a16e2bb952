"""B11's best alternative, measured: the records check as SQL (issue 21, bench/README.md).

`python -m bench.sql_compare DB` on a copy of a cohort: CPU seconds of `integrity_check`,
of unpacking and expanding the audit trail with `json_each`, and of comparing the biggest
table (`lesion_measurement`) with its trail field by field in SQL (last write of each field
after the record's insert).  A prototype to measure, not used by `check`.
"""

from __future__ import annotations

import sqlite3
import sys
import time
import zlib
from typing import Any


def _unpack(value: Any) -> Any:
    return zlib.decompress(value).decode() if isinstance(value, bytes) else value


EXPAND = """CREATE TEMP TABLE ch AS
  SELECT a.seq * 100000 + ch.key AS at, json_extract(ch.value, '$.action') AS action,
         json_extract(ch.value, '$.record') AS record, json_extract(ch.value, '$.after') AS after
  FROM audit_event a, json_each(unpack(a.after_json)) ch
  WHERE a.action = 'changes' AND json_extract(ch.value, '$.table') = 'lesion_measurement'
  UNION ALL
  SELECT a.seq * 100000, a.action, a.record_id, unpack(a.after_json) FROM audit_event a
  WHERE a.action != 'changes' AND a.table_name = 'lesion_measurement'"""
EXPECTED = """CREATE TEMP TABLE expected AS
  WITH born AS (SELECT record, max(at) AS at FROM ch
                WHERE action IN ('insert', 'baseline') GROUP BY record),
  fields AS (
    SELECT ch.record, f.key AS name, f.atom AS value, ch.at AS at
    FROM ch JOIN born ON born.record = ch.record AND ch.at >= born.at, json_each(ch.after) f
    WHERE ch.action IN ('insert', 'baseline', 'update'))
  SELECT record, name, value, max(at) FROM fields GROUP BY record, name"""
COMPARE = """SELECT count(*), sum(
  CASE e.name
    WHEN 'segment' THEN m.segment IS NOT e.value
    WHEN 'longest_diameter_mm' THEN m.longest_diameter_mm IS NOT e.value
    WHEN 'depth_mm' THEN m.depth_mm IS NOT e.value
    WHEN 'target' THEN m.target IS NOT e.value
    WHEN 'morphology_group' THEN m.morphology_group IS NOT e.value
    WHEN 'status' THEN m.status IS NOT e.value
    WHEN 'id' THEN m.label IS NOT e.value
    WHEN 'timepoint_id' THEN m.timepoint_id IS NOT e.value
    WHEN 'position' THEN m.position IS NOT e.value
    ELSE 1 END)
FROM lesion_measurement m JOIN expected e ON e.record = CAST(m.row_id AS TEXT)"""


def main(path: str) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.create_function("unpack", 1, _unpack, deterministic=True)

    def cpu(label: str, *statements: str) -> None:
        started = time.process_time()
        found = None
        for statement in statements:
            found = connection.execute(statement).fetchall()
        print(
            f"{label:58s} {time.process_time() - started:6.2f} s CPU  {found[:1] if found else ''}"
        )

    cpu("integrity_check", "PRAGMA integrity_check")
    cpu("unpack every audit value", "SELECT sum(length(unpack(after_json))) FROM audit_event")
    cpu(
        "json_each of every change list",
        "SELECT count(*) FROM audit_event a, json_each(unpack(a.after_json)) ch "
        "WHERE a.action = 'changes'",
    )
    cpu(
        "lesion_measurement: its trail expanded, last write kept",
        EXPAND,
        "CREATE INDEX temp.ch_record ON ch (record, at)",
        EXPECTED,
        "CREATE INDEX temp.expected_record ON expected (record)",
    )
    cpu("lesion_measurement: compared field by field (values, differences)", COMPARE)


if __name__ == "__main__":
    main(sys.argv[1])
