"""T42 under the Turkish locale and C.UTF-8: every name of the Unicode table is stored and
returned byte-exactly, found by the filter as typed and printed in the case PDF — and the
results are the same in both locales (a Turkish dotless ı must not change what is found)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.test_unicode import NAMES

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

ROUND_TRIP = """
import json, locale, sys, unicodedata
from pathlib import Path
locale.setlocale(locale.LC_ALL, "")  # the user's locale, as the app takes it
from crlmboard.report.fonts import drawable
from crlmboard.services import Board
from tests.conftest import GOLDEN, TODAY
from tests.report.conftest import pdftotext
folder, names = Path(sys.argv[1]), json.loads(sys.argv[2])
template = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
result = {"locale": locale.setlocale(locale.LC_ALL), "names": []}
with Board.open(folder / "board.sqlite3", clock=lambda: TODAY) as board:
    for i, name in enumerate(names):
        template["patient"].update(mrn=f"U-{i}", family_name=name, given_name="Test")
        board.cases.import_text(json.dumps(template))
    for i, name in enumerate(names):
        stored = board.cases.get(f"U-{i}").patient.family_name
        found = sorted(e.mrn for e in board.cases.page(name))
        text = pdftotext(board.reports.case_summary(f"U-{i}"), folder)
        # as pdftotext gives it back (tests/report/conftest.py); the PDF writes the family
        # name in capitals; a character no shipped font draws is printed as its code point
        forms = {unicodedata.normalize("NFKC", drawable(n)) for n in (name, name.upper())}
        forms = {"".join(c for c in f if unicodedata.category(c) != "Cf") for f in forms}
        printed = any(f in text for f in forms)
        result["names"].append([stored.encode("utf-8").hex(), found, printed])
print(json.dumps(result))
"""


def turkish_locale(folder: Path) -> dict[str, str]:
    """tr_TR.UTF-8 compiled into `folder` (LOCPATH), so no system locale is changed."""
    localedef = shutil.which("localedef")
    if localedef is None or not Path("/usr/share/i18n/locales/tr_TR").exists():
        pytest.skip("needs localedef and the tr_TR locale source (Debian package locales)")
    subprocess.run(
        [localedef, "-i", "tr_TR", "-f", "UTF-8", str(folder / "tr_TR.UTF-8")],
        check=True,
        capture_output=True,
    )
    return {"LOCPATH": str(folder), "LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"}


def round_trip(folder: Path, environment: dict[str, str]) -> dict[str, object]:
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    done = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP, str(folder), json.dumps(NAMES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_unicode_names_the_same_under_turkish_and_c_utf8(tmp_path: Path) -> None:
    turkish = round_trip(tmp_path / "tr", turkish_locale(tmp_path))
    plain = round_trip(tmp_path / "c", {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    assert turkish["locale"] == "tr_TR.UTF-8"  # really in Turkish, not silently C
    assert plain["locale"] == "C.UTF-8"
    assert turkish["names"] == plain["names"]
    for i, (name, (stored, found, printed)) in enumerate(
        zip(NAMES, plain["names"], strict=True)  # type: ignore[call-overload]
    ):
        assert bytes.fromhex(stored) == name.encode("utf-8"), name
        assert f"U-{i}" in found, name
        assert printed, name
