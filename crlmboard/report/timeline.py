"""The timeline chart as vector graphics: `timeline_drawing(timeline, width)` draws the
domain `Timeline` model (the same one the app's timeline view draws) as a reportlab
`Drawing`, a flowable that goes straight into a PDF story.

From top to bottom: events (milestones, procedures, board reviews) as labelled flags with
dashed guides, chemotherapy cycles as bars coloured by regimen with a dark cap when a biologic
was given, immunotherapy doses, the diameter sums with their RECIST category over a CEA line
on a second axis, the date axis, and a legend.  All text is real text in the bundled font.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pdfgeom import bezierArc

from crlmboard.domain.labels import value_label
from crlmboard.domain.timeline import Timeline
from crlmboard.report.fonts import SANS, SANS_BOLD, register_fonts
from crlmboard.report.styles import (
    CEA_COLOUR,
    INK,
    MUTED,
    REGIMEN_PALETTE,
    RESPONSE_COLOURS,
    RULE,
    SUM_COLOUR,
)
from crlmboard.report.text import fill_operator, fp, show

T = TypeVar("T")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LABEL_SIZE = 6.5
EVENT_ROW = 9.0
MAX_EVENT_ROWS = 4
BIOLOGIC_COLOUR = colors.HexColor("#222222")
IMMUNO_COLOUR = colors.HexColor("#2a9d8f")
EVENT_COLOURS = {
    "procedure": colors.HexColor("#37474f"),
    "milestone": colors.HexColor("#7b8a95"),
    "review": colors.HexColor("#1f4e79"),
}


def nice_ceiling(value: float) -> float:
    """The smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ at or above `value` (an axis top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _factory(kind: type[T], fields: tuple[str, ...], *example: Any) -> Callable[..., T]:
    """A maker of `kind` shapes taking the constructor's arguments: the attributes the
    constructor sets for `example`, then the given ones, without reportlab validating every
    attribute of every shape again (a chart has hundreds; tests verify them)."""
    defaults = dict(kind(*example).__dict__)

    def make(*args: Any, **attributes: Any) -> T:
        shape = kind.__new__(kind)
        values = shape.__dict__
        values.update(defaults)
        values.update(zip(fields, args, strict=False))
        values.update(attributes)
        return shape

    return make


_rect = _factory(Rect, ("x", "y", "width", "height", "rx", "ry"), 0, 0, 0, 0)
_line = _factory(Line, ("x1", "y1", "x2", "y2"), 0, 0, 0, 0)
_polygon = _factory(Polygon, ("points",), [])
_polyline = _factory(PolyLine, ("points",), [])
_circle = _factory(Circle, ("cx", "cy", "r"), 0, 0, 0)
_string = _factory(String, ("x", "y", "text"), 0, 0, "")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = LABEL_SIZE,
    colour: colors.Color = INK,
    anchor: str = "start",
    bold: bool = False,
) -> String:
    return _string(
        x,
        y,
        text,
        fontName=SANS_BOLD if bold else SANS,
        fontSize=size,
        fillColor=colour,
        textAnchor=anchor,
    )


def _width(text: str, size: float = LABEL_SIZE, bold: bool = False) -> float:
    return float(stringWidth(text, SANS_BOLD if bold else SANS, size))


def _month(when: date) -> str:
    return f"{MONTHS[when.month - 1]} {when.year}"


