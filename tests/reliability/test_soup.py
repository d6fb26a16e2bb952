"""T48: the SOUP inventory (IEC 62304 §8.1.2): every runtime package, as installed, is
listed in docs/soup.md with its version, its purpose and its known-anomaly note; the SQLite
library is named by `crlmboard --version` and `check`."""

from __future__ import annotations

import importlib.metadata as metadata
import re
from pathlib import Path

from packaging.requirements import Requirement

from crlmboard.cli import main

SOUP = Path(__file__).resolve().parents[2] / "docs" / "soup.md"
ROW = re.compile(r"^\| *`([^`]+)` *\| *([^ |]+) *\| *([^|]*?) *\| *([^|]*?) *\|$")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_packages() -> dict[str, str]:
    """crlmboard's runtime dependencies, all the way down (no test extras): name → version."""
    found: dict[str, str] = {}

    def visit(name: str, extras: frozenset[str]) -> None:
        dist = metadata.distribution(name)
        key = _key(dist.metadata["Name"])
        first = key not in found
        found[key] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras | {""})
            )
            if wanted and (first or (marker is not None and "extra" in str(marker))):
                visit(requirement.name, frozenset(requirement.extras))

    for text in metadata.distribution("crlmboard").requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            visit(requirement.name, frozenset(requirement.extras))
    return found


def listed() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in SOUP.read_text("utf-8").splitlines():
        match = ROW.match(line)
        if match:
            name, version, purpose, anomalies = match.groups()
            rows[_key(name)] = (version, purpose, anomalies)
    return rows


def test_every_runtime_package_is_listed_with_its_version() -> None:
    installed = runtime_packages()
    documented = listed()
    assert {"pyside6-essentials", "sqlalchemy", "reportlab", "psycopg-binary"} <= set(installed)
    missing = sorted(set(installed) - set(documented))
    assert not missing, f"not in docs/soup.md: {missing}"
    wrong = {
        name: (documented[name][0], version)
        for name, version in installed.items()
        if documented[name][0] != version
    }
    assert not wrong, f"docs/soup.md lists other versions (listed, installed): {wrong}"
    stale = sorted(set(documented) - set(installed))
    assert not stale, f"docs/soup.md lists packages that are not runtime dependencies: {stale}"
    for name, (_version, purpose, anomalies) in documented.items():
        assert purpose and anomalies, f"{name}: purpose and known-anomaly note needed"


def test_the_sqlite_library_is_named(capsys: object) -> None:
    import sqlite3

    assert main(["--version"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"SQLite {sqlite3.sqlite_version}" in out
