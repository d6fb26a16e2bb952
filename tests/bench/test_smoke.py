"""The benchmark suite cannot rot: `python -m bench --smoke` (200 patients, every benchmark
once) runs to the end and reports every benchmark.  Timings are not judged here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import IDS

pytestmark = [pytest.mark.slow, pytest.mark.ui, pytest.mark.db, pytest.mark.pdf]

ROOT = Path(__file__).resolve().parents[2]


def test_the_smoke_suite_runs_every_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    env = {
        **os.environ,
        "CRLMBOARD_BENCH_CACHE": str(tmp_path / "cache"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    document = json.loads(output.read_text("utf-8"))
    assert document["smoke"] is True
    results = {r["id"]: r for r in document["results"]}
    assert sorted(results) == sorted(IDS)
    for result in results.values():
        assert result["error"] is None, result
        assert result["figure"] is not None, result
    for benchmark in IDS:
        assert benchmark in done.stdout  # the printed table
    assert document["cohorts"]["200"]["patients"] == 200
    # the cohort's build ran the day's recompute of the list's summaries to its end, so the
    # window's case opens (B3) were measured after it, not beside it
    assert document["cohorts"]["200"]["summaries"]["steps"] >= 1
    # B7 measured as B6 is: CPU time beside, the collector's full passes in the packs counted
    assert {"ratio_cpu", "full_collections_in_timed_packs"} <= set(results["B7"]["details"])
    for size in results["B8"]["details"]["growth"].values():
        assert size["summaries_pending"] == 0, size


def test_a_subset_and_an_unknown_id(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "B42"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "unknown benchmark" in done.stderr
