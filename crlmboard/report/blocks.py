"""Small building blocks of every PDF: formatted values, paragraphs of user text, and the
standard tables (label/value grids and data tables whose header repeats on each page).

Every string that comes from a record goes through `fonts.markup` here (escaped, right font
per script); text written by the app itself is passed as markup with `Para`/`P`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from reportlab.platypus import Flowable, Table

from crlmboard.domain.case import Case
from crlmboard.domain.labels import value_label
from crlmboard.report.fonts import fallback, markup
from crlmboard.report.styles import grid_style, key_value_style, styles
from crlmboard.report.text import Text

DASH = "—"
_BOLD_STYLES = frozenset({"cell_bold", "cell_head", "title", "h2", "h3"})

Cell: TypeAlias = "str | Flowable"
"""A table cell: markup for a Paragraph, or a ready flowable."""


def num(value: Any, unit: str = "", decimals: int | None = None) -> str:
    """A number as a person writes it (`26`, `25.9`), with its unit; `—` when unknown."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return DASH
    if decimals is not None:
        text = f"{value:.{decimals}f}"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = f"{value:g}" if isinstance(value, float) else str(value)
    if not unit:
        return text
    return f"{text} {unit}" if unit not in ("%",) else f"{text} %"


def signed_percent(value: Any) -> str:
    """`+12.5 %`, `−30 %`; `—` when unknown."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return DASH
    sign = "+" if value > 0 else ""
    return f"{sign}{num(value)} %"


def day(value: date | str | None) -> str:
    """An ISO date; `—` when unknown."""
    if value is None or value == "":
        return DASH
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def moment(value: datetime | None) -> str:
    """`2026-11-24 17:42 UTC`."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M UTC")


def yes_no(value: Any) -> str:
    if value is None:
        return DASH
    return "yes" if value else "no"


def label(value: Any) -> str:
    """Display text of a coded value (escaped)."""
    if value is None or value == "":
        return DASH
    return markup(value_label(value))


def parse_day(value: Any) -> date | None:
    """A date from an ISO string in an evaluation document (None when absent or bad)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def patient_name(case: Case) -> str:
    """`FAMILY, Given` (plain text, not markup)."""
    return case.display_name()


def age_on(birth: date | None, when: date | None) -> int | None:
    if birth is None or when is None or birth > when:
        return None
    return when.year - birth.year - ((when.month, when.day) < (birth.month, birth.day))


def P(text: str, style: str = "body") -> Text:
    """A paragraph of markup written by the app, in one of the shared styles (a `Text`:
    laid out and drawn as a Paragraph would be)."""
    return Text(fallback(text, bold=style in _BOLD_STYLES), getattr(styles(), style))


def U(text: str | None, style: str = "body", *, empty: str = DASH) -> Text:
    """A paragraph of user text (escaped, fonts per script)."""
    bold = style in _BOLD_STYLES
    return Text(markup(text, bold=bold) if text else empty, getattr(styles(), style))


def cell(value: Cell, style: str = "cell") -> Flowable:
    """A table cell: flowables as they are, markup in a `Text` of `style`."""
    if isinstance(value, Flowable):
        return value
    return Text(fallback(value, bold=style in _BOLD_STYLES), getattr(styles(), style))


class Grid(Table):  # type: ignore[misc]
    """A reportlab `Table` that keeps its layout for a width, and draws a cell holding one
    `Text` straight onto the canvas.

    A table under a heading is measured twice at the same width — by the KeepTogether that
    holds it with its heading, then by the frame — and reportlab measures every cell again
    each time; a split (which lays the table out again) forgets the kept layout.
    """

    _laid_out_for: float | None = None

    def _calc(self, availWidth: float, availHeight: float) -> None:
        self._laid_out_for = None
        super()._calc(availWidth, availHeight)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._laid_out_for is not None and self._laid_out_for == availWidth:
            self.availWidth = availWidth
            return self._width, self._height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        if self._hmax == self._nrows:  # every row measured (not cut short by the height)
            self._laid_out_for = availWidth
        return size

    def _drawCell(
        self, cellval: Any, cellstyle: Any, pos: tuple[float, float], size: tuple[float, float]
    ) -> None:
        value = cellval[0] if isinstance(cellval, list | tuple) and len(cellval) == 1 else cellval
        just = cellstyle.alignment
        if type(value) is not Text or just not in ("LEFT", "RIGHT", "CENTRE", "CENTER"):
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        canvas = self.canv
        current: Any = getattr(self, "_curcellstyle", None)
        if current is not cellstyle:  # as reportlab does for every cell
            if current is None or cellstyle.color != current.color:
                canvas.setFillColor(cellstyle.color)
            if (
                current is None
                or cellstyle.leading != current.leading
                or cellstyle.fontname != current.fontname
                or cellstyle.fontsize != current.fontsize
            ):
                canvas.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
            self._curcellstyle = cellstyle
        (column, row), (width, height) = pos, size
        left, right = cellstyle.leftPadding, cellstyle.rightPadding
        top, bottom = cellstyle.topPadding, cellstyle.bottomPadding
        w, h = value.wrapOn(canvas, width - left - right, height - top - bottom)
        if cellstyle.valign == "TOP":
            y = row + height - top
        elif cellstyle.valign == "BOTTOM":
            y = row + bottom + h
        else:
            y = row + (height + bottom - top + h) / 2.0
        if just == "LEFT":
            x = column + left
        elif just == "RIGHT":
            x = column + width - right - w
        else:
            x = column + (width + left - right - w) / 2.0
        value.drawOn(canvas, x, y - h)


def key_values(
    pairs: Sequence[tuple[str, Cell]], width: float, *, columns: int = 2, label_share: float = 0.36
) -> Grid:
    """Label/value pairs laid out in `columns` column pairs (labels as markup)."""
    rows: list[list[Flowable]] = []
    per_row = max(columns, 1)
    for start in range(0, len(pairs), per_row):
        row: list[Flowable] = []
        for name, value in pairs[start : start + per_row]:
            row += [cell(name, "cell_bold"), cell(value)]
        while len(row) < 2 * per_row:
            row += [cell(""), cell("")]
        rows.append(row)
    pair_width = width / per_row
    widths = [pair_width * label_share, pair_width * (1 - label_share)] * per_row
    table = Grid(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(key_value_style())
    return table


def data_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    widths: Sequence[float],
    *,
    header_rows: Sequence[Sequence[Cell]] = (),
    extra_style: Sequence[tuple[Any, ...]] = (),
    body_style: str = "cell",
) -> Grid:
    """A table with a bold header row (repeated on every page) and wrapped cells."""
    head = [[cell(h, "cell_head") for h in header]]
    head += [[cell(c, "cell_head") for c in extra] for extra in header_rows]
    body = [[cell(c, body_style) for c in row] for row in rows]
    table = Grid(head + body, colWidths=list(widths), repeatRows=len(head), hAlign="LEFT")
    style = grid_style(header_rows=len(head), rows=len(head) + len(body))
    for command in extra_style:
        style.add(*command)
    table.setStyle(style)
    return table


def values_text(values: Mapping[str, Any]) -> str:
    """A finding's values as markup: `key = value · key = value` (nested values inline)."""
    return " · ".join(
        f"<font color='#5f6368'>{markup(str(k))}</font> = {_value(v)}" for k, v in values.items()
    )


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{markup(str(k))}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return num(value)
    return markup(str(value))
