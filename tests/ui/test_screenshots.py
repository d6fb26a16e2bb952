"""`crlmboard screenshots OUTDIR`: every view and dialog, at 100 % and 200 % and in a dark
palette, as real pictures of the size of the screen they were taken on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from crlmboard.ui.screenshots import NAMES, file_names

# every data-entry dialog, the timeline with two episodes, the tools, the meeting dialogs,
# and what came since: erasing a patient, the empty list's texts, many lesions, an upgrade
EXPECTED = NAMES
RECENT = (
    "43-erase-patient",
    "44-erase-refused-signed",
    "45-no-case-matches",
    "46-add-timepoint-many-lesions",
    "47-upgrade-progress",
    "48-opening-upgrade-status",
    "49-no-cases-yet",
)
LOOKS = {"": (1280, 720), "@2x": (2560, 1440), "-dark": (1280, 720)}


def _colours(image: QImage, step: int = 16) -> set[int]:
    return {
        image.pixel(x, y)
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
    }


def _lightness(image: QImage) -> float:
    """Mean lightness (0–255) of a grid of pixels."""
    values = [
        image.pixelColor(x, y).lightness()
        for y in range(0, image.height(), 20)
        for x in range(0, image.width(), 20)
    ]
    return sum(values) / len(values)


@pytest.mark.slow
def test_screenshots_writes_every_view_and_dialog_in_three_looks(tmp_path: Path) -> None:
    outdir = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "-m", "crlmboard", "screenshots", str(outdir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    expected = {f"{name}{suffix}.png" for suffix in LOOKS for name in EXPECTED}
    assert expected == set(file_names())
    assert set(RECENT) <= set(NAMES) and len(NAMES) >= 45  # none dropped from the set
    assert {p.name for p in outdir.iterdir()} == expected  # PNGs only: no database left there
    assert {Path(line).name for line in done.stdout.splitlines()} == expected
    for name in sorted(expected):
        image = QImage(str(outdir / name))
        assert not image.isNull(), name
        suffix = "@2x" if "@2x" in name else "-dark" if name.endswith("-dark.png") else ""
        assert (image.width(), image.height()) == LOOKS[suffix], name
        assert len(_colours(image)) > 20, f"{name} is (nearly) uniform"
    # the dark look is dark, the others light; a dialog is drawn over the window
    assert _lightness(QImage(str(outdir / "01-case-list-dark.png"))) < 100
    assert _lightness(QImage(str(outdir / "01-case-list.png"))) > 160
    window = QImage(str(outdir / "35-case-reviews.png"))
    amend = QImage(str(outdir / "41-amend-review.png"))
    assert window != amend
    # the erase dialog and its refusal are drawn over the window; the empty list is not
    # the filtered one
    for first, second in (
        ("35-case-reviews", "43-erase-patient"),
        ("43-erase-patient", "44-erase-refused-signed"),
        ("45-no-case-matches", "49-no-cases-yet"),
    ):
        assert QImage(str(outdir / f"{first}.png")) != QImage(str(outdir / f"{second}.png"))