def timeline_drawing(timeline: Timeline, width: float, *, plot_height: float = 120) -> Drawing:
    """The chart of `timeline`, `width` points wide (its height follows from the content)."""
    register_fonts()
    events = _events(timeline)
    left, right = 34.0, 34.0
    plot_left, plot_right = left, width - right
    plot_width = plot_right - plot_left
    axis = timeline.axis

    def x_of(when: date) -> float:
        return plot_left + max(0.0, min(1.0, axis.fraction(when))) * plot_width

    # event labels: greedy rows so that no two labels overlap
    rows: list[float] = []
    placed: list[tuple[float, int, str, str, bool]] = []
    for when, kind, label in events:
        x = x_of(when)
        label_width = _width(label) + 6
        flipped = x + label_width > width  # near the right edge: label left of the flag
        start, end = (x - label_width, x) if flipped else (x, x + label_width)
        row = next((i for i, last in enumerate(rows) if last <= start), None)
        if row is None and len(rows) < MAX_EVENT_ROWS:
            rows.append(0.0)
            row = len(rows) - 1
        if row is None:
            row = min(range(len(rows)), key=lambda i: rows[i])
        rows[row] = end
        placed.append((x, row, kind, label, flipped))

    has_chemo = bool(timeline.chemotherapy)
    has_immuno = bool(timeline.immunotherapy)
    lane_chemo = 13.0 if has_chemo else 0.0
    lane_immuno = 11.0 if has_immuno else 0.0
    legend_rows = _legend_layout(_legend_items(timeline), width)

    # bottom-up: legend, date axis, plot, therapy lanes, event flags
    legend_y = 2.0 + max(len(legend_rows) - 1, 0) * 10
    axis_y = legend_y + (22.0 if legend_rows else 12.0)
    plot_bottom = axis_y
    plot_top = plot_bottom + plot_height
    immuno_bottom = plot_top + 3
    chemo_bottom = immuno_bottom + lane_immuno
    chemo_top = chemo_bottom + lane_chemo
    top = chemo_top + 2 + len(rows) * EVENT_ROW
    height = top + 2
    drawing = Chart(width, height, initialFontName=SANS, initialFontSize=LABEL_SIZE)

    if timeline.empty:
        drawing.add(
            _rect(
                plot_left,
                plot_bottom,
                plot_width,
                plot_top - plot_bottom,
                strokeColor=RULE,
                fillColor=None,
                strokeWidth=0.5,
            )
        )
        drawing.add(
            _text(
                width / 2,
                (plot_top + plot_bottom) / 2,
                "No dated records yet",
                size=8,
                colour=MUTED,
                anchor="middle",
            )
        )
        return drawing

    # frame and month grid
    drawing.add(
        _rect(
            plot_left,
            plot_bottom,
            plot_width,
            plot_top - plot_bottom,
            strokeColor=RULE,
            fillColor=None,
            strokeWidth=0.5,
        )
    )
    for tick in axis.ticks(max(2, int(plot_width // 62))):
        x = x_of(tick)
        drawing.add(
            _line(
                x,
                plot_bottom,
                x,
                chemo_top,
                strokeColor=colors.HexColor("#eceff1"),
                strokeWidth=0.4,
            )
        )
        drawing.add(_line(x, axis_y - 2.5, x, axis_y, strokeColor=MUTED, strokeWidth=0.5))
        drawing.add(_text(x, axis_y - 9, _month(tick), colour=MUTED, anchor="middle"))

    # events: dashed guides, flag and label
    for x, row, kind, label, flipped in placed:
        colour = EVENT_COLOURS.get(kind, MUTED)
        y_label = top - (row + 1) * EVENT_ROW + 2
        drawing.add(
            _line(
                x,
                plot_bottom,
                x,
                y_label - 1.5,
                strokeColor=colour,
                strokeWidth=0.5,
                strokeDashArray=[1.5, 1.5],
            )
        )
        if kind == "review":
            drawing.add(_rect(x - 2, y_label - 0.5, 4, 4, fillColor=colour, strokeColor=None))
        elif kind == "milestone":
            drawing.add(
                _polygon(
                    [
                        x,
                        y_label - 0.5,
                        x + 2.3,
                        y_label + 1.8,
                        x,
                        y_label + 4.1,
                        x - 2.3,
                        y_label + 1.8,
                    ],
                    fillColor=colour,
                    strokeColor=None,
                )
            )
        else:
            drawing.add(
                _polygon(
                    [x - 2.3, y_label + 3.5, x + 2.3, y_label + 3.5, x, y_label - 0.5],
                    fillColor=colour,
                    strokeColor=None,
                )
            )
        if flipped:
            drawing.add(_text(x - 3.5, y_label, label, colour=colour, anchor="end"))
        else:
            drawing.add(_text(x + 3.5, y_label, label, colour=colour))

    # chemotherapy cycles
    palette = {
        regimen: REGIMEN_PALETTE[i % len(REGIMEN_PALETTE)]
        for i, regimen in enumerate(timeline.regimens)
    }
    if has_chemo:
        drawing.add(_text(plot_left - 3, chemo_bottom + 3.5, "Chemo", colour=MUTED, anchor="end"))
        for cycle in timeline.chemotherapy:
            x0, x1 = x_of(cycle.date), x_of(cycle.end)
            drawing.add(
                _rect(
                    x0,
                    chemo_bottom + 1.5,
                    max(x1 - x0 - 0.6, 0.8),
                    lane_chemo - 4,
                    fillColor=palette[cycle.regimen],
                    strokeColor=None,
                )
            )
            if cycle.biologic:
                drawing.add(
                    _rect(
                        x0,
                        chemo_bottom + lane_chemo - 5,
                        max(x1 - x0 - 0.6, 0.8),
                        2.5,
                        fillColor=BIOLOGIC_COLOUR,
                        strokeColor=None,
                    )
                )
    if has_immuno:
        drawing.add(_text(plot_left - 3, immuno_bottom + 3, "IO", colour=MUTED, anchor="end"))
        for dose in timeline.immunotherapy:
            x = x_of(dose.date)
            y = immuno_bottom + lane_immuno / 2
            drawing.add(
                _polygon(
                    [x, y - 3.5, x + 3, y, x, y + 3.5, x - 3, y],
                    fillColor=IMMUNO_COLOUR,
                    strokeColor=colors.white,
                    strokeWidth=0.3,
                )
            )

    # size axis (left) and CEA axis (right)
    inner_top = plot_top - 12  # room for RECIST labels
    inner_height = inner_top - plot_bottom
    max_sum = timeline.max_sum_mm
    if max_sum is not None:
        top_mm = nice_ceiling(max_sum * 1.05)
        _value_axis(
            drawing, plot_left, plot_bottom, inner_height, top_mm, "mm", SUM_COLOUR, side="left"
        )

        def y_sum(value: float) -> float:
            return plot_bottom + value / top_mm * inner_height

        totals = [
            (x_of(m.date), y_sum(m.total_diameter_mm))
            for m in timeline.imaging
            if m.total_diameter_mm is not None
        ]
        if len(totals) > 1:
            drawing.add(
                _polyline(
                    [c for point in totals for c in point],
                    strokeColor=colors.HexColor("#9aa5ad"),
                    strokeWidth=0.8,
                    strokeDashArray=[2, 1.5],
                )
            )
        for x, y in totals:
            drawing.add(
                _circle(
                    x,
                    y,
                    1.6,
                    fillColor=colors.white,
                    strokeColor=colors.HexColor("#9aa5ad"),
                    strokeWidth=0.7,
                )
            )
        segment: list[float] = []
        segments: list[list[float]] = []
        for mark in timeline.imaging:
            if mark.target_sum_mm is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment += [x_of(mark.date), y_sum(mark.target_sum_mm)]
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) >= 4:
                drawing.add(_polyline(points, strokeColor=SUM_COLOUR, strokeWidth=1.4))
        for mark in timeline.imaging:
            if mark.target_sum_mm is None:
                continue
            x, y = x_of(mark.date), y_sum(mark.target_sum_mm)
            drawing.add(
                _circle(x, y, 2.2, fillColor=SUM_COLOUR, strokeColor=colors.white, strokeWidth=0.5)
            )
            tag = "BL" if mark.baseline else (mark.response or "")
            if tag:
                drawing.add(
                    _text(
                        x,
                        y + 4,
                        tag,
                        size=6.5,
                        bold=True,
                        anchor="middle",
                        colour=RESPONSE_COLOURS.get(tag, SUM_COLOUR),
                    )
                )
    else:
        drawing.add(_text(plot_left + 4, plot_top - 10, "No lesion measurements", colour=MUTED))
    for mark in timeline.imaging:  # imaging ticks along the bottom of the plot
        x = x_of(mark.date)
        drawing.add(
            _line(x, plot_bottom, x, plot_bottom + 3, strokeColor=SUM_COLOUR, strokeWidth=0.8)
        )

    max_cea = timeline.max_cea
    if max_cea is not None:
        top_cea = nice_ceiling(max_cea * 1.05)
        _value_axis(
            drawing, plot_right, plot_bottom, inner_height, top_cea, "CEA", CEA_COLOUR, side="right"
        )
        cea_points = [
            (x_of(m.date), plot_bottom + m.value / top_cea * inner_height) for m in timeline.cea
        ]
        if len(cea_points) > 1:
            drawing.add(
                _polyline(
                    [c for point in cea_points for c in point],
                    strokeColor=CEA_COLOUR,
                    strokeWidth=1.0,
                )
            )
        for x, y in cea_points:
            drawing.add(_rect(x - 1.5, y - 1.5, 3, 3, fillColor=CEA_COLOUR, strokeColor=None))

    if timeline.as_of is not None and axis.start <= timeline.as_of <= axis.end:
        x = x_of(timeline.as_of)
        drawing.add(
            _line(
                x,
                plot_bottom,
                x,
                plot_top,
                strokeColor=colors.HexColor("#c62828"),
                strokeWidth=0.6,
                strokeDashArray=[3, 2],
            )
        )
        drawing.add(
            _text(
                x - 1.5,
                plot_top - 7,
                "as of",
                size=6,
                colour=colors.HexColor("#c62828"),
                anchor="end",
            )
        )

    _draw_legend(drawing, legend_rows, legend_y)
    return drawing


class Chart(Drawing):  # type: ignore[misc]
    """The timeline's Drawing, drawn by `_operators` — the PDF operators reportlab's renderer
    writes for its rectangles, lines, polygons, circles and strings, without the renderer's
    per-shape state machinery (a chart has hundreds of shapes).  Anything else it holds is
    drawn by reportlab's renderer."""

    def draw(self, showBoundary: Any = None) -> None:
        code = _operators(self.canv, self)
        if code is None:
            super().draw()
        else:
            self.canv.addLiteral(code)


_PAINT = {(False, False): "n", (True, False): "S", (False, True): "f*", (True, True): "B*"}
"""The painting operator by (stroke, fill), even-odd fill as reportlab's canvas has it."""


class _Pen:
    """The PDF graphics and text state written so far, to write only what changes."""

    def __init__(self, canvas: Canvas):
        self.canvas = canvas
        self.parts: list[str] = ["q 0 J 0 j [] 0 d"]  # renderPDF's initial state
        self.stroke_colour: Any = None
        self.fill_colour: Any = None
        self.width: float | None = None
        self.dash: Any = ()

    def fill(self, colour: Any) -> bool:
        if colour != self.fill_colour:
            code = fill_operator(colour)
            if code is None:
                return False
            self.parts.append(code)
            self.fill_colour = colour
        return True

    def stroke(self, shape: Any) -> bool:
        colour = shape.strokeColor
        if colour != self.stroke_colour:
            code = fill_operator(colour)
            if code is None:
                return False
            self.parts.append(code[:-2] + "RG")
            self.stroke_colour = colour
        if shape.strokeWidth != self.width:
            self.parts.append(f"{fp(shape.strokeWidth)} w")
            self.width = shape.strokeWidth
        dash = tuple(shape.strokeDashArray or ())
        if dash != self.dash:
            self.parts.append(f"[{' '.join(fp(d) for d in dash)}] 0 d")
            self.dash = dash
        return True


def _operators(canvas: Canvas, drawing: Drawing) -> str | None:
    """The operators that draw `drawing` (its origin at the current origin); None when it
    holds a shape, option or colour this does not write."""
    if (
        getattr(canvas, "_enforceColorSpace", None) is not None
        or getattr(drawing, "renderScale", 1) != 1
        or getattr(drawing, "background", None) is not None
        or getattr(drawing, "transform", (1, 0, 0, 1, 0, 0)) != (1, 0, 0, 1, 0, 0)
    ):
        return None
    pen = _Pen(canvas)
    parts = pen.parts
    for shape in drawing.contents:
        kind = type(shape)
        options: dict[str, Any] = shape.__dict__
        if (
            options.get("fillOpacity") not in (None, 1)
            or options.get("strokeOpacity") not in (None, 1)
            or options.get("strokeLineCap")
            or options.get("strokeLineJoin")
        ):
            return None
        stroke = shape.strokeColor is not None if hasattr(shape, "strokeColor") else False
        fill = getattr(shape, "fillColor", None) is not None
        if (stroke and not pen.stroke(shape)) or (fill and not pen.fill(shape.fillColor)):
            return None
        if kind is Rect:
            if shape.rx or shape.ry:
                return None
            parts.append(
                f"n {fp(shape.x)} {fp(shape.y)} {fp(shape.width)} "
                f"{fp(shape.height)} re {_PAINT[stroke, fill]}"
            )
        elif kind is Line:
            if stroke:
                parts.append(f"n {fp(shape.x1)} {fp(shape.y1)} m {fp(shape.x2)} {fp(shape.y2)} l S")
        elif kind in (Polygon, PolyLine):
            points = shape.points
            if len(points) < 4 or (kind is PolyLine and not stroke):
                continue
            path = [f"n {fp(points[0])} {fp(points[1])} m"]
            path += [f"{fp(points[i])} {fp(points[i + 1])} l" for i in range(2, len(points), 2)]
            if kind is Polygon:
                path.append("h")
                path.append(_PAINT[stroke, fill])
            else:
                path.append("S")
            parts.append(" ".join(path))
        elif kind is Circle:
            r = shape.r
            curves = bezierArc(shape.cx - r, shape.cy - r, shape.cx + r, shape.cy + r, 0, 360)
            path = [f"n {fp(curves[0][0])} {fp(curves[0][1])} m"]
            path += [" ".join(fp(c) for c in curve[2:]) + " c" for curve in curves]
            path.append(_PAINT[stroke, fill])
            parts.append(" ".join(path))
        elif kind is String:
            if not fill or options.get("textRenderMode"):
                continue
            x = shape.x
            if shape.textAnchor in ("end", "middle"):
                length = stringWidth(shape.text, shape.fontName, shape.fontSize)
                x -= length if shape.textAnchor == "end" else length * 0.5
            elif shape.textAnchor not in ("start", "inherited"):
                return None
            shown = show(canvas, shape.text, shape.fontName, shape.fontSize)
            if shown is None:
                return None
            parts.append(f"BT 1 0 0 1 {fp(x)} {fp(shape.y)} Tm {shown} ET")
        else:
            return None  # a Group, Path, Image …: reportlab's renderer
    parts.append("Q")
    return " ".join(parts)


def _events(timeline: Timeline) -> list[tuple[date, str, str]]:
    """(date, kind, label) of every flagged event, in date order."""
    events: list[tuple[date, str, str]] = []
    events += [(m.date, "milestone", m.short_label) for m in timeline.milestones]
    events += [(p.date, "procedure", p.short_label) for p in timeline.procedures]
    events += [
        (r.date, "review", "Board" + ("" if r.signed else " (draft)")) for r in timeline.reviews
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _value_axis(
    drawing: Drawing,
    x: float,
    bottom: float,
    height: float,
    top_value: float,
    unit: str,
    colour: colors.Color,
    *,
    side: str,
) -> None:
    """Four labelled ticks from 0 to `top_value` on one side of the plot."""
    sign = -1 if side == "left" else 1
    anchor = "end" if side == "left" else "start"
    for i in range(5):
        value = top_value * i / 4
        y = bottom + height * i / 4
        drawing.add(_line(x, y, x + 2.5 * sign, y, strokeColor=colour, strokeWidth=0.5))
        text = f"{value:g}"
        drawing.add(_text(x + 4 * sign, y - 2, text, colour=colour, anchor=anchor))
    drawing.add(
        _text(x + 4 * sign, bottom + height + 6, unit, colour=colour, anchor=anchor, bold=True)
    )


LegendItem = tuple[str, str, colors.Color]
"""(shape, label, colour): shape is `bar`, `cap`, `diamond`, `line`, `dashed`, `square`."""


def _legend_items(timeline: Timeline) -> list[LegendItem]:
    items: list[LegendItem] = []
    for i, regimen in enumerate(timeline.regimens):
        items.append(("bar", value_label(regimen), REGIMEN_PALETTE[i % len(REGIMEN_PALETTE)]))
    biologics = sorted({m.biologic for m in timeline.chemotherapy if m.biologic})
    if biologics:
        items.append(
            (
                "cap",
                "with " + ", ".join(value_label(b) for b in biologics).lower()
                if len(biologics) < 3
                else "biologic given",
                BIOLOGIC_COLOUR,
            )
        )
    agents = sorted({m.agent for m in timeline.immunotherapy})
    if agents:
        items.append(("diamond", ", ".join(value_label(a) for a in agents), IMMUNO_COLOUR))
    if any(m.target_sum_mm is not None for m in timeline.imaging):
        items.append(("line", "sum of target diameters (RECIST category)", SUM_COLOUR))
    if any(m.total_diameter_mm is not None for m in timeline.imaging):
        items.append(("dashed", "sum of all lesions", colors.HexColor("#9aa5ad")))
    if timeline.cea:
        items.append(("square", "CEA ng/mL (right axis)", CEA_COLOUR))
    return items


def _legend_layout(items: list[LegendItem], width: float) -> list[list[tuple[float, LegendItem]]]:
    rows: list[list[tuple[float, LegendItem]]] = [[]] if items else []
    x = 0.0
    for item in items:
        item_width = 14 + _width(item[1]) + 10
        if x + item_width > width and rows[-1]:
            rows.append([])
            x = 0.0
        rows[-1].append((x, item))
        x += item_width
    return rows


def _draw_legend(drawing: Drawing, rows: list[list[tuple[float, LegendItem]]], y: float) -> None:
    for row in rows:
        for x, (shape, label, colour) in row:
            if shape == "bar":
                drawing.add(_rect(x, y, 10, 5, fillColor=colour, strokeColor=None))
            elif shape == "cap":
                drawing.add(
                    _rect(x, y, 10, 5, fillColor=colors.HexColor("#c8ced3"), strokeColor=None)
                )
                drawing.add(_rect(x, y + 3, 10, 2, fillColor=colour, strokeColor=None))
            elif shape == "diamond":
                drawing.add(
                    _polygon(
                        [x + 5, y - 1, x + 8, y + 2.5, x + 5, y + 6, x + 2, y + 2.5],
                        fillColor=colour,
                        strokeColor=None,
                    )
                )
            elif shape in ("line", "dashed"):
                dash = [2, 1.5] if shape == "dashed" else None
                drawing.add(
                    _line(
                        x,
                        y + 2.5,
                        x + 10,
                        y + 2.5,
                        strokeColor=colour,
                        strokeWidth=1.2,
                        strokeDashArray=dash,
                    )
                )
                if shape == "line":
                    drawing.add(_circle(x + 5, y + 2.5, 2, fillColor=colour, strokeColor=None))
                else:
                    drawing.add(
                        _circle(
                            x + 5,
                            y + 2.5,
                            1.6,
                            fillColor=colors.white,
                            strokeColor=colour,
                            strokeWidth=0.7,
                        )
                    )
            elif shape == "square":
                drawing.add(_line(x, y + 2.5, x + 10, y + 2.5, strokeColor=colour, strokeWidth=1))
                drawing.add(_rect(x + 3.5, y + 1, 3, 3, fillColor=colour, strokeColor=None))
            drawing.add(_text(x + 14, y + 0.5, label, colour=INK))
        y -= 10
