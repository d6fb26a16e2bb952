"""Each lesion's course over the imaging timepoints: its status as the engine reads it
(`recist.effective_status`: without a status, 0 mm reads as disappeared) and the change of
its longest diameter since its previous measurement.  Pure: a function of the imaging and
the RECIST targets, computed once per evaluation for the UI's lesion matrix and the PDF's
lesion table, which show it and compute nothing of their own."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from crlmboard.domain.case import ImagingTimepoint
from crlmboard.domain.engine.recist import effective_status


@dataclass(frozen=True)
class LesionCell:
    """One lesion at one timepoint."""

    lesion_id: str
    date: date
    segment: int | None
    diameter_mm: float | None
    status: str  # present | disappeared | ablated | resected
    target: bool  # a RECIST target lesion of the assessment
    change_percent: float | None  # since the lesion's previous measured diameter (> 0 mm)


def lesion_courses(
    imaging: Sequence[ImagingTimepoint], targets: Collection[str] = ()
) -> tuple[LesionCell, ...]:
    """Every lesion measurement as a cell, in date order then as recorded."""
    cells: list[LesionCell] = []
    previous: dict[str, float] = {}
    for timepoint in sorted(imaging, key=lambda tp: tp.date):
        for lesion in timepoint.lesions:
            now = lesion.longest_diameter_mm
            before = previous.get(lesion.id)
            change = None
            if now is not None and before:
                change = (float(now) - before) / before * 100
            cells.append(
                LesionCell(
                    lesion_id=lesion.id,
                    date=timepoint.date,
                    segment=lesion.segment,
                    diameter_mm=now,
                    status=effective_status(lesion).value,
                    target=lesion.id in targets,
                    change_percent=change,
                )
            )
            if now:
                previous[lesion.id] = float(now)
    return tuple(cells)
