"""Cohorts and case-file folders built once and kept under `bench/.cache/` (gitignored),
keyed by generator version, seed and size."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import cohort

ROOT = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("CRLMBOARD_BENCH_CACHE") or ROOT / ".cache")


def _key(kind: str, patients: int, seed: int) -> str:
    return f"{kind}-g{cohort.GENERATOR_VERSION}-s{seed}-n{patients}"


def cohort_db(patients: int, seed: int, *, log: Any = print) -> tuple[Path, dict[str, Any]]:
    """The database of the cohort (built through `python -m bench.cohort` when missing);
    returns its path and the build record (how long the build took)."""
    folder = CACHE / _key("cohort", patients, seed)
    meta = folder / "cohort.json"
    if meta.is_file():
        db = folder / "board.sqlite3"
        _summaries_done(db, log)
        return db, json.loads(meta.read_text("utf-8"))
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"building the {patients:,}-patient cohort (seed {seed}) in {folder} …")
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.cohort",
            "--patients",
            str(patients),
            "--seed",
            str(seed),
            "--db",
            str(partial / "board.sqlite3"),
        ],
        cwd=ROOT.parent,
        env=isolated_env(partial),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["wall_seconds"] = round(time.perf_counter() - started, 1)
    (partial / "cohort.json").write_text(json.dumps(record, indent=2), "utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    log(f"  built in {record['wall_seconds']:.0f} s ({record['bytes'] / 1e6:,.0f} MB)")
    return folder / "board.sqlite3", record


def _summaries_done(db: Path, log: Any) -> None:
    """A cohort built before the build ran the day's recompute of the list's summaries (or
    under an older engine) has it run now, once (`cohort.finish_summaries`)."""
    from crlmboard.domain.engine import ENGINE_VERSION
    from crlmboard.services.cases import SUMMARIES_STAMP

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT value FROM setting WHERE key = ?", (SUMMARIES_STAMP,)
        ).fetchone()
    if row is not None and row[0].startswith(f"{cohort.TODAY.isoformat()} {ENGINE_VERSION} "):
        return
    log(f"recomputing the list's summaries of {db.parent.name} once (not timed) …")
    done = subprocess.run(
        [sys.executable, "-m", "bench.cohort", "--finish-summaries", "--db", str(db)],
        cwd=ROOT.parent,
        env=isolated_env(db.parent),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    log(f"  done: {done.stdout.strip().splitlines()[-1]}")


def audit_db(
    rows: int, seed: int, *, patients: int = 1_000, log: Any = print
) -> tuple[Path, Path, dict[str, Any]]:
    """The database of `rows` audit rows (T45; `python -m bench.audit_rows`, built once from
    the cohort of `patients`); returns its path, the home its processes run in (the audit
    key is kept there) and the build record."""
    from bench import audit_rows

    folder = CACHE / f"audit-g{audit_rows.GENERATOR_VERSION}-s{seed}-p{patients}-n{rows}"
    meta = folder / "audit.json"
    if meta.is_file():
        return folder / "board.sqlite3", folder, json.loads(meta.read_text("utf-8"))
    source, _ = cohort_db(patients, seed, log=log)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"writing {rows:,} audit rows in {folder} …")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.audit_rows",
            "--rows",
            str(rows),
            "--db",
            str(partial / "board.sqlite3"),
            "--source",
            str(source),
        ],
        cwd=ROOT.parent,
        env=isolated_env(partial),  # the audit key goes with the folder when it is renamed
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    (partial / "audit.json").write_text(json.dumps(record, indent=2), "utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    log(f"  written in {record['build_seconds']:.0f} s ({record['bytes'] / 1e6:,.0f} MB)")
    return folder / "board.sqlite3", folder, record


def case_files(patients: int, seed: int) -> Path:
    """A folder with the cohort's case files, one `MRN.json` each."""
    folder = CACHE / _key("files", patients, seed)
    if (folder / "complete").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    index = 0
    for chunk in cohort.parallel_texts(patients, seed, chunk=250, workers=2):
        for text in chunk:
            (folder / f"{cohort.mrn_of(index)}.json").write_text(text, "utf-8")
            index += 1
    (folder / "complete").write_text("", "utf-8")
    return folder


def isolated_env(home: Path) -> dict[str, str]:
    """The environment of a benchmark process: offscreen Qt, and settings, logs and data
    under `home` (never the real per-user ones)."""
    env = dict(os.environ)
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "xcache"),
        ("CRLMBOARD_LOG_DIR", "log"),
    ):
        env[name] = str(home / "env" / sub)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # Bytecode as an installed app has it, kept under the cache (never in the source tree).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    env.pop("CRLMBOARD_DB", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT.parent), *filter(None, [env.get("PYTHONPATH")])])
    return env
