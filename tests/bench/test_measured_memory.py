"""The safety tools' memory figures (B11, B12, T30) are the measured process's own: a child's
`ru_maxrss` from wait4 starts at its parent's size at the fork, so every process the suite
ran showed the suite's 213 MB (check at 1k, 10k and 100k alike, "0 MB above bare")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import sys
from pathlib import Path
big = b"x" * (300 << 20)  # a parent of 300 MB, as the suite is after its cohorts
from bench.run import run_measured
from bench.scale import run_logged
print(run_measured([sys.executable, "-c", "pass"])[1])
own = run_logged([sys.executable, "-c", "x = b'y' * (40 << 20)"], Path(sys.argv[1]))
print(own["peak_rss_mb"])
"""


def test_a_measured_process_reports_its_own_peak_memory_not_its_parents(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PARENT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    bare, forty = (float(x) for x in out)
    assert 0 < bare < 100, bare  # a bare interpreter: about 10 MB, not the parent's 300
    assert 40 <= forty < 140, forty  # 40 MB of its own, seen
